// @skbtrail/analyzer as a library: open a recording into DuckDB and query its views.
export { loadRecording, openSession, type Session } from './session.js';
export { AnalyzerError, type AnalyzerErrorCode } from './errors.js';
export { DROPS_SQL } from './commands/drops.js';
export { pickSql, pickedSql, showSql } from './commands/show.js';
export { main } from './cli.js';
