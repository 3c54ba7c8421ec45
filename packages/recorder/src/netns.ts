import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { IfaceInfo, NetnsInfo } from '@skbtrail/format';

const NETNS_DIR = '/run/netns';

function inodeOf(p: string): number | null {
  try {
    return fs.statSync(p).ino;
  } catch {
    return null;
  }
}

/**
 * Every network namespace the recorder can see: names from `ip netns` bind mounts first
 * (what users type), then the namespaces of running processes, then our own.
 */
export function scanNetns(): NetnsInfo[] {
  const found = new Map<number, NetnsInfo & { path: string }>();
  let names: string[] = [];
  try {
    names = fs.readdirSync(NETNS_DIR).sort();
  } catch {
    // no named namespaces
  }
  for (const name of names) {
    const p = path.join(NETNS_DIR, name);
    const ino = inodeOf(p);
    if (ino !== null && !found.has(ino)) found.set(ino, { inode: ino, name, source: 'ip netns', path: p });
  }
  const self = inodeOf('/proc/self/ns/net');
  if (self !== null && !found.has(self)) found.set(self, { inode: self, name: null, source: 'self', path: '/proc/self/ns/net' });
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const p = `/proc/${entry}/ns/net`;
    const ino = inodeOf(p);
    if (ino !== null && !found.has(ino)) found.set(ino, { inode: ino, name: null, source: `pid ${entry}`, path: p });
  }
  return [...found.values()].map(({ inode, name, source }) => ({ inode, name, source }));
}

/** Links of one namespace via iproute2's JSON output (entering the namespace needs no code of ours). */
function linksIn(ns: NetnsInfo): { ifindex: number; ifname: string; mtu?: number }[] {
  const args =
    ns.source === 'ip netns' && ns.name
      ? ['-n', ns.name, '-j', 'link', 'show']
      : ns.source === 'self'
        ? ['-j', 'link', 'show']
        : null;
  try {
    if (args) return JSON.parse(execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    const pid = ns.source.slice('pid '.length);
    const out = execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-j', 'link', 'show'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return JSON.parse(out);
  } catch {
    return []; // the namespace vanished or iproute2 is missing: names stay unknown, inodes still show
  }
}

export function scanIfaces(namespaces: NetnsInfo[]): IfaceInfo[] {
  const out: IfaceInfo[] = [];
  for (const ns of namespaces) {
    for (const l of linksIn(ns)) out.push({ netns: ns.inode, ifindex: l.ifindex, name: l.ifname, mtu: l.mtu });
  }
  return out;
}
