// LZ4 frame decoder, written from the LZ4 Frame Format and LZ4 Block Format specifications
// (github.com/lz4/lz4, doc/lz4_Frame_format.md and doc/lz4_Block_format.md). Arrow IPC body
// compression (LZ4_FRAME) stores each buffer as one frame. Pure TypeScript and no Arrow, so the
// on-demand reader can use it; it decodes into the caller's buffer and allocates nothing but
// the views that copy long literals and stored blocks.

const FRAME_MAGIC = 0x184d2204;
/** skippable frames: 0x184D2A50 to 0x184D2A5F */
const SKIPPABLE_MAGIC = 0x184d2a50;
const MIN_MATCH = 4;
/** block maximum size by the BD byte's id (4: 64 KB ... 7: 4 MB); lower ids are reserved */
const BLOCK_MAX_SIZE = [0, 0, 0, 0, 1 << 16, 1 << 18, 1 << 20, 1 << 22];
/** a match's length can grow by 255 per input byte (extension bytes): no block decodes to more */
const MAX_EXPANSION = 255;
// Below these lengths a byte loop beats the call into set()/copyWithin().
const LONG_LITERALS = 32;
const LONG_MATCH = 32;

function fail(what: string): never {
  throw new Error(`LZ4 frame: ${what}`);
}

function u32(src: Uint8Array, at: number): number {
  return (src[at] | (src[at + 1] << 8) | (src[at + 2] << 16) | (src[at + 3] << 24)) >>> 0;
}

interface FrameHeader {
  independent: boolean;
  blockChecksum: boolean;
  contentChecksum: boolean;
  /** -1: not recorded */
  contentSize: number;
  blockMaxSize: number;
  /** offset of the first block */
  blocks: number;
}

/** The header of the frame at `at` (its magic already checked). */
function frameHeader(src: Uint8Array, at: number): FrameHeader {
  if (at + 7 > src.length) fail('truncated frame header');
  const flg = src[at + 4];
  const bd = src[at + 5];
  if (flg >> 6 !== 1) fail(`unsupported frame version ${flg >> 6}`);
  if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) fail('reserved header bits are set');
  if ((flg & 0x01) !== 0) fail('the frame needs a dictionary, which Arrow never uses');
  const blockMaxSize = BLOCK_MAX_SIZE[(bd >> 4) & 7];
  if (blockMaxSize === 0) fail(`reserved block size id ${(bd >> 4) & 7}`);
  let next = at + 6;
  let contentSize = -1;
  if ((flg & 0x08) !== 0) {
    if (next + 8 > src.length) fail('truncated frame header');
    contentSize = u32(src, next) + u32(src, next + 4) * 0x100000000;
    next += 8;
  }
  return {
    independent: (flg & 0x20) !== 0,
    blockChecksum: (flg & 0x10) !== 0,
    contentChecksum: (flg & 0x04) !== 0,
    contentSize,
    blockMaxSize,
    blocks: next + 1, // past the header checksum byte (not verified)
  };
}

/**
 * Decodes one compressed block, src[p, end), to dst at o; back-references may reach down to
 * `lowest` (the frame's start for linked blocks, the block's own start for independent ones).
 * Returns the output position after the block.
 */
function decodeBlock(src: Uint8Array, p: number, end: number, dst: Uint8Array, o: number, lowest: number): number {
  const capacity = dst.length;
  for (;;) {
    if (p >= end) fail('truncated block (no final literals)');
    const token = src[p++];
    let literals = token >>> 4;
    if (literals === 15) {
      let more;
      do {
        if (p >= end) fail('truncated literal length');
        more = src[p++];
        literals += more;
      } while (more === 255);
    }
    if (literals > 0) {
      if (p + literals > end) fail('literals run past the end of their block');
      if (o + literals > capacity) fail(`output overflow: more than ${capacity} bytes`);
      if (literals >= LONG_LITERALS) {
        dst.set(src.subarray(p, p + literals), o);
        o += literals;
        p += literals;
      } else {
        for (const stop = p + literals; p < stop; ) dst[o++] = src[p++];
      }
    }
    if (p === end) return o; // the last sequence is literals only
    if (p + 2 > end) fail('truncated match offset');
    const offset = src[p] | (src[p + 1] << 8);
    p += 2;
    let m = o - offset;
    if (offset === 0 || m < lowest) fail(`match offset ${offset} points before the start of the output`);
    let length = token & 15;
    if (length === 15) {
      let more;
      do {
        if (p >= end) fail('truncated match length');
        more = src[p++];
        length += more;
      } while (more === 255);
    }
    length += MIN_MATCH;
    if (o + length > capacity) fail(`output overflow: more than ${capacity} bytes`);
    if (length >= LONG_MATCH) {
      // An overlapping match repeats dst[m, o): copy what is written so far, doubling, so no
      // copy overlaps its source (the first copy is the `offset` bytes up to o).
      for (let done = 0; done < length; ) {
        const n = Math.min(o + done - m, length - done);
        dst.copyWithin(o + done, m, m + n);
        done += n;
      }
      o += length;
    } else {
      for (const stop = o + length; o < stop; ) dst[o++] = dst[m++];
    }
  }
}

