/** What the decoder (decoder.ts) and its worker (decodeWorker.ts) say to each other. */
export type DecodeRequest = { kind: 'decode'; id: number; data: Uint8Array } | { kind: 'close' };
export type DecodeReply =
  | { kind: 'ready' }
  | { kind: 'failed'; message: string }
  | { kind: 'frame'; id: number; width: number; height: number; data: Uint8Array }
  | { kind: 'none'; id: number }
  | { kind: 'error'; id: number; message: string };
