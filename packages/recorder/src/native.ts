import { createRequire } from 'node:module';
import type { EventColumns } from '@skbtrail/format';
import { RecorderError } from './errors.js';

/** The addon's surface as the recorder uses it (declared by native/index.d.ts). */
export interface NativeProbe {
  id: number;
  name: string;
  program: string;
  target: string;
}

export interface NativeAddon {
  objectPath: string;
  probes(): NativeProbe[];
  open(objPath: string, opts: { snaplen: number; outputStack: boolean; ringbufBytes?: number }): unknown;
  setAutoload(handle: unknown, program: string, on: boolean): void;
  load(handle: unknown): void;
  attach(handle: unknown, program: string): void;
  start(handle: unknown, onBatch: (batch: EventColumns) => void, opts?: { maxBatchEvents?: number; maxBatchMs?: number }): void;
  stop(handle: unknown): Promise<void>;
  lost(handle: unknown): number[];
  stacks(handle: unknown, ids: Int32Array): BigUint64Array[];
  btfEnum(btfPath: string | null, enumName: string): { name: string; value: number }[];
  close(handle: unknown): void;
}

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
