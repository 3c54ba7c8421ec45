// How the recorder picks a backend, numbers its probes and attaches kernel functions, with the
// kernel's answers stubbed: no root, no addon needed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { attachFuncs } from '../src/attach.js';
import { chooseBackend, selectTracepoints, type ChoiceInput } from '../src/backend.js';
import { RecorderError } from '../src/errors.js';
import { addressesOf } from '../src/kallsyms.js';
import { funcProbeTable, planProbes } from '../src/plan.js';
import { parseFilterFunctions } from '../src/tracefs.js';
import type { Handle, NativeAddon, NativeProbe } from '../src/native.js';

const OK = { ok: true, errno: 0, error: '' };
const NO_FPROBE = { ok: false, errno: 95, error: 'creating a kprobe-multi link: Operation not supported' };
const NO_KPROBES = { ok: false, errno: 2, error: 'no kprobe perf PMU' };
const LOCKDOWN = { ok: false, errno: 1, error: 'loading an fentry program: Operation not permitted' };

const kernel = (verdicts: Partial<Record<'kprobe-multi' | 'kprobe' | 'fentry', typeof OK>>, rest: Partial<ChoiceInput> = {}): ChoiceInput => ({
  probe: (kind) => verdicts[kind] ?? OK,
  funcCount: 1500,
  ...rest,
});

const errorOf = (f: () => unknown): RecorderError => {
  try {
    f();
  } catch (err) {
    return err as RecorderError;
  }
  throw new Error('expected an error');
};

describe('choosing a backend', () => {
  it('takes kprobe-multi when the kernel attaches its links', () => {
    const choice = chooseBackend('auto', kernel({}));
    expect(choice.backend).toBe('kprobe-multi');
    expect(choice.reason).toBe('auto chose kprobe-multi for 1500 functions taking an skb: the kernel has kprobe-multi links (CONFIG_FPROBE, Linux 5.18+)');
  });

  it('falls back to kprobes on a kernel without fprobe (Debian 6.1), and says why', () => {
    const choice = chooseBackend('auto', kernel({ 'kprobe-multi': NO_FPROBE }));
    expect(choice).toEqual({
      backend: 'kprobe',
      reason: 'auto chose kprobe for 1500 functions taking an skb: no kprobe-multi (creating a kprobe-multi link: Operation not supported); kprobe works',
    });
  });

  it('tries fentry only for a --filter-func selection, then tracepoints', () => {
    const noKprobes = { 'kprobe-multi': NO_FPROBE, kprobe: NO_KPROBES };
    expect(chooseBackend('auto', kernel(noKprobes)).backend).toBe('tracepoint');
    expect(chooseBackend('auto', kernel(noKprobes, { filterFunc: /^ip_rcv$/ })).backend).toBe('fentry');
    const none = chooseBackend('auto', kernel({ ...noKprobes, fentry: LOCKDOWN }, { filterFunc: /^ip_rcv$/ }));
    expect(none.backend).toBe('tracepoint');
    expect(none.reason).toContain('no fentry (loading an fentry program: Operation not permitted)');
  });

  it('refuses a requested backend the kernel lacks, naming the feature and what works (exit 1)', () => {
    const err = errorOf(() => chooseBackend('kprobe-multi', kernel({ 'kprobe-multi': NO_FPROBE, fentry: LOCKDOWN })));
    expect(err.code).toBe('KERNEL_FEATURE');
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe(
      '--backend kprobe-multi needs kprobe-multi links (CONFIG_FPROBE, Linux 5.18+), which this kernel refuses ' +
        '(creating a kprobe-multi link: Operation not supported) — backends that work here: kprobe, tracepoint',
    );
  });

  it('wants a --filter-func selection for fentry, and functions to attach to (usage, exit 2)', () => {
    expect(errorOf(() => chooseBackend('fentry', kernel({}))).exitCode).toBe(2);
    const none = errorOf(() => chooseBackend('kprobe', kernel({}, { funcCount: 0, filterFunc: /^nope$/ })));
    expect(none.exitCode).toBe(2);
    expect(none.message).toContain('--filter-func /^nope$/ matches no kernel function taking an skb');
  });

  it('keeps kfree_skb and consume_skb alongside kernel functions, so drops keep their reason', () => {
    const table = ['kfree_skb', 'consume_skb', 'net_dev_queue'].map((name, id) => ({ id, name, program: `tp_${name}`, target: `x:${name}` }));
    expect(selectTracepoints('kprobe', table).map((p) => p.name)).toEqual(['kfree_skb', 'consume_skb']);
    expect(selectTracepoints('tracepoint', table, /net_/).map((p) => p.name)).toEqual(['net_dev_queue']);
  });
});

