/**
 * VP8 decoding in a worker thread: `decode(frame)` resolves with the tight I420 picture, or null when the
 * decoder produced none. A corrupt frame rejects with ProtocolError (the caller counts it and asks for a
 * keyframe); a dead worker rejects everything pending with InvalidStateError.
 */
import { Worker } from 'node:worker_threads';
import { InvalidStateError, ProtocolError } from '../../shared/errors.js';
import type { I420Frame } from '../../node/media/vp8Codec.js';
import { PendingReplies } from '../pendingReplies.js';
import { stopWorker } from '../stopWorker.js';
import type { DecodeReply, DecodeRequest } from './decodeMessages.js';

export class Decoder {
  private readonly pending = new PendingReplies<I420Frame | null>();
  private closed = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: DecodeReply) => this.onReply(m));
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new InvalidStateError(`decode worker exited (code ${code})`)));
  }

  static create(): Promise<Decoder> {
    const worker = new Worker(new URL('./decodeWorker.js', import.meta.url));
    return new Promise((resolve, reject) => {
      worker.once('message', (m: DecodeReply) => {
        if (m.kind === 'ready') return resolve(new Decoder(worker));
        void worker.terminate();
        reject(new InvalidStateError(`VP8 decoder failed to start: ${m.kind === 'failed' ? m.message : m.kind}`));
      });
      worker.once('error', reject);
    });
  }

  /** The bytes are copied (the caller keeps its buffer). */
  decode(data: Uint8Array): Promise<I420Frame | null> {
    if (this.closed) return Promise.reject(new InvalidStateError('Decoder is closed'));
    return this.pending.request({}, (id) => {
      const copy = data.slice();
      this.worker.postMessage({ kind: 'decode', id, data: copy } satisfies DecodeRequest, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pending.rejectAll(new InvalidStateError('Decoder closed'));
    await stopWorker(this.worker, { kind: 'close' } satisfies DecodeRequest);
  }

  private onReply(m: DecodeReply): void {
    if (m.kind === 'ready' || m.kind === 'failed') return;
    const p = this.pending.take(m.id);
    if (!p) return;
    if (m.kind === 'error') p.reject(new ProtocolError(`VP8 frame does not decode: ${m.message}`));
    else p.resolve(m.kind === 'none' ? null : { width: m.width, height: m.height, data: m.data });
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.rejectAll(new InvalidStateError(`decode worker died: ${e.message}`));
  }
}
