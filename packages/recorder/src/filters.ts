/**
 * pwru's metadata filters, resolved before anything is loaded: --filter-netns (a path such as
 * /proc/PID/ns/net, `inode:N`, or a name from `ip netns`), --filter-mark (value[/mask]) and
 * --filter-ifname (an interface of the --filter-netns namespace, else of the recorder's), plus
 * --filter-track-skb. The kernel checks them (bpf/filters.h, bpf/track.h), ANDed with each
 * other and with the pcap filter. A filter naming something that does not exist is a usage
 * error (exit 2) before any probe is attached or any file written.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { OpenOptions } from '@skbtrail/native';
import { RecorderError } from './errors.js';
import { scanNetns } from './netns.js';

const NETNS_DIR = '/run/netns';
const SELF_NETNS = '/proc/self/ns/net';
/** Default bound of the tracked-skb map (--filter-track-max). */
export const TRACK_MAX_DEFAULT = 65536;

export interface MarkFilter {
  value: number;
  mask: number;
}

export interface NetnsFilter {
  /** what the user typed */
  spec: string;
  inode: number;
  /** a path that enters it (for the interface lookup) */
  path: string;
  name: string | null;
}

export interface IfnameFilter {
  name: string;
  ifindex: number;
  /** the namespace it was looked up in */
  netns: number;
}

export interface ResolvedFilters {
  netns: NetnsFilter | null;
  mark: MarkFilter | null;
  ifname: IfnameFilter | null;
  trackSkb: boolean;
  trackMax: number;
}

export interface FilterArgs {
  filterNetns?: string;
  filterMark?: MarkFilter;
  filterIfname?: string;
  filterTrackSkb?: boolean;
  filterTrackMax?: number;
}

function u32(text: string): number | null {
  const t = text.trim();
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) && n >= 0 && n <= 0xffffffff ? n : null;
}

/** Commander parser of --filter-mark: `VALUE` or `VALUE/MASK`, decimal or 0x-hex, 32 bits. */
export function parseMark(text: string): MarkFilter {
  const [v, m, extra] = text.split('/');
  const value = u32(v ?? '');
  const mask = m === undefined ? 0xffffffff : u32(m);
  if (extra !== undefined || value === null || mask === null || mask === 0) {
    throw new InvalidArgumentError(`"${text}" is not a mark: give a 32-bit value with an optional nonzero mask, e.g. 0x100 or 0x100/0xff00`);
  }
  if ((value & ~mask) >>> 0 !== 0) {
    throw new InvalidArgumentError(`"${text}": the value has bits outside the mask, so no packet could match`);
  }
  return { value, mask };
}

function usage(message: string): RecorderError {
  return new RecorderError('USAGE', message);
}

/** The nsfs device: every namespace file (/proc/PID/ns/net, a bind mount in /run/netns) lives on it. */
function nsfsDevice(): number {
  return fs.statSync(SELF_NETNS).dev;
}

/** Resolves --filter-netns to an inode; an unknown namespace is a usage error. */
export function resolveNetns(spec: string): NetnsFilter {
  const inodeSpec = /^inode:(.*)$/.exec(spec);
  if (inodeSpec) {
    const inode = u32(inodeSpec[1]);
    if (inode === null || inode === 0) throw usage(`--filter-netns ${spec}: not an inode number (inode:4026531840)`);
    // The namespace must be one a process or `ip netns` holds: else no packet could be in it.
    const known = scanNetns().find((n) => n.inode === inode);
    if (!known) throw usage(`--filter-netns ${spec}: no network namespace with inode ${inode} (see ls -l /proc/*/ns/net or ip netns)`);
    const enter = known.source === 'ip netns' ? path.join(NETNS_DIR, known.name as string) : known.source === 'self' ? SELF_NETNS : `/proc/${known.source.slice('pid '.length)}/ns/net`;
    return { spec, inode, path: enter, name: known.name };
  }
  const isPath = spec.includes('/');
  const file = isPath ? spec : path.join(NETNS_DIR, spec);
  if (!isPath && (spec === '' || spec === '.' || spec === '..')) throw usage(`--filter-netns "${spec}": not a namespace name`);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw usage(
      isPath
        ? `--filter-netns ${spec}: no such namespace file (give /proc/PID/ns/net, inode:N or a name from ip netns)`
        : `--filter-netns ${spec}: no network namespace named ${spec} (ip netns list shows the names)`,
    );
  }
  let link: string | null = null;
  try {
    link = fs.readlinkSync(file); // /proc/PID/ns/net -> net:[4026531840]
  } catch {
    // a bind mount (ip netns) is no symlink
  }
  if (stat.dev !== nsfsDevice() || (link !== null && !link.startsWith('net:'))) {
    throw usage(`--filter-netns ${spec}: ${file} is not a network namespace`);
  }
  return { spec, inode: stat.ino, path: file, name: isPath ? null : spec };
}

