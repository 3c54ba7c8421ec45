import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FormatError } from './errors.js';

const READ_CHUNK = 1 << 30;

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * The whole file in a fresh buffer at offset 0, so IPC bodies (8-byte aligned in the file)
 * stay aligned and Arrow can view the columns in place instead of copying them.
 */
export function readWholeFile(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new FormatError('NOT_FOUND', `${path}: no such file`, { cause: err });
    throw new FormatError('UNREADABLE', `cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const size = fstatSync(fd).size;
    const bytes = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, bytes, at, Math.min(size - at, READ_CHUNK), at);
      if (n === 0) break;
      at += n;
    }
    return bytes.subarray(0, at);
  } catch (err) {
    throw new FormatError('UNREADABLE', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    closeSync(fd);
  }
}
