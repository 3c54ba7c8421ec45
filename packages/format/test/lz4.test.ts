// The LZ4 frame decoder against frames made by the reference implementation (the lz4 CLI),
// in every frame layout the CLI can write, and against malformed input.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeLz4Frame, decodeLz4FrameToNew, lz4FrameDecodedBound } from '../src/lz4.js';

const haveCli = spawnSync('lz4', ['--version'], { stdio: 'ignore' }).status === 0;
if (!haveCli && process.env.CI === 'true') throw new Error('the lz4 CLI is missing: run scripts/install-system-deps');
const dir = mkdtempSync(join(tmpdir(), 'skbtrail-lz4-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic pseudo-random bytes (xorshift32). */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Like a column of a recording: runs, repeated records with small changes, some noise. */
function repetitiveBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  const noise = randomBytes(n, seed);
  const record = randomBytes(61, seed + 1);
  for (let i = 0; i < n; i++) out[i] = i % 4096 < 300 ? 0 : noise[i] < 16 ? noise[i] : record[i % 61] ^ ((i >> 12) & 3);
  return out;
}

let made = 0;
/** data compressed by `lz4 FLAGS` (a file input, so --content-size can be honoured). */
function lz4Cli(data: Uint8Array, flags: string[]): Uint8Array {
  const input = join(dir, `in-${made}`);
  const output = join(dir, `out-${made++}.lz4`);
  writeFileSync(input, data);
  execFileSync('lz4', ['-q', '-f', ...flags, input, output]);
  return new Uint8Array(readFileSync(output));
}

function decode(frame: Uint8Array, capacity: number): Uint8Array {
  const out = new Uint8Array(capacity);
  return out.subarray(0, decodeLz4Frame(frame, out));
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe.skipIf(!haveCli)('decodeLz4Frame on frames of the lz4 CLI', () => {
  const inputs: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['1 byte', Uint8Array.of(42)],
    ['zeros', new Uint8Array(100_000)],
    ['random 70 KB', randomBytes(70_000, 7)],
    ['repetitive 300 KB', repetitiveBytes(300_000, 11)],
    ['repetitive 4.5 MB', repetitiveBytes(4_500_000, 13)],
    ['random 4.5 MB', randomBytes(4_500_000, 17)],
  ];
  const layouts = [
    [],
    ['-BD'],
    ['-B4'],
    ['-B4', '-BD'],
    ['-B5', '-BX'],
    ['-B6', '--content-size'],
    ['-B7', '-BD', '--content-size', '-BX'],
    ['--no-frame-crc'],
    ['-B4', '-BD', '--no-frame-crc', '-9'],
  ];

  for (const [name, data] of inputs) {
    it(`decodes ${name} in every layout`, () => {
      for (const flags of layouts) {
        const frame = lz4Cli(data, flags);
        const got = decode(frame, data.length);
        expect(same(got, data), `${name} ${flags.join(' ')}`).toBe(true);
        expect(lz4FrameDecodedBound(frame)).toBeGreaterThanOrEqual(data.length);
        expect(same(decodeLz4FrameToNew(frame), data)).toBe(true);
      }
    });
  }

  it('copies stored (incompressible) blocks as they are', () => {
    const data = randomBytes(200_000, 23);
    const frame = lz4Cli(data, ['-B4']);
    const firstBlock = new DataView(frame.buffer, frame.byteOffset).getUint32(7, true);
    expect(firstBlock >>> 31, 'the first block is stored').toBe(1);
    expect(same(decode(frame, data.length), data)).toBe(true);
  });

  it('decodes concatenated frames and skips skippable frames', () => {
    const a = repetitiveBytes(10_000, 29);
    const b = randomBytes(5_000, 31);
    const skippable = Uint8Array.of(0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3);
    const frames = Buffer.concat([lz4Cli(a, []), skippable, lz4Cli(b, ['--content-size'])]);
    expect(same(decode(frames, a.length + b.length), Buffer.concat([a, b]))).toBe(true);
  });

  it('refuses an output buffer too small', () => {
    const data = repetitiveBytes(50_000, 37);
    const frame = lz4Cli(data, []);
    expect(() => decode(frame, data.length - 1)).toThrow(/^LZ4 frame: output overflow: more than 49999 bytes$/);
  });

  it('refuses every truncation of a frame', () => {
    const data = repetitiveBytes(20_000, 41);
    for (const flags of [[], ['-BX', '--content-size']]) {
      const frame = lz4Cli(data, flags);
      for (let cut = 0; cut < frame.length; cut++) {
        expect(() => decode(frame.subarray(0, cut), data.length), `cut at ${cut}`).toThrow(/^LZ4 frame: (truncated|empty input)/);
      }
    }
  });

  it('throws only its own errors on damaged frames', () => {
    const data = repetitiveBytes(20_000, 43);
    const frame = lz4Cli(data, ['--content-size']);
    const noise = randomBytes(4000, 47);
    for (let k = 0; k < 2000; k++) {
      const damaged = frame.slice();
      damaged[((noise[2 * k] << 8) | noise[2 * k + 1]) % frame.length] ^= 1 << (k % 8);
      try {
        decode(damaged, data.length);
      } catch (err) {
        expect((err as Error).message).toMatch(/^LZ4 frame: /);
      }
    }
  });
});

describe('decodeLz4Frame on malformed frames', () => {
  /** A frame header (linked blocks, 64 KB, no content size) followed by `blocks` and an end mark. */
  const frameOf = (...blocks: number[][]): Uint8Array => {
    const out = [0x04, 0x22, 0x4d, 0x18, 0x40, 0x40, 0xc0];
    for (const block of blocks) out.push(block.length & 0xff, block.length >> 8, 0, 0, ...block);
    return Uint8Array.from([...out, 0, 0, 0, 0]);
  };

  it('decodes a hand-made frame: literals, an overlapping match, and a match into the previous (linked) block', () => {
    // "abc" then a match of 9 at offset 3; next block: "x" then a match of 4 at offset 5 (back into block 1)
    const frame = frameOf([0x35, 0x61, 0x62, 0x63, 3, 0, 0x00], [0x10, 0x78, 5, 0, 0x00]);
    expect(new TextDecoder().decode(decode(frame, 100))).toBe('abcabcabcabcxcabc');
  });

  it('refuses a bad magic number, version, dictionary and reserved bits', () => {
    expect(() => decode(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), 10)).toThrow('LZ4 frame: bad magic number 0x4030201 at byte 0');
    const header = (flg: number, bd: number) => Uint8Array.of(0x04, 0x22, 0x4d, 0x18, flg, bd, 0, 0, 0, 0, 0);
    expect(() => decode(header(0x80, 0x40), 10)).toThrow('LZ4 frame: unsupported frame version 2');
    expect(() => decode(header(0x41, 0x40), 10)).toThrow(/needs a dictionary/);
    expect(() => decode(header(0x42, 0x40), 10)).toThrow(/reserved header bits/);
    expect(() => decode(header(0x40, 0x30), 10)).toThrow(/reserved block size id 3/);
  });

  it('refuses a match that reaches before the start of the output', () => {
    expect(() => decode(frameOf([0x10, 0x61, 2, 0, 0x00]), 100)).toThrow('LZ4 frame: match offset 2 points before the start of the output');
    expect(() => decode(frameOf([0x10, 0x61, 0, 0, 0x00]), 100)).toThrow(/match offset 0/);
  });

  it('refuses a match into the previous block when blocks are independent', () => {
    const frame = frameOf([0x30, 0x61, 0x62, 0x63], [0x10, 0x78, 3, 0, 0x00]);
    frame[4] |= 0x20; // B.Indep (the header checksum is not verified)
    expect(() => decode(frame, 100)).toThrow(/points before the start of the output/);
  });

  it('refuses a block larger than the frame allows, literals past their block, a wrong content size', () => {
    const big = Uint8Array.of(0x04, 0x22, 0x4d, 0x18, 0x40, 0x40, 0, 0x01, 0x00, 0x01, 0x00);
    expect(() => decode(big, 10)).toThrow(/a block of 65537 bytes exceeds the frame's maximum of 65536/);
    expect(() => decode(frameOf([0x50, 0x61]), 100)).toThrow('LZ4 frame: literals run past the end of their block');
    const sized = Uint8Array.of(0x04, 0x22, 0x4d, 0x18, 0x48, 0x40, 5, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0x10, 0x61, 0, 0, 0, 0);
    expect(() => decode(sized, 100)).toThrow('LZ4 frame: decoded 1 bytes where the frame header says 5');
  });
});