/**
 * Decodes the LZ4 frame in src (or frames, back to back; skippable frames are skipped) into
 * dst from its start. Returns the bytes written; throws an Error saying what is wrong when src
 * is malformed or dst too small. Block and content checksums are not verified.
 */
export function decodeLz4Frame(src: Uint8Array, dst: Uint8Array): number {
  const n = src.length;
  if (n === 0) fail('empty input');
  let p = 0;
  let o = 0;
  while (p < n) {
    if (p + 4 > n) fail('truncated frame header');
    const magic = u32(src, p);
    if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_MAGIC) {
      if (p + 8 > n) fail('truncated skippable frame');
      p += 8 + u32(src, p + 4);
      if (p > n) fail('truncated skippable frame');
      continue;
    }
    if (magic !== FRAME_MAGIC) fail(`bad magic number 0x${magic.toString(16)} at byte ${p}`);
    const frame = frameHeader(src, p);
    const start = o;
    p = frame.blocks;
    for (;;) {
      if (p + 4 > n) fail('truncated: the frame has no end mark');
      const word = u32(src, p);
      p += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (size > frame.blockMaxSize) fail(`a block of ${size} bytes exceeds the frame's maximum of ${frame.blockMaxSize}`);
      const end = p + size;
      if (end > n) fail('truncated block');
      if (word !== size) {
        // high bit set: the block is stored uncompressed
        if (o + size > dst.length) fail(`output overflow: more than ${dst.length} bytes`);
        dst.set(src.subarray(p, end), o);
        o += size;
      } else {
        o = decodeBlock(src, p, end, dst, o, frame.independent ? o : start);
      }
      p = end + (frame.blockChecksum ? 4 : 0);
    }
    if (frame.contentChecksum) p += 4;
    if (p > n) fail('truncated content checksum');
    if (frame.contentSize >= 0 && o - start !== frame.contentSize) {
      fail(`decoded ${o - start} bytes where the frame header says ${frame.contentSize}`);
    }
  }
  return o;
}

/**
 * An upper bound of what src decodes to, from its headers only: each block's maximum (stored
 * blocks: their size), or the recorded content size when smaller. For callers that allocate.
 * Throws as decodeLz4Frame does on a malformed frame header; other damage is left to it.
 */
export function lz4FrameDecodedBound(src: Uint8Array): number {
  const n = src.length;
  let p = 0;
  let bound = 0;
  while (p + 4 <= n) {
    const magic = u32(src, p);
    if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_MAGIC) {
      p += 8 + (p + 8 <= n ? u32(src, p + 4) : 0);
      continue;
    }
    if (magic !== FRAME_MAGIC) fail(`bad magic number 0x${magic.toString(16)} at byte ${p}`);
    const frame = frameHeader(src, p);
    let blocks = 0;
    for (p = frame.blocks; p + 4 <= n; ) {
      const word = u32(src, p);
      p += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      blocks += word !== size ? size : Math.min(frame.blockMaxSize, size * MAX_EXPANSION);
      p += size + (frame.blockChecksum ? 4 : 0);
    }
    bound += frame.contentSize >= 0 ? Math.min(frame.contentSize, blocks) : blocks;
    if (frame.contentChecksum) p += 4;
  }
  return bound;
}

/** The decoded bytes of src in a fresh buffer (the Arrow codec's decode). */
export function decodeLz4FrameToNew(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(lz4FrameDecodedBound(src));
  return out.subarray(0, decodeLz4Frame(src, out));
}