/** The ifindex of `name` in the namespace entered through nsPath (null: the recorder's own). */
export function resolveIfname(name: string, netns: NetnsFilter | null): IfnameFilter {
  const where = netns ? `netns ${netns.spec}` : "the recorder's netns";
  if (name === '' || name.length > 15 || /[\s/]/.test(name)) throw usage(`--filter-ifname "${name}": not an interface name`);
  const args = ['-j', 'link', 'show', 'dev', name];
  let out: string;
  try {
    out = netns
      ? execFileSync('nsenter', [`--net=${netns.path}`, 'ip', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      : execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new RecorderError('NOT_SUPPORTED', `--filter-ifname needs iproute2 (ip) and util-linux (nsenter): ${e.message}`);
    throw usage(`--filter-ifname ${name}: no interface ${name} in ${where}`);
  }
  const links = JSON.parse(out) as { ifindex: number; ifname: string }[];
  const link = links.find((l) => l.ifname === name);
  if (!link) throw usage(`--filter-ifname ${name}: no interface ${name} in ${where}`);
  const inode = netns ? netns.inode : fs.statSync(SELF_NETNS).ino;
  return { name, ifindex: link.ifindex, netns: inode };
}

/** Every filter option, checked and resolved; throws a usage RecorderError. */
export function resolveFilters(args: FilterArgs): ResolvedFilters {
  const netns = args.filterNetns !== undefined ? resolveNetns(args.filterNetns) : null;
  const ifname = args.filterIfname !== undefined ? resolveIfname(args.filterIfname, netns) : null;
  if (args.filterTrackMax !== undefined && !args.filterTrackSkb) throw usage('--filter-track-max needs --filter-track-skb');
  return {
    netns,
    mark: args.filterMark ?? null,
    ifname,
    trackSkb: args.filterTrackSkb ?? false,
    trackMax: args.filterTrackMax ?? TRACK_MAX_DEFAULT,
  };
}

/** The addon's open() options for the filters. --filter-ifname also pins its namespace. */
export function nativeFilterOptions(f: ResolvedFilters): Pick<OpenOptions, 'filterNetns' | 'filterMark' | 'filterMarkMask' | 'filterIfindex' | 'trackSkb' | 'trackMax'> {
  return {
    filterNetns: f.ifname?.netns ?? f.netns?.inode ?? 0,
    filterMark: f.mark?.value ?? 0,
    filterMarkMask: f.mark?.mask ?? 0,
    filterIfindex: f.ifname?.ifindex ?? 0,
    trackSkb: f.trackSkb,
    trackMax: f.trackMax,
  };
}

/** What the recording's start metadata says about them (recorder.filters). */
export function filtersMeta(f: ResolvedFilters): Record<string, unknown> {
  return {
    netns: f.netns ? { spec: f.netns.spec, inode: f.netns.inode, name: f.netns.name } : null,
    mark: f.mark ? { value: f.mark.value, mask: f.mark.mask } : null,
    ifname: f.ifname ? { name: f.ifname.name, ifindex: f.ifname.ifindex, netns: f.ifname.netns } : null,
    trackSkb: f.trackSkb ? { max: f.trackMax } : null,
  };
}
