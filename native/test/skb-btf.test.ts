// skbBtf(): struct sk_buff cut out of the kernel's BTF, as a standalone blob a recording can
// carry (--output-skb). The cut is closed (every type it references is in it) and stable:
// cutting the cut again gives the same bytes.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type * as Native from '../index.js';

const nativeDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = existsSync(join(nativeDir, 'build/Release/skbtrail_native.node'));
const skipReason = !built ? 'addon not built (npm run build -w native)' : !existsSync('/sys/kernel/btf/vmlinux') ? 'kernel has no BTF' : null;
if (skipReason && process.env.CI === 'true') throw new Error(`skbBtf tests can't run in CI: ${skipReason}`);
const native = (skipReason ? null : createRequire(import.meta.url)('../index.cjs')) as typeof Native;
const dir = mkdtempSync(join(tmpdir(), 'skbtrail-btf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(skipReason)('skbBtf', () => {
  it('cuts struct sk_buff and what it embeds out of the running kernel, small and self-contained', () => {
    const { btf, typeId, size } = native.skbBtf(null);
    expect(new DataView(btf.buffer, btf.byteOffset).getUint16(0, true)).toBe(0xeb9f);
    expect(btf.byteLength).toBeGreaterThan(1000);
    expect(btf.byteLength).toBeLessThan(64 * 1024); // pointed-to structs are forward declarations
    expect(typeId).toBeGreaterThan(0);
    expect(size).toBeGreaterThanOrEqual(200); // 224 on 6.18 x86-64
    expect(size).toBeLessThanOrEqual(512); // what an event carries at most (SKBTRAIL_SKB_MAX)
    // The same from the BTF file by path.
    expect(native.skbBtf('/sys/kernel/btf/vmlinux')).toEqual({ btf, typeId, size });
  });

  it('gives the same blob when it cuts its own cut: every reference was kept and renumbered', () => {
    const first = native.skbBtf(null);
    const file = join(dir, 'skb.btf');
    writeFileSync(file, first.btf);
    const again = native.skbBtf(file);
    expect(again.size).toBe(first.size);
    expect(again.typeId).toBe(first.typeId);
    expect(Buffer.from(again.btf).equals(Buffer.from(first.btf))).toBe(true);
  });

  it('throws ENOENT-like errors for a file that is not there', () => {
    expect(() => native.skbBtf(join(dir, 'missing.btf'))).toThrow(/reading BTF from .*missing\.btf failed/);
  });
});
