/** Progress for long runs: a redrawn bar with rate and ETA on a terminal, plain lines otherwise. */

export class Progress {
  private done = 0;
  private total = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private lastLinePct = -1;
  /** true when the length is not known in advance (a stream without a frame count): count and rate only */
  private open = false;
  private lastLineCount = 0;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
  ) {}

  /** `total` null: the length is unknown (shows the count and the rate, no bar or ETA). */
  start(total: number | null): void {
    this.open = total === null;
    this.total = total ?? 0;
    this.draw(true);
  }

  tick(n = 1): void {
    this.done += n;
    this.draw(this.done === this.total);
  }

  /** A message that should not be overwritten by the bar. */
  log(message: string): void {
    if (this.quiet) return;
    if (this.stream.isTTY) this.stream.write('\r\x1b[K');
    this.stream.write(`${message}\n`);
    this.draw(true);
  }

  finish(): void {
    if (!this.quiet && this.stream.isTTY) this.stream.write('\n');
  }

  private draw(force: boolean): void {
    if (this.quiet || (this.total === 0 && !this.open)) return;
    const now = Date.now();
    const seconds = (now - this.started) / 1000;
    const rate = this.done / Math.max(1e-3, seconds);
    if (this.open) {
      const text = `${this.label} ${this.done} frames  ${rate.toFixed(1)} frames/s`;
      if (this.stream.isTTY) {
        if (!force && now - this.lastDraw < 100) return;
        this.lastDraw = now;
        this.stream.write(`\r\x1b[K${text}`);
      } else if (this.done === 0 || this.done >= this.lastLineCount + 10) {
        this.lastLineCount = this.done;
        this.stream.write(`${text}\n`);
      }
      return;
    }
    const eta = rate > 0 ? (this.total - this.done) / rate : 0;
    const pct = Math.floor((100 * this.done) / this.total);
    const text = `${this.label} ${this.done}/${this.total} frames  ${rate.toFixed(1)} frames/s  ETA ${formatSeconds(eta)}`;
    if (this.stream.isTTY) {
      if (!force && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const width = 24;
      const filled = Math.round((width * this.done) / this.total);
      this.stream.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${text}`);
    } else if (pct >= this.lastLinePct + 10 || this.done === this.total) {
      this.lastLinePct = pct - (pct % 10);
      this.stream.write(`${text}\n`);
    }
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

/**
 * Ctrl-C (and SIGTERM) for long runs: the first asks the run to stop after its current frame, the second quits
 * at once. Returns the flag to poll and a function that removes the handlers.
 */
export function stopOnSignal(progress: Progress): { readonly requested: () => boolean; readonly dispose: () => void } {
  let stop = false;
  const onSignal = () => {
    if (stop) process.exit(130);
    stop = true;
    progress.log('stopping after the current frame (Ctrl-C again to quit at once)...');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    requested: () => stop,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
