/**
 * worker_threads entry: one VP8 decoder per worker, off the main thread (werift's ICE, DTLS and SCTP run there).
 * Messages are typed in decoder.ts.
 */
import { parentPort } from 'node:worker_threads';
import { Vp8Decoder } from '../../node/media/vp8Codec.js';
import type { DecodeReply, DecodeRequest } from './decodeMessages.js';

const port = parentPort;
if (!port) throw new Error('decodeWorker.ts must run in a worker thread');

Vp8Decoder.create().then(
  (decoder) => {
    port.postMessage({ kind: 'ready' } satisfies DecodeReply);
    port.on('message', (req: DecodeRequest) => {
      if (req.kind === 'close') {
        void decoder.close().finally(() => port.close());
        return;
      }
      decoder.decode(req.data).then(
        (f) => {
          if (!f) return port.postMessage({ kind: 'none', id: req.id } satisfies DecodeReply);
          port.postMessage({ kind: 'frame', id: req.id, width: f.width, height: f.height, data: f.data } satisfies DecodeReply, [f.data.buffer as ArrayBuffer]);
        },
        (e: Error) => port.postMessage({ kind: 'error', id: req.id, message: e.message } satisfies DecodeReply),
      );
    });
  },
  (e: Error) => port.postMessage({ kind: 'failed', message: e.message } satisfies DecodeReply),
);
