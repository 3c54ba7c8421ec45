// Builds the privileged half of skbtrail: bpf/skbtrail.bpf.c -> build/skbtrail.bpf.o
// (clang, CO-RE against a vmlinux.h generated from this kernel's BTF) and the addon
// build/Release/skbtrail_native.node (node-gyp, system libbpf). Skips what is up to date.
//
// --optional (the package's install script): a machine without the toolchain (an
// analyst's laptop) gets one line saying what is missing, and the install goes on.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = dirname(fileURLToPath(import.meta.url));
const bpfDir = resolve(nativeDir, '../bpf');
const buildDir = join(nativeDir, 'build');
const vmlinuxBtf = '/sys/kernel/btf/vmlinux';
const vmlinuxH = join(bpfDir, 'vmlinux.h');
// Each BPF object: its source, and the build output beside the addon.
const bpfObjects = ['skbtrail', 'filter_test'].map((name) => ({
  source: join(bpfDir, `${name}.bpf.c`),
  object: join(buildDir, `${name}.bpf.o`),
}));
const bpfHeaders = ['skbtrail.h', 'pcap_filter.h', 'filters.h', 'track.h'].map((h) => join(bpfDir, h));
const addon = join(buildDir, 'Release', 'skbtrail_native.node');
const optional = process.argv.includes('--optional');

const isFile = (p) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

// bpftool lives in /usr/sbin on Debian, which a non-root PATH often lacks.
function findTool(name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  return dirs.filter(Boolean).map((d) => join(d, name)).find(isFile);
}

function missingPrerequisites() {
  const missing = [];
  if (!findTool('clang')) missing.push('clang');
  if (!findTool('bpftool')) missing.push('bpftool');
  const libbpf = findTool('pkg-config') && spawnSync('pkg-config', ['--exists', 'libbpf']).status === 0;
  if (!libbpf) missing.push('libbpf-dev');
  const libpcap = findTool('pkg-config') && spawnSync('pkg-config', ['--exists', 'libpcap']).status === 0;
  if (!libpcap && !existsSync('/usr/include/pcap/pcap.h')) missing.push('libpcap-dev');
  const liblz4 = findTool('pkg-config') && spawnSync('pkg-config', ['--exists', 'liblz4']).status === 0;
  if (!liblz4 && !existsSync('/usr/include/lz4frame.h')) missing.push('liblz4-dev');
  if (!existsSync(vmlinuxBtf)) missing.push(`kernel BTF (${vmlinuxBtf})`);
  return missing;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
  return r;
}

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
const newestOf = (paths) => Math.max(...paths.map(mtime));
const filesIn = (dir) => readdirSync(dir).map((f) => join(dir, f));

function generateVmlinuxH(bpftool) {
  if (existsSync(vmlinuxH)) return;
  const r = spawnSync(bpftool, ['btf', 'dump', 'file', vmlinuxBtf, 'format', 'c'], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`bpftool btf dump failed: ${r.stderr}`);
  writeFileSync(`${vmlinuxH}.tmp`, r.stdout);
  renameSync(`${vmlinuxH}.tmp`, vmlinuxH); // never leave a half-written header behind
}

function compileBpf() {
  for (const { source, object } of bpfObjects) {
    if (mtime(object) > newestOf([source, ...bpfHeaders, vmlinuxH])) continue;
    mkdirSync(buildDir, { recursive: true });
    run('clang', ['-g', '-O2', '-target', 'bpf', '-D__TARGET_ARCH_x86', '-I', bpfDir,
      '-I', '/usr/include/x86_64-linux-gnu', '-c', source, '-o', object]);
  }
}

// npm hands its bundled node-gyp to scripts; run directly, find the one next to node.
function nodeGyp() {
  const bundled = resolve(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  const gyp = process.env.npm_config_node_gyp ?? bundled;
  // Node's own headers, so node-gyp never tries to download them.
  const prefix = resolve(dirname(process.execPath), '..');
  const nodedir = process.env.npm_config_nodedir ??
    (existsSync(join(prefix, 'include/node/node_api.h')) ? prefix : undefined);
  return (command) => run(process.execPath, [gyp, command, '--loglevel=warn', ...(nodedir ? [`--nodedir=${nodedir}`] : [])],
    { cwd: nativeDir });
}

function buildAddon() {
  const inputs = [...filesIn(join(nativeDir, 'src')), join(nativeDir, 'binding.gyp'), join(bpfDir, 'skbtrail.h')];
  if (mtime(addon) > newestOf(inputs)) return;
  const gyp = nodeGyp();
  if (!existsSync(join(buildDir, 'Makefile')) || mtime(join(buildDir, 'Makefile')) < mtime(join(nativeDir, 'binding.gyp')))
    gyp('configure');
  gyp('build');
}

const missing = missingPrerequisites();
if (missing.length) {
  console.error(`skbtrail: native recorder not built (missing: ${missing.join(', ')}); run scripts/install-system-deps`);
  process.exit(optional ? 0 : 1);
}
try {
  generateVmlinuxH(findTool('bpftool'));
  buildAddon(); // before the BPF object: node-gyp owns build/ and may recreate it
  compileBpf();
} catch (err) {
  console.error(`skbtrail: native recorder build failed: ${err.message}` +
    (optional ? '; run `npm run build -w native` for details' : ''));
  process.exit(optional ? 0 : 1);
}
