import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const TRACEFS_DIRS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
const FILTER_FUNCTIONS = 'available_filter_functions';

/**
 * The functions ftrace can hook (and so kprobe-multi and fentry can attach to), by name, each with
 * the modules that define it ('' for the kernel itself). null when unreadable: no tracefs and it
 * can't be mounted (a fresh machine has it unmounted), or no privileges.
 */
export function availableFilterFunctions(): Map<string, Set<string>> | null {
  const text = readFilterFunctions();
  return text === null ? null : parseFilterFunctions(text);
}

export function parseFilterFunctions(text: string): Map<string, Set<string>> {
  const funcs = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    // "name" or "name [module]"
    const space = line.indexOf(' ');
    const name = space < 0 ? line : line.slice(0, space);
    if (name === '') continue;
    const module = space < 0 ? '' : line.slice(space + 2, line.length - 1);
    let modules = funcs.get(name);
    if (!modules) funcs.set(name, (modules = new Set()));
    modules.add(module);
  }
  return funcs;
}

function readFilterFunctions(): string | null {
  for (let attempt = 0; attempt < 2; attempt++) {
    for (const dir of TRACEFS_DIRS) {
      try {
        return fs.readFileSync(`${dir}/${FILTER_FUNCTIONS}`, 'utf8');
      } catch {
        // not mounted here, or not readable
      }
    }
    if (attempt === 0 && !mountTracefs()) break;
  }
  return null;
}

function mountTracefs(): boolean {
  const r = spawnSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS_DIRS[0]], { stdio: 'ignore' });
  return r.status === 0;
}
