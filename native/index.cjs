'use strict';
// Loads the compiled addon and names the BPF object built beside it. Requiring this
// module on a machine where the native recorder was not built throws an error whose
// code is 'NOT_BUILT', so the recorder can say what to do.
const path = require('node:path');

const addonPath = path.join(__dirname, 'build', 'Release', 'skbtrail_native.node');
let addon;
try {
  addon = require(addonPath);
} catch (cause) {
  if (cause.code !== 'MODULE_NOT_FOUND') throw cause;
  const err = new Error(
    'the native recorder is not built: run scripts/install-system-deps, then `npm run build -w native`',
    { cause },
  );
  err.code = 'NOT_BUILT';
  throw err;
}

exports.objectPath = path.join(__dirname, 'build', 'skbtrail.bpf.o');
exports.filterTestObjectPath = path.join(__dirname, 'build', 'filter_test.bpf.o');
exports.probes = addon.probes;
exports.open = addon.open;
exports.setAutoload = addon.setAutoload;
exports.injectFilter = addon.injectFilter;
exports.load = addon.load;
exports.attach = addon.attach;
exports.setFuncProbes = addon.setFuncProbes;
exports.setAttachTarget = addon.setAttachTarget;
exports.attachKprobeMulti = addon.attachKprobeMulti;
exports.attachKprobe = addon.attachKprobe;
exports.attachTracing = addon.attachTracing;
exports.setAttachTargetProg = addon.setAttachTargetProg;
exports.attachTracingToProg = addon.attachTracingToProg;
exports.tcPrograms = addon.tcPrograms;
exports.start = addon.start;
exports.stop = addon.stop;
exports.lost = addon.lost;
exports.stacks = addon.stacks;
exports.trackOverflow = addon.trackOverflow;
exports.skbBtf = addon.skbBtf;
exports.close = addon.close;
exports.btfEnum = addon.btfEnum;
exports.btfSkbFuncs = addon.btfSkbFuncs;
exports.probeBackend = addon.probeBackend;
exports.pcapCompile = addon.pcapCompile;
exports.pcapOfflineMatch = addon.pcapOfflineMatch;
exports.filterTestRun = addon.filterTestRun;
exports.lz4Frame = addon.lz4Frame;
