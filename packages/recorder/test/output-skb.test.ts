/**
 * `skbtrail show --output-skb` over a recording made here with `record --output-skb`
 * (fixtures/scenarios/output-skb.sh): each event's raw struct sk_buff, printed offline from the
 * BTF the recording carries, holds the same len, protocol and mark as the event's own columns.
 * Needs no root, no kernel BTF and no addon: only the recording.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, cli } from './netlab.js';

const FIXTURE = path.join(ROOT, 'fixtures/output-skb.skbtrail');

interface Row { skb: string; func: string; netns_name: string; len: number; mark: number; ethertype: number; sk_buff: string | null }

/** `.name = (type)value,` of a top-level member (one space of indent), or undefined when it is zero (left out). */
function field(text: string, name: string): string | undefined {
  return new RegExp(`^ \\.${name} = \\(([^)]*)\\)([^,\\n]*),$`, 'm').exec(text)?.slice(1).join(' ');
}

/** Nested members print deeper: the first `.name = (type)value,` at any depth. */
function anyField(text: string, name: string): string | undefined {
  return new RegExp(`^ +\\.${name} = \\(([^)]*)\\)([^,\\n]*),$`, 'm').exec(text)?.slice(1).join(' ');
}

const swap16 = (v: number): number => ((v & 0xff) << 8) | (v >> 8);

describe('show --output-skb of a recording made with record --output-skb', () => {
  it("prints every event's struct sk_buff with the len, protocol and mark the events table holds", () => {
    const r = cli(['show', FIXTURE, '--output-skb', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Row[];
    expect(rows.length).toBe(48);
    for (const row of rows) {
      expect(row.sk_buff, `${row.func} in ${row.netns_name}`).toMatch(/^\(struct sk_buff\)\{\n/);
      const text = row.sk_buff as string;
      expect(field(text, 'len')).toBe(`unsigned int ${row.len}`);
      // skb->protocol is __be16: the struct holds it in network byte order.
      expect(anyField(text, 'protocol')).toBe(row.ethertype === 0 ? undefined : `__be16 ${swap16(row.ethertype)}`);
      expect(anyField(text, 'mark')).toBe(row.mark === 0 ? undefined : `__u32 ${row.mark}`);
    }
    // The router marked the echo requests it forwarded, and nothing else.
    const marked = rows.filter((e) => e.mark !== 0);
    expect(marked.length).toBeGreaterThan(0);
    for (const e of marked) expect(e).toMatchObject({ netns_name: 'r', mark: 0x2a });
  });

  it('prints it under each line of the pwru-style table, as pwru --output-skb does', () => {
    const r = cli(['show', FIXTURE, '--output-skb', '--limit', '2']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^SKB +CPU +PROCESS/);
    expect(lines[1]).toMatch(/net_dev_queue$/);
    expect(lines[2]).toBe('(struct sk_buff){');
    expect(lines).toContain(' .len = (unsigned int)98,');
    expect(lines).toContain(' .users = (refcount_t){');
    expect(r.stdout.match(/^\(struct sk_buff\)\{$/gm)).toHaveLength(2);
  });

  it('says which recordings lack the bytes: one line, exit 1', () => {
    const r = cli(['show', path.join(ROOT, 'fixtures/icmp-nft-drop.skbtrail'), '--output-skb']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no raw sk_buff contents.*recorded without --output-skb/);
  });
});
