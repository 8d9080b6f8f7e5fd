/**
 * The newest decoded frame waits here for a busy engine; a newer one replaces it (counted), so the engine always
 * runs on the latest picture and no queue builds. `process` runs one frame at a time; what it returns goes to
 * `deliver`. A failing process (the engine) and a failing deliver (a send, a listener) are counted apart.
 */
import { InvalidStateError } from '../../shared/errors.js';

export interface NewestFrameSlotStats {
  offered: number;
  processed: number;
  /** frames replaced by a newer one while the engine was busy */
  replaced: number;
  /** frames the engine failed on */
  processErrors: number;
  /** results whose delivery threw */
  deliverErrors: number;
}

export class NewestFrameSlot<T, R> {
  private waiting: T | null = null;
  private busy = false;
  private closed = false;
  private running: Promise<void> = Promise.resolve();
  private readonly counters: NewestFrameSlotStats = { offered: 0, processed: 0, replaced: 0, processErrors: 0, deliverErrors: 0 };

  constructor(
    private readonly process: (item: T) => Promise<R>,
    private readonly deliver: (result: R, item: T) => void,
    private readonly label = 'frame',
  ) {}

  offer(item: T): void {
    if (this.closed) return;
    this.counters.offered++;
    if (this.waiting !== null) this.counters.replaced++;
    this.waiting = item;
    if (!this.busy) this.running = this.pump();
  }

  /** Resolves when the slot is empty and nothing runs. */
  idle(): Promise<void> {
    return this.running;
  }

  close(): void {
    this.closed = true;
    this.waiting = null;
  }

  stats(): Readonly<NewestFrameSlotStats> {
    return { ...this.counters };
  }

  private async pump(): Promise<void> {
    this.busy = true;
    try {
      while (this.waiting !== null && !this.closed) {
        const item = this.waiting;
        this.waiting = null;
        let result: R;
        try {
          result = await this.process(item);
          this.counters.processed++;
        } catch (e) {
          if (!(e instanceof InvalidStateError)) this.counters.processErrors++;
          continue;
        }
        try {
          this.deliver(result, item);
        } catch (e) {
          this.counters.deliverErrors++;
          if (this.counters.deliverErrors === 1) console.error(`${this.label}: delivering a result failed: ${(e as Error).message}`);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}
