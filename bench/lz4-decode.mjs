#!/usr/bin/env node
// Speed of the TypeScript LZ4 frame decoder (packages/format/src/lz4.ts) on the columns of a
// compressed recording: every compressed buffer of the events stream, decoded into one reused
// buffer, best of --runs passes. MB/s of decoded output, per column and overall; JSON on stdout.
//   node bench/lz4-decode.mjs FILE.skbtrail [--runs 5]
import { readFileSync } from 'node:fs';
import { decodeMessage } from '../packages/format/dist/flatmessage.js';
import { decodeLz4Frame } from '../packages/format/dist/lz4.js';

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 5;
const [file] = args;
if (!file) {
  console.error('usage: node bench/lz4-decode.mjs FILE.skbtrail [--runs 5]');
  process.exit(2);
}

const bytes = new Uint8Array(readFileSync(file));
const view = new DataView(bytes.buffer);
/** compressed buffers of the events stream's record batches, by column name */
const frames = new Map();
let names = [];
for (let at = 0; at + 8 <= bytes.length; ) {
  const metadataLength = view.getInt32(at + 4, true);
  if (metadataLength === 0) break;
  const message = decodeMessage(bytes.subarray(at + 8, at + 8 + metadataLength));
  const body = at + 8 + metadataLength;
  if (message.schema) names = message.schema.fields.flatMap((f) => (f.name === 'headers' ? ['', 'headers.offsets', 'headers'] : ['', f.name]));
  const batch = message.recordBatch;
  batch?.buffers.forEach((b, i) => {
    if (!batch.compression || b.length === 0 || view.getBigInt64(body + b.offset, true) === -1n) return;
    const list = frames.get(names[i]) ?? [];
    list.push({ frame: bytes.subarray(body + b.offset + 8, body + b.offset + b.length), size: Number(view.getBigInt64(body + b.offset, true)) });
    frames.set(names[i], list);
  });
  at = body + message.bodyLength;
}
if (frames.size === 0) {
  console.error(`${file}: no LZ4_FRAME-compressed buffers in its events stream`);
  process.exit(1);
}

const out = new Uint8Array(Math.max(...[...frames.values()].flat().map((f) => f.size)));
const result = { file, runs, columns: {} };
let totalBytes = 0;
let totalSeconds = 0;
for (const [name, list] of frames) {
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (const { frame, size } of list) if (decodeLz4Frame(frame, out) !== size) throw new Error(`${name}: wrong size`);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  const decoded = list.reduce((n, f) => n + f.size, 0);
  const compressed = list.reduce((n, f) => n + f.frame.length + 8, 0);
  totalBytes += decoded;
  totalSeconds += best;
  result.columns[name] = { MB: +(decoded / 1e6).toFixed(1), ratio: +(decoded / compressed).toFixed(1), MBps: Math.round(decoded / 1e6 / best) };
}
result.total = { MB: +(totalBytes / 1e6).toFixed(1), seconds: +totalSeconds.toFixed(3), MBps: Math.round(totalBytes / 1e6 / totalSeconds) };
console.log(JSON.stringify(result, null, 2));
console.error(`lz4 decode: ${result.total.MB} MB in ${result.total.seconds} s = ${result.total.MBps} MB/s`);
