import { createRequire } from 'node:module';
import { RecorderError } from './errors.js';

export type NativeAddon = typeof import('@skbtrail/native');
export type { BtfSkbFunc, Handle, NativeProbe, TcProgram } from '@skbtrail/native';

const require = createRequire(import.meta.url);

/** Loaded lazily so `skbtrail record --help` and usage errors work without the addon. */
export function loadNative(): NativeAddon {
  try {
    return require('@skbtrail/native') as NativeAddon;
  } catch (err) {
    throw new RecorderError(
      'NATIVE_MISSING',
      'the native recorder is not built — run scripts/install-system-deps (clang, libbpf-dev, bpftool, ...) then `npm run build`',
      { cause: err },
    );
  }
}
