// lz4Frame: the system liblz4's frames, as the recorder's writer gets them. Needs no root.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeLz4Frame } from '../../packages/format/src/lz4.js';
import type * as Native from '../index.js';

const nativeDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const skipReason = existsSync(join(nativeDir, 'build/Release/skbtrail_native.node')) ? null : 'addon not built (npm run build -w native)';
if (skipReason && process.env.CI === 'true') throw new Error(`native tests can't run in CI: ${skipReason}`);
const native = skipReason ? null : (createRequire(import.meta.url)(join(nativeDir, 'index.cjs')) as typeof Native);

describe.skipIf(skipReason !== null)('lz4Frame', () => {
  const data = new Uint8Array(300_000);
  for (let i = 0; i < data.length; i++) data[i] = i % 1000 < 900 ? (i * 31) & 0x3f : (i * 2654435761) >>> 24;

  it('writes one LZ4 frame that records its content size, which the lz4 CLI and the reader decode', () => {
    const frame = native!.lz4Frame(data);
    expect(Buffer.isBuffer(frame)).toBe(true);
    expect(frame.length).toBeLessThan(data.length / 2);
    expect(frame.readUInt32LE(0)).toBe(0x184d2204);
    expect(frame[4] & 0x08, 'FLG content-size bit').toBe(0x08);
    expect(Number(frame.readBigUInt64LE(6))).toBe(data.length);
    expect(execFileSync('lz4', ['-d', '-c'], { input: frame }).equals(Buffer.from(data))).toBe(true);
    const out = new Uint8Array(data.length);
    expect(decodeLz4Frame(frame, out)).toBe(data.length);
    expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);
  });

  it('compresses views and empty input', () => {
    const view = data.subarray(1000, 5000);
    const out = new Uint8Array(view.length);
    expect(decodeLz4Frame(native!.lz4Frame(view), out)).toBe(view.length);
    expect(Buffer.from(out).equals(Buffer.from(view))).toBe(true);
    expect(decodeLz4Frame(native!.lz4Frame(new Uint8Array(0)), new Uint8Array(0))).toBe(0);
  });

  it('refuses what is not a Uint8Array', () => {
    expect(() => native!.lz4Frame(new Uint16Array(4) as unknown as Uint8Array)).toThrow(new TypeError('data must be a Uint8Array'));
  });
});
