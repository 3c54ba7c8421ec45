#!/usr/bin/env node
// Prepares everything test/vm/vm.mjs boots: host tools, Debian's own kernels (6.1 and 6.12)
// unpacked into CACHE_ROOT/<release>/, an uncompressed vmlinux for PVH boot, a depmod'ed
// lib/modules, and an initramfs per kernel. Idempotent: a kernel already prepared is skipped.
// Usage: node test/vm/setup.mjs [6.1] [6.12]   (both by default; needs root for apt and dpkg)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CACHE_ROOT = process.env.SKBTRAIL_VM_CACHE ?? '/var/cache/skbtrail-vm';

// Meta packages whose single Depends names the exact image package to fetch.
export const KERNEL_META_PACKAGES = {
  '6.1': 'linux-image-amd64', // Debian 12's default kernel
  '6.12': 'linux-image-6.12-amd64', // Debian 12's newer LTS kernel (bookworm-security)
};

// qemu runs the VMs; busybox-static is the initramfs; kmod gives depmod here and, inside the
// guest (which runs the host's root), the /sbin/modprobe that module autoloading calls.
const HOST_PACKAGES = ['qemu-system-x86', 'busybox-static', 'kmod', 'xz-utils', 'zstd'];

// What the initramfs must load before it can mount the 9p shares and the overlay; their
// dependencies (netfs, 9pnet, virtio_ring, ...) come from modules.dep. Built-ins are skipped.
const INITRAMFS_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];

const GUEST_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'guest');
const INIT_SCRIPT = path.join(GUEST_DIR, 'init.sh');

function run(cmd, args, { cwd, quiet = false } = {}) {
  const result = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    if (quiet) return null;
    throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

const log = (msg) => process.stderr.write(`setup: ${msg}\n`);

let aptListsFresh = false;
function aptUpdateOnce() {
  if (aptListsFresh) return;
  log('apt-get update');
  run('apt-get', ['update', '-qq']);
  aptListsFresh = true;
}

function ensureHostPackages() {
  const missing = HOST_PACKAGES.filter(
    (name) => !/install ok installed/.test(run('dpkg-query', ['-W', '-f=${Status}', name], { quiet: true }) ?? ''),
  );
  if (missing.length === 0) return;
  aptUpdateOnce();
  log(`apt-get install ${missing.join(' ')}`);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing]);
}

// linux-image-amd64 -> linux-image-6.1.0-56-amd64 (the image the meta package points at now).
function resolveImagePackage(kernel) {
  const meta = KERNEL_META_PACKAGES[kernel];
  if (!meta) throw new Error(`unknown kernel ${kernel}; known: ${Object.keys(KERNEL_META_PACKAGES).join(', ')}`);
  for (let attempt = 0; attempt < 2; attempt++) {
    const depends = run('apt-cache', ['depends', meta], { quiet: true }) ?? '';
    const image = depends.match(/^\s*Depends: (linux-image-\S+)$/m)?.[1];
    if (image) return image;
    if (aptListsFresh) break;
    aptUpdateOnce();
  }
  const offered = run('apt-cache', ['search', '--names-only', `^linux-image-${kernel.replace('.', '\\.')}`]) ?? '';
  throw new Error(`apt offers no ${meta} here. apt-cache search says:\n${offered || '(nothing)'}`);
}

