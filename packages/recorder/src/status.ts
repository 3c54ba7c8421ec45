/** The stderr status line (events, lost, rate), redrawn in place, only on a TTY. */
export class StatusLine {
  /** liveOnStdout: --live lines go to stdout; if that is the same terminal, the status line would cut through them. */
  constructor(liveOnStdout = false) {
    this.enabled = Boolean(process.stderr.isTTY) && !(liveOnStdout && process.stdout.isTTY);
  }

  private readonly enabled: boolean;
  private lastEvents = 0;
  private lastTime = Date.now();

  update(events: number, lost: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    const rate = ((events - this.lastEvents) * 1000) / Math.max(1, now - this.lastTime);
    this.lastEvents = events;
    this.lastTime = now;
    process.stderr.write(`\r\x1b[Kskbtrail: ${events} events, ${lost} lost, ${Math.round(rate)} events/s`);
  }

  end(): void {
    if (this.enabled) process.stderr.write('\r\x1b[K');
  }
}
