// Builds the analyzer's optional pcap-filter addon (build/Release/skbtrail_pcap.node) with
// node-gyp against the system libpcap. `skbtrail show FILE 'pcap expression'` needs it; every
// other analysis works without it.
//   --optional (the analyzer's install script): without libpcap's headers or a compiler, say so
//   in one line and let the install go on.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const addon = join(dir, 'build', 'Release', 'skbtrail_pcap.node');
const optional = process.argv.includes('--optional');

const isFile = (p) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};
const findTool = (name) => (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name)).find(isFile);

function missingPrerequisites() {
  const missing = [];
  const headers = ['/usr/include/pcap/pcap.h', '/usr/local/include/pcap/pcap.h', '/opt/homebrew/include/pcap/pcap.h'];
  const pkgConfig = findTool('pkg-config') && spawnSync('pkg-config', ['--exists', 'libpcap']).status === 0;
  if (!pkgConfig && !headers.some(isFile)) missing.push('libpcap headers (apt install libpcap-dev)');
  if (!findTool('cc') && !findTool('gcc') && !findTool('clang')) missing.push('a C compiler');
  return missing;
}

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

function nodeGyp(command) {
  const bundled = resolve(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  const gyp = process.env.npm_config_node_gyp ?? bundled;
  const prefix = resolve(dirname(process.execPath), '..');
  const nodedir = process.env.npm_config_nodedir ?? (existsSync(join(prefix, 'include/node/node_api.h')) ? prefix : undefined);
  const r = spawnSync(process.execPath, [gyp, command, '--loglevel=warn', ...(nodedir ? [`--nodedir=${nodedir}`] : [])], {
    cwd: dir,
    stdio: optional ? ['ignore', 'ignore', 'pipe'] : 'inherit',
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`node-gyp ${command} failed${r.stderr ? `: ${r.stderr.trim().split('\n').pop()}` : ''}`);
}

const missing = missingPrerequisites();
if (missing.length) {
  console.error(`skbtrail: pcap filters for show not built (missing: ${missing.join(', ')}); everything else works`);
  process.exit(optional ? 0 : 1);
}
const sources = [join(dir, 'binding.gyp'), ...readdirSync(join(dir, 'src')).map((f) => join(dir, 'src', f))];
if (mtime(addon) > Math.max(...sources.map(mtime))) process.exit(0);
try {
  nodeGyp('rebuild');
} catch (err) {
  console.error(`skbtrail: pcap filters for show not built: ${err.message}`);
  process.exit(optional ? 0 : 1);
}