// The bzImage's setup header says where the compressed kernel is (payload_offset and
// payload_length, relative to the protected-mode code after the setup sectors); its magic
// says which tool decompresses it. The result is the ELF vmlinux, which qemu boots via PVH.
function extractVmlinux(bzImagePath, vmlinuxPath) {
  const image = fs.readFileSync(bzImagePath);
  if (image.toString('latin1', 0x202, 0x206) !== 'HdrS') throw new Error(`${bzImagePath} is not a bzImage`);
  const setupSectors = image[0x1f1] || 4;
  const start = (setupSectors + 1) * 512 + image.readUInt32LE(0x248);
  const payload = image.subarray(start, start + image.readUInt32LE(0x24c));
  const tools = [
    ['xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])],
    ['zstd', Buffer.from([0x28, 0xb5, 0x2f, 0xfd])],
    ['gzip', Buffer.from([0x1f, 0x8b])],
  ];
  const tool = tools.find(([, magic]) => payload.subarray(0, magic.length).equals(magic))?.[0];
  if (!tool) throw new Error(`${bzImagePath}: unknown compression (magic ${payload.subarray(0, 6).toString('hex')})`);
  // Some tools want to see a whole file: the payload may carry the kernel's size suffix.
  const payloadPath = `${vmlinuxPath}.payload`;
  fs.writeFileSync(payloadPath, payload);
  const out = fs.openSync(vmlinuxPath, 'w');
  spawnSync(tool, ['-dc', payloadPath], { stdio: ['ignore', out, 'ignore'] });
  fs.closeSync(out);
  fs.rmSync(payloadPath);
  const head = Buffer.alloc(4);
  const fd = fs.openSync(vmlinuxPath, 'r');
  fs.readSync(fd, head, 0, 4, 0);
  fs.closeSync(fd);
  if (!head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) throw new Error(`${tool} did not yield an ELF vmlinux`);
  return tool;
}

// Module names in modules.dep order: each module after everything it depends on.
function moduleLoadOrder(modulesDir, wanted) {
  const depsByPath = new Map();
  for (const line of fs.readFileSync(path.join(modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const [modulePath, deps] = line.split(':');
    if (deps !== undefined) depsByPath.set(modulePath, deps.trim().split(/\s+/).filter(Boolean));
  }
  const nameOf = (p) => path.basename(p).replace(/\.ko(\.\w+)?$/, '').replaceAll('-', '_');
  const pathByName = new Map([...depsByPath.keys()].map((p) => [nameOf(p), p]));
  const builtin = new Set(
    fs.readFileSync(path.join(modulesDir, 'modules.builtin'), 'utf8').split('\n').filter(Boolean).map(nameOf),
  );
  const order = [];
  const visit = (modulePath) => {
    if (order.includes(modulePath)) return;
    for (const dep of depsByPath.get(modulePath)) visit(dep);
    order.push(modulePath);
  };
  for (const name of wanted) {
    if (builtin.has(name)) continue;
    const modulePath = pathByName.get(name);
    if (!modulePath) throw new Error(`module ${name} is neither in modules.dep nor built in`);
    visit(modulePath);
  }
  return order;
}

// Copies busybox, /init and the modules (decompressed: busybox insmod takes plain .ko) into a
// staging dir and packs it as an uncompressed newc cpio (nothing to decompress at boot).
function buildInitramfs(packageRoot, release, initramfsPath) {
  const modulesDir = path.join(packageRoot, 'lib/modules', release);
  const staging = `${initramfsPath}.d`;
  fs.rmSync(staging, { recursive: true, force: true });
  for (const dir of ['bin', 'dev', 'proc', 'sys', 'ctl', 'host', 'upper', 'newroot', 'modules']) {
    fs.mkdirSync(path.join(staging, dir), { recursive: true });
  }
  fs.copyFileSync('/bin/busybox', path.join(staging, 'bin/busybox'));
  fs.copyFileSync(INIT_SCRIPT, path.join(staging, 'init'));
  fs.chmodSync(path.join(staging, 'init'), 0o755);
  const loadOrder = [];
  for (const modulePath of moduleLoadOrder(modulesDir, INITRAMFS_MODULES)) {
    const source = path.join(modulesDir, modulePath);
    const name = path.basename(modulePath).replace(/\.(xz|zst)$/, '');
    const target = path.join(staging, 'modules', name);
    if (modulePath.endsWith('.xz') || modulePath.endsWith('.zst')) {
      const out = fs.openSync(target, 'w');
      const result = spawnSync(modulePath.endsWith('.xz') ? 'xz' : 'zstd', ['-dc', source], { stdio: ['ignore', out, 'inherit'] });
      fs.closeSync(out);
      if (result.status !== 0) throw new Error(`cannot decompress ${source}`);
    } else {
      fs.copyFileSync(source, target);
    }
    loadOrder.push(name);
  }
  fs.writeFileSync(path.join(staging, 'modules/load-order'), loadOrder.join('\n') + '\n');
  const cpio = spawnSync('sh', ['-c', 'find . | /bin/busybox cpio -o -H newc -R 0:0'], {
    cwd: staging,
    stdio: ['ignore', fs.openSync(initramfsPath, 'w'), 'pipe'],
  });
  if (cpio.status !== 0) throw new Error(`cpio failed: ${cpio.stderr}`);
  fs.rmSync(staging, { recursive: true });
  return loadOrder;
}

const fileHash = (file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 16);

// Changes whenever apt-get update brings new package lists (which may name a newer kernel).
function aptListsStamp() {
  const dir = '/var/lib/apt/lists';
  return Math.max(0, ...fs.readdirSync(dir).map((name) => fs.statSync(path.join(dir, name)).mtimeMs));
}

function readManifest(kernelDir) {
  const manifestPath = path.join(kernelDir, 'manifest.json');
  return fs.existsSync(manifestPath) ? JSON.parse(fs.readFileSync(manifestPath, 'utf8')) : null;
}

export function prepareKernel(kernel) {
  // apt-cache takes about a second here, so it is asked only when the package lists changed.
  const listsStamp = aptListsStamp();
  const linked = readManifest(path.join(CACHE_ROOT, kernel));
  const imagePackage = linked?.aptListsStamp === listsStamp ? linked.package : resolveImagePackage(kernel);
  const release = imagePackage.replace(/^linux-image-/, '');
  const kernelDir = path.join(CACHE_ROOT, release);
  const manifestPath = path.join(kernelDir, 'manifest.json');
  const initHash = fileHash(INIT_SCRIPT);

  const manifest = readManifest(kernelDir);
  if (manifest) {
    if (manifest.initHash !== initHash) {
      log(`${release}: guest/init.sh changed, rebuilding the initramfs`);
      manifest.initramfsModules = buildInitramfs(path.join(kernelDir, 'root'), release, path.join(kernelDir, 'initramfs.cpio'));
      manifest.initHash = initHash;
    }
    manifest.aptListsStamp = listsStamp;
    fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  } else {
    // Build in a scratch dir and rename at the end, so an interrupted setup leaves no half kernel.
    const scratch = `${kernelDir}.partial`;
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.mkdirSync(scratch, { recursive: true });
    log(`${release}: apt-get download ${imagePackage}`);
    run('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', imagePackage], { cwd: scratch });
    const deb = fs.readdirSync(scratch).find((name) => name.endsWith('.deb'));
    const packageVersion = run('dpkg-deb', ['-f', path.join(scratch, deb), 'Version']).trim();
    const packageRoot = path.join(scratch, 'root');
    log(`${release}: dpkg -x, depmod`);
    run('dpkg', ['-x', path.join(scratch, deb), packageRoot]);
    fs.rmSync(path.join(scratch, deb));
    run('depmod', ['-b', packageRoot, release]);
    log(`${release}: extracting vmlinux`);
    const compression = extractVmlinux(path.join(packageRoot, 'boot', `vmlinuz-${release}`), path.join(scratch, 'vmlinux'));
    log(`${release}: building the initramfs`);
    const initramfsModules = buildInitramfs(packageRoot, release, path.join(scratch, 'initramfs.cpio'));
    const fresh = { kernel, release, package: imagePackage, packageVersion, compression, initramfsModules, initHash };
    fs.writeFileSync(path.join(scratch, 'manifest.json'), JSON.stringify({ ...fresh, aptListsStamp: listsStamp }, null, 2) + '\n');
    fs.rmSync(kernelDir, { recursive: true, force: true });
    fs.renameSync(scratch, kernelDir);
  }

  // CACHE_ROOT/6.12 -> 6.12.117+deb12-amd64: what vm.mjs boots. Replaced atomically.
  const link = path.join(CACHE_ROOT, kernel);
  fs.rmSync(`${link}.new`, { force: true });
  fs.symlinkSync(release, `${link}.new`);
  fs.renameSync(`${link}.new`, link);
  pruneOtherReleases(kernel, release);
  return readManifest(kernelDir);
}

// A newer Debian upload of the same kernel line replaces the older one in the cache.
function pruneOtherReleases(kernel, keepRelease) {
  for (const name of fs.readdirSync(CACHE_ROOT)) {
    const manifestPath = path.join(CACHE_ROOT, name, 'manifest.json');
    if (name === keepRelease || fs.lstatSync(path.join(CACHE_ROOT, name)).isSymbolicLink()) continue;
    if (!fs.existsSync(manifestPath)) continue;
    if (JSON.parse(fs.readFileSync(manifestPath, 'utf8')).kernel !== kernel) continue;
    log(`removing the older ${name}`);
    fs.rmSync(path.join(CACHE_ROOT, name), { recursive: true, force: true });
  }
}

export function setup(kernels = Object.keys(KERNEL_META_PACKAGES)) {
  ensureHostPackages();
  fs.mkdirSync(CACHE_ROOT, { recursive: true });
  return kernels.map(prepareKernel);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const started = Date.now();
    const kernels = process.argv.slice(2);
    for (const manifest of setup(kernels.length ? kernels : undefined)) {
      log(`${manifest.kernel}: ${manifest.release} (${manifest.package} ${manifest.packageVersion}) in ${path.join(CACHE_ROOT, manifest.release)}`);
    }
    log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    process.stderr.write(`setup: ${error.message}\n`);
    process.exit(1);
  }
}
