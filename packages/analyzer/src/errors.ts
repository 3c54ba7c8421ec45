// One error type for the analyzer CLI: a code for tests, an exit code (2 usage, 1 failure),
// and two halves of the one line a user sees: what happened — what to do.
import { FormatError, type FormatErrorCode } from '@skbtrail/format/file';

/**
 * UNAVAILABLE: an optional part of skbtrail is not installed; LACKS: the recording lacks what
 * the analysis needs; NO_SUCH: a packet or probe the user named is not in the recording.
 */
export type AnalyzerErrorCode = 'USAGE' | FormatErrorCode | 'SQL' | 'INTERNAL' | 'UNAVAILABLE' | 'PCAP' | 'LACKS' | 'NO_SUCH';

export class AnalyzerError extends Error {
  readonly code: AnalyzerErrorCode;
  readonly exitCode: 1 | 2;
  /** what to do about it */
  readonly hint: string;

  constructor(code: AnalyzerErrorCode, message: string, hint: string, opts: { cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'AnalyzerError';
    this.code = code;
    this.hint = hint;
    this.exitCode = code === 'USAGE' ? 2 : 1;
  }
}

const FORMAT_HINTS: Record<FormatErrorCode, string> = {
  NOT_FOUND: 'check the path',
  UNREADABLE: 'check that the file is readable by you',
  NOT_A_RECORDING: 'pass a file written by skbtrail record',
  NEWER_VERSION: 'upgrade skbtrail',
  UNSUPPORTED: 'rewrite it uncompressed or LZ4_FRAME-compressed (pyarrow: ipc.IpcWriteOptions(compression="lz4"))',
  CORRUPT: 'the file is damaged beyond recovery; record again',
};

/** Errors from the format reader keep their sentence; the reader's own advice is not repeated. */
export function fromFormatError(err: FormatError): AnalyzerError {
  const hint = FORMAT_HINTS[err.code];
  const message = err.message.endsWith(`: ${hint}`) ? err.message.slice(0, -hint.length - 2) : err.message;
  return new AnalyzerError(err.code, message, hint, { cause: err });
}

/**
 * DuckDB messages can run to many lines (candidates, carets); the first says what went wrong.
 * The Node binding's own prefix ("Failed to extract statements: ") says nothing to a user.
 */
export function fromSqlError(err: unknown): AnalyzerError {
  const message = err instanceof Error ? err.message : String(err);
  const first = message.replace(/^Failed to [a-z ]+: /, '').split('\n')[0].trim();
  return new AnalyzerError('SQL', first, 'check the SQL against the views listed by skbtrail query FILE "SHOW TABLES"', {
    cause: err,
  });
}

/** DuckDB's errors are plain Errors whose message names their kind ("Binder Error: ..."). */
export function isSqlError(err: unknown): boolean {
  return err instanceof Error && /^(Failed to [a-z ]+: )?[A-Z][A-Za-z ]* Error: /.test(err.message);
}

export function usageError(message: string, command?: string): AnalyzerError {
  return new AnalyzerError('USAGE', message, `see skbtrail ${command ? `${command} ` : ''}--help`);
}

export function toAnalyzerError(err: unknown): AnalyzerError {
  if (err instanceof AnalyzerError) return err;
  if (err instanceof FormatError) return fromFormatError(err);
  const message = err instanceof Error ? err.message : String(err);
  return new AnalyzerError('INTERNAL', message, 'rerun with --debug and report it', { cause: err });
}

/** The single line printed for a failure. */
export function errorLine(err: AnalyzerError): string {
  return `skbtrail: ${err.message} — ${err.hint}`;
}
