/**
 * One data channel's outbox. Every message goes in chunks of at most 16 KiB (shared/wire/chunks.ts): the hello
 * (mesh topology) and a result with the mesh exceed the 64 KiB that some peers accept in one message (werift's
 * default), and maps must anyway. Sends never queue without bound: a message that finds the channel's buffer
 * above its limit, or the channel not open, is dropped and counted; one whose send throws (a channel closing
 * under us) too.
 */
import { splitMessage } from '../../shared/wire/chunks.js';

/** What a sink needs of a data channel (werift's RTCDataChannel has it). */
export interface DataChannelLike {
  readonly label: string;
  readonly readyState: string;
  readonly bufferedAmount: number;
  send(data: Buffer): void;
}

/** Message ids, one sequence for a session's channels. */
export class MessageIds {
  private next = 0;

  take(): number {
    return this.next++;
  }
}

export const CHUNK_BYTES = 16384;

export interface ChannelSinkStats {
  sent: number;
  /** messages dropped: no open channel, or its buffer above the limit */
  dropped: number;
  /** messages whose send threw */
  failed: number;
  bytes: number;
}

export class ChannelSink {
  private channel: DataChannelLike | null = null;
  private readonly counters: ChannelSinkStats = { sent: 0, dropped: 0, failed: 0, bytes: 0 };

  /** `bufferLimit`: bytes buffered above which a new message is dropped. */
  constructor(readonly bufferLimit: number, private readonly ids: MessageIds) {}

  attach(channel: DataChannelLike): void {
    this.channel = channel;
  }

  /** An open channel whose send buffer is within the limit. */
  hasRoom(): boolean {
    const ch = this.channel;
    return ch !== null && ch.readyState === 'open' && ch.bufferedAmount <= this.bufferLimit;
  }

  /** Counts a message that was not even made because there was no room (a caller's pre-check). */
  countDropped(): void {
    this.counters.dropped++;
  }

  /** True when the message went out. */
  send(bytes: Uint8Array): boolean {
    if (!this.hasRoom()) {
      this.counters.dropped++;
      return false;
    }
    try {
      for (const c of splitMessage(bytes, this.ids.take(), CHUNK_BYTES)) this.channel!.send(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    } catch {
      this.counters.failed++;
      return false;
    }
    this.counters.sent++;
    this.counters.bytes += bytes.byteLength;
    return true;
  }

  stats(): Readonly<ChannelSinkStats> {
    return { ...this.counters };
  }
}