const TRACEPOINTS: NativeProbe[] = [
  { id: 0, name: 'kfree_skb', program: 'tp_kfree_skb', target: 'skb:kfree_skb' },
  { id: 1, name: 'consume_skb', program: 'tp_consume_skb', target: 'skb:consume_skb' },
];
const FUNCS = [
  { name: 'ip_rcv', skbArg: 1, module: null, ret: -4 },
  { name: 'ip_output', skbArg: 3, module: null, ret: -4 },
  { name: 'veth_xmit', skbArg: 1, module: 'veth', ret: -4 },
];

describe('numbering probes', () => {
  it('keeps the tracepoint ids and numbers functions after them, densely', () => {
    const plan = planProbes('kprobe-multi', TRACEPOINTS, FUNCS);
    expect(plan.probes.map((p) => [p.id, p.name, p.kind, p.target])).toEqual([
      [0, 'kfree_skb', 'tracepoint', 'skb:kfree_skb'],
      [1, 'consume_skb', 'tracepoint', 'skb:consume_skb'],
      [2, 'ip_rcv', 'kprobe', 'ip_rcv'],
      [3, 'ip_output', 'kprobe', 'ip_output'],
      [4, 'veth_xmit', 'kprobe', 'veth:veth_xmit'],
    ]);
    expect([...plan.programs].sort()).toEqual(['kprobe_multi_skb_1', 'kprobe_multi_skb_3']);
  });

  it('gives each fentry function two ids, fentry then fexit', () => {
    const plan = planProbes('fentry', TRACEPOINTS, FUNCS.slice(0, 2));
    expect(plan.probes.slice(2).map((p) => `${p.id}:${p.kind}:${p.name}`)).toEqual(['2:fentry:ip_rcv', '3:fexit:ip_rcv', '4:fentry:ip_output', '5:fexit:ip_output']);
    expect(plan.funcs.map((f) => f.id)).toEqual([2, 4]);
    expect([...plan.programs].sort()).toEqual(['fentry_skb_1', 'fentry_skb_3', 'fexit_skb_1', 'fexit_skb_3']);
  });

  it('gives no fexit to the functions whose return address is the drop location', () => {
    const plan = planProbes('fentry', TRACEPOINTS, [{ name: 'kfree_skb_reason', skbArg: 1, module: null, ret: 0 }, FUNCS[0]]);
    expect(plan.probes.slice(2).map((p) => `${p.id}:${p.kind}:${p.name}`)).toEqual(['2:fentry:kfree_skb_reason', '3:fentry:ip_rcv', '4:fexit:ip_rcv']);
    expect(plan.funcs.map((f) => f.fexit)).toEqual([false, true]);
  });

  it('maps every address of a function to its probe id (a static function can have several)', () => {
    const plan = planProbes('kprobe', TRACEPOINTS, FUNCS.slice(0, 2));
    const table = funcProbeTable(plan, new Map([['ip_rcv', [0x10n, 0x20n]], ['ip_output', [0x30n]]]));
    expect([...table.addrs]).toEqual([0x10n, 0x20n, 0x30n]);
    expect([...table.ids]).toEqual([2, 2, 3]);
  });

  it('numbers tc programs after the functions, fentry then fexit, keyed by their JITed address', () => {
    const tc = { id: 42, name: 'tc_drop_big', func: 'tc_drop_big', addr: 0xffffffffc0100000n };
    const plan = planProbes('kprobe-multi', TRACEPOINTS, FUNCS.slice(0, 1), [tc]);
    expect(plan.probes.slice(3)).toEqual([
      { id: 3, name: 'tc_drop_big', kind: 'fentry', target: 'bpf:42:tc_drop_big' },
      { id: 4, name: 'tc_drop_big', kind: 'fexit', target: 'bpf:42:tc_drop_big' },
    ]);
    expect(plan.programs.has('fentry_tc') && plan.programs.has('fexit_tc')).toBe(true);
    const table = funcProbeTable(plan, new Map([['ip_rcv', [0x10n]]]));
    expect([...table.addrs]).toEqual([0x10n, 0xffffffffc0100000n]);
    expect([...table.ids]).toEqual([2, 3]);
    expect([...table.rets]).toEqual([-4, -4]);
  });
});

