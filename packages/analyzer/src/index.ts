// @skbtrail/analyzer as a library: open recordings into DuckDB and query their views.
export { openSession, type Session, type SessionOptions } from './session.js';
export { AnalyzerError, type AnalyzerErrorCode } from './errors.js';
export { DROPS_SQL, dropsQuery } from './commands/drops.js';
export { pickSql, pickedSql, showSql } from './commands/show.js';
export { pathCountsSql, pathsSql, packetHopsSql } from './commands/paths.js';
export { hopsSource, spansSource } from './commands/latency.js';
export { main } from './cli.js';
export { groupStats, type GroupStats, type Measure } from './quantiles.js';
