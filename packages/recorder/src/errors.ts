/** One error type for the recorder CLI: a code for tests, an exit code, and a sentence a user can act on. */
export type RecorderErrorCode =
  | 'USAGE'
  | 'NATIVE_MISSING'
  | 'PERMISSION'
  | 'BTF'
  | 'LOAD'
  | 'ATTACH'
  | 'NO_PROBES'
  | 'IO'
  | 'NOT_SUPPORTED'
  /** the kernel lacks what a requested backend needs: a failure of this machine, not of the command line */
  | 'KERNEL_FEATURE';

export class RecorderError extends Error {
  readonly code: RecorderErrorCode;
  readonly exitCode: number;
  readonly errno?: number;
  readonly detail?: string;

  constructor(code: RecorderErrorCode, message: string, opts: { errno?: number; detail?: string; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.code = code;
    this.exitCode = code === 'USAGE' || code === 'NOT_SUPPORTED' ? 2 : 1;
    this.errno = opts.errno;
    this.detail = opts.detail;
  }
}

/** Errors thrown by the native addon carry code/errno/log; turn them into RecorderErrors. */
export function fromNativeError(err: unknown, what: string): RecorderError {
  if (err instanceof RecorderError) return err;
  const e = err as { message?: string; code?: string; errno?: number; log?: string };
  const message = e?.message ?? String(err);
  const code: RecorderErrorCode =
    e?.code === 'EPERM' || e?.code === 'EACCES'
      ? 'PERMISSION'
      : e?.code === 'BTF'
        ? 'BTF'
        : e?.code === 'ATTACH'
          ? 'ATTACH'
          : 'LOAD';
  return new RecorderError(code, `${what}: ${message}`, { errno: e?.errno, detail: e?.log, cause: err });
}