describe('reading the kernel lists', () => {
  it('finds the addresses of the wanted text symbols in kallsyms, modules included', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'skbtrail-kallsyms-')), 'kallsyms');
    fs.writeFileSync(
      file,
      ['ffffffff81000000 T ip_rcv', 'ffffffff81000100 t add_grec', 'ffffffff81000200 D ip_rcv_data', 'ffffffff81000300 t add_grec',
        'ffffffffc0001000 t veth_xmit\t[veth]', ''].join('\n'),
    );
    const found = addressesOf(new Set(['ip_rcv', 'add_grec', 'veth_xmit', 'ip_rcv_data']), file);
    expect(Object.fromEntries(found)).toEqual({
      ip_rcv: [0xffffffff81000000n],
      add_grec: [0xffffffff81000100n, 0xffffffff81000300n],
      veth_xmit: [0xffffffffc0001000n],
    });
    fs.rmSync(path.dirname(file), { recursive: true });
  });

  it('reads available_filter_functions with the module of each name', () => {
    const funcs = parseFilterFunctions('ip_rcv\nveth_xmit [veth]\nfoo\nfoo [bar]\n');
    expect(funcs.get('ip_rcv')).toEqual(new Set(['']));
    expect(funcs.get('veth_xmit')).toEqual(new Set(['veth']));
    expect(funcs.get('foo')).toEqual(new Set(['', 'bar']));
  });
});

describe('attaching kernel functions', () => {
  const handle = {} as Handle;
  const funcs = ['a', 'b', 'bad', 'c', 'd', 'e', 'bad2'].map((name, i) => ({ name, skbArg: 1, module: null, ret: 0, id: 2 + i, fexit: false }));

  it('isolates the functions that make the kernel refuse a kprobe-multi link, and attaches the rest', () => {
    const links: string[][] = [];
    const native = {
      attachKprobeMulti: (_h: Handle, _p: string, names: string[]) => {
        if (names.some((n) => n.startsWith('bad'))) throw new Error(`attaching failed: Invalid argument`);
        links.push(names);
      },
    } as unknown as NativeAddon;
    const result = attachFuncs(native, handle, 'kprobe-multi', funcs);
    expect(result.attached).toBe(5);
    expect(result.ignored.map((i) => i.probe)).toEqual(['bad', 'bad2']);
    expect(links.flat().sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('attaches kprobes one by one, ignoring what the kernel refuses', () => {
    const native = {
      attachKprobe: (_h: Handle, program: string, name: string) => {
        expect(program).toBe('kprobe_skb_1');
        if (name.startsWith('bad')) throw new Error(`attaching a kprobe to ${name} failed: Cannot assign requested address`);
      },
    } as unknown as NativeAddon;
    const result = attachFuncs(native, handle, 'kprobe', funcs);
    expect(result.attached).toBe(5);
    expect(result.ignored).toEqual([
      { probe: 'bad', error: 'attaching a kprobe to bad failed: Cannot assign requested address' },
      { probe: 'bad2', error: 'attaching a kprobe to bad2 failed: Cannot assign requested address' },
    ]);
  });
});
