export { record, type RecordOptions, type RecordResult } from './recorder.js';
export { RecorderError } from './errors.js';
export { readKallsyms, symbolsFor } from './kallsyms.js';
export { scanNetns, scanIfaces } from './netns.js';
