// Aligns two hop sequences like diff does: a longest common subsequence of hop keys, then the
// hops of each side that are not in it, in order.

export interface Aligned {
  /** ' ' in both, '-' only in a, '+' only in b */
  op: ' ' | '-' | '+';
  a: number | null;
  b: number | null;
}

/** Above this many table cells the common prefix and suffix are kept and the middle is not aligned. */
const MAX_CELLS = 16_000_000;

export function align(a: string[], b: string[]): Aligned[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const out: Aligned[] = [];
  for (let i = 0; i < start; i++) out.push({ op: ' ', a: i, b: i });
  out.push(...alignMiddle(a, b, start, endA, start, endB));
  for (let i = 0; endA + i < a.length; i++) out.push({ op: ' ', a: endA + i, b: endB + i });
  return out;
}

function alignMiddle(a: string[], b: string[], a0: number, a1: number, b0: number, b1: number): Aligned[] {
  const n = a1 - a0;
  const m = b1 - b0;
  const out: Aligned[] = [];
  if (n * m > MAX_CELLS || n === 0 || m === 0) {
    for (let i = a0; i < a1; i++) out.push({ op: '-', a: i, b: null });
    for (let j = b0; j < b1; j++) out.push({ op: '+', a: null, b: j });
    return out;
  }
  // lcs[i][j]: common subsequence length of a[a0 + i..] and b[b0 + j..]
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] = a[a0 + i] === b[b0 + j] ? lcs[(i + 1) * width + j + 1] + 1 : Math.max(lcs[(i + 1) * width + j], lcs[i * width + j + 1]);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[a0 + i] === b[b0 + j]) {
      out.push({ op: ' ', a: a0 + i++, b: b0 + j++ });
    } else if (lcs[(i + 1) * width + j] >= lcs[i * width + j + 1]) {
      out.push({ op: '-', a: a0 + i++, b: null });
    } else {
      out.push({ op: '+', a: null, b: b0 + j++ });
    }
  }
  for (; i < n; i++) out.push({ op: '-', a: a0 + i, b: null });
  for (; j < m; j++) out.push({ op: '+', a: null, b: b0 + j });
  return out;
}
