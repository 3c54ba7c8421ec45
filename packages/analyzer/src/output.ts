// stdout for data, with backpressure, and a reader that went away (`| head`) ending the
// command quietly instead of crashing it.

/** Thrown by Output.write once the reader has closed the pipe; main() turns it into exit 0. */
export class OutputClosed extends Error {
  constructor() {
    super('output closed');
  }
}

export class Output {
  private closed = false;
  private failure: Error | null = null;
  private readonly onError = (err: NodeJS.ErrnoException): void => {
    if (err.code === 'EPIPE') this.closed = true;
    else this.failure = err;
  };

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {
    stream.on('error', this.onError);
  }

  async write(text: string): Promise<void> {
    this.check();
    if (!this.stream.write(text)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.stream.off('drain', done);
          this.stream.off('error', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('error', done);
      });
    }
    this.check();
  }

  /** Stops listening, unless the pipe broke: a late EPIPE must not become an uncaught error. */
  release(): void {
    if (!this.closed) this.stream.off('error', this.onError);
  }

  private check(): void {
    if (this.closed) throw new OutputClosed();
    if (this.failure) throw this.failure;
  }
}
