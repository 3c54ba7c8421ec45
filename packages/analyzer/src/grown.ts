// Typed arrays that grow by doubling: the passes keep per-slot and per-row state in them.

type Growable = Uint8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float64Array;

/** `a` if it holds n elements, else a copy at least twice as long. */
export function grown<T extends Growable>(a: T, n: number): T {
  if (a.length >= n) return a;
  const b = new (a.constructor as { new (n: number): T })(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}
