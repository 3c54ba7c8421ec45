/** UNSUPPORTED: a valid Arrow stream that uses what skbtrail does not read (a compression codec other than LZ4_FRAME). */
export type FormatErrorCode = 'NOT_FOUND' | 'UNREADABLE' | 'NOT_A_RECORDING' | 'NEWER_VERSION' | 'UNSUPPORTED' | 'CORRUPT';

/** A recording that can't be opened; the message says what happened and what to do. */
export class FormatError extends Error {
  readonly exitCode = 1 as const;

  constructor(
    readonly code: FormatErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FormatError';
  }
}
