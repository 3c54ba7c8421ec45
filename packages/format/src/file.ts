// @skbtrail/format/file: the on-demand reader alone, without the writer or apache-arrow (what an
// analysis command loads).
export { FormatError, type FormatErrorCode } from './errors.js';
export { EVENT_COLUMNS, FORMAT_VERSION, type EventColumnName } from './constants.js';
export {
  openRecordingFile,
  ReadBuffers,
  type ColumnArray,
  type EventBatch,
  type FixedColumnName,
  type HeaderBytes,
  type RecordingFile,
} from './recordingfile.js';
export type { EndMeta, IfaceInfo, KallsymsTable, NetnsInfo, ProbeInfo, StartMeta } from './types.js';
