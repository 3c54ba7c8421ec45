export type FormatErrorCode = 'NOT_FOUND' | 'UNREADABLE' | 'NOT_A_RECORDING' | 'NEWER_VERSION' | 'CORRUPT';

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
