/** A one-line progress bar on stderr, drawn only on a TTY (like pwru's while it attaches kprobes). */
export class ProgressBar {
  private readonly enabled = Boolean(process.stderr.isTTY);
  private done = 0;
  private lastDrawn = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {}

  tick(): void {
    this.done++;
    const now = Date.now();
    if (!this.enabled || (now - this.lastDrawn < 100 && this.done < this.total)) return;
    this.lastDrawn = now;
    const width = 30;
    const filled = Math.round((width * this.done) / this.total);
    const bar = '='.repeat(filled) + ' '.repeat(width - filled);
    const pct = Math.floor((100 * this.done) / this.total);
    process.stderr.write(`\r\x1b[Kskbtrail: ${this.label} ${this.done}/${this.total} [${bar}] ${pct}%`);
  }

  end(): void {
    if (this.enabled) process.stderr.write('\r\x1b[K');
  }
}
