/**
 * The live path's stages, without WebRTC: a recorded RTP stream (test/rtpRecording.ts, our own encoder) replayed
 * through ingest (jitter buffer, depacketizer) → keyframe gate → decode chain (the real decoder worker) → the
 * newest-frame slot → an engine stand-in → the result sender and its channel sinks.
 */
import t from 'tap';
import { loadFacekit } from '../../node/facekit/loadFacekit.js';
import { DEFAULT_SESSION_OPTIONS } from '../../shared/sessionOptions.js';
import { decodeServerMessage } from '../../shared/wire/schema.js';
import { Reassembler } from '../../shared/wire/chunks.js';
import { readRtpRecording, RECORDING } from '../../test/rtpRecording.js';
import { ChannelSink, MessageIds, type DataChannelLike } from '../egress/channelSink.js';
import { ResultSender } from '../egress/resultSender.js';
import { SessionMesh, TrackedMesh } from '../engine/trackedMesh.js';
import type { FaceResult } from '../engine/types.js';
import { DecodeChain, type DecodedPicture } from '../ingest/decodeChain.js';
import { Decoder } from '../ingest/decoder.js';
import { KeyframeGate } from '../ingest/keyframeGate.js';
import { VideoIngest } from '../ingest/videoIngest.js';
import { NewestFrameSlot } from './newestFrameSlot.js';

const mesh = new SessionMesh(new TrackedMesh(loadFacekit()));

class RecordingChannel implements DataChannelLike {
  readonly label = 'results';
  readonly readyState = 'open';
  readonly bufferedAmount = 0;
  private readonly reassembler = new Reassembler();
  readonly messages: ReturnType<typeof decodeServerMessage>[] = [];
  send(data: Buffer): void {
    const m = this.reassembler.push(new Uint8Array(data));
    if (m) this.messages.push(decodeServerMessage(m));
  }
}

/** The stages wired as LiveSession wires them; `engineMs`: how long the stand-in engine takes per frame. */
async function replay(t: { teardown: (f: () => unknown) => void; fail: (m: string) => void }, o: { dropPacket?: number; engineMs: number }) {
  const decoder = await Decoder.create();
  t.teardown(() => decoder.close());
  const channel = new RecordingChannel();
  const results = new ChannelSink(1 << 20, new MessageIds());
  results.attach(channel);
  const sender = new ResultSender(results, new ChannelSink(1 << 20, new MessageIds()), mesh);
  const processed: DecodedPicture[] = [];
  const slot = new NewestFrameSlot(async (p: DecodedPicture): Promise<FaceResult> => {
    processed.push(p);
    await new Promise((r) => setTimeout(r, o.engineMs));
    return { kind: 'noFace', frameId: p.frameId, reason: 'notFound' };
  }, (r, p) => sender.send(r, p, DEFAULT_SESSION_OPTIONS, { decode: p.decodeMs }));
  const decode = new DecodeChain(decoder, { maxFramePixels: 1920 * 1080, onPicture: (p) => slot.offer(p), onTooLarge: () => t.fail('not too large') });
  const keyframeRequests: number[] = [];
  const gate = new KeyframeGate({ maxFramePixels: 1920 * 1080, maxDecodeBacklog: 8, retryMs: 500, requestKeyframe: () => keyframeRequests.push(1) });
  const ingest = new VideoIngest({ latencyMs: 60, onNeedKeyframe: () => gate.needKeyframe() });
  const packets = readRtpRecording();
  for (const [i, rtp] of packets.entries()) {
    if (i === o.dropPacket) continue;
    for (const f of ingest.push(rtp)) if (gate.admit(f, decode.backlog).pass) decode.push(f.data, f.rtpTimestamp);
    // at the recording's pace, so that the engine stand-in is sometimes busy when a frame arrives
    await new Promise((r) => setTimeout(r, 1000 / RECORDING.fps / 2));
  }
  await decode.drained();
  await slot.idle();
  return { packets, ingest: ingest.stats(), gate: gate.stats(), decode: decode.stats(), slot: slot.stats(), sender: sender.stats(), results: results.stats(), processed, channel };
}

t.test('the whole recording: every frame decoded, each run or replaced by a newer one, each run answered', async (t) => {
  const r = await replay(t, { engineMs: 40 });
  t.equal(r.packets.length, 27, 'the recording: 27 packets');
  t.match(r.ingest, { frames: RECORDING.frames, keyframes: 2, lostPackets: 0, malformed: 0 });
  t.match(r.gate, { passed: RECORDING.frames, awaitingKeyframe: 0, decodeBacklog: 0, keyframeRequests: 0 });
  t.match(r.decode, { decoded: RECORDING.frames, decodeErrors: 0, backlog: 0 });
  t.ok(r.processed.every((p) => p.width === RECORDING.width && p.height === RECORDING.height), 'pictures of the recorded size');
  t.equal(r.slot.processed + r.slot.replaced, RECORDING.frames, `${r.slot.processed} run, ${r.slot.replaced} replaced while the engine was busy`);
  t.ok(r.slot.replaced > 0, 'a 40 ms engine at 30 frames/s drops some');
  t.match(r.slot, { processErrors: 0, deliverErrors: 0 });
  t.equal(r.channel.messages.length, r.slot.processed, 'one result message per frame run');
  t.same(r.channel.messages.map((m) => m.t === 'result' && m.frameId), r.processed.map((p) => p.frameId), 'in order, with their frame ids');
  t.match(r.results, { sent: r.slot.processed, dropped: 0, failed: 0 });
});

t.test('a lost packet: the frames after it skip to the next keyframe, which is asked for; nothing broken is decoded', async (t) => {
  const r = await replay(t, { dropPacket: 8, engineMs: 1 });
  t.ok(r.ingest.lostPackets >= 1, `the jitter buffer saw ${r.ingest.lostPackets} lost`);
  t.ok(r.gate.keyframeRequests >= 1, `${r.gate.keyframeRequests} keyframe requests`);
  t.ok(r.gate.awaitingKeyframe > 0, `${r.gate.awaitingKeyframe} frames skipped to the keyframe`);
  t.equal(r.decode.decodeErrors, 0, 'no frame that depends on the lost one reached the decoder');
  const ids = r.processed.map((p) => Math.round((p.frameId * RECORDING.fps) / 90_000));
  t.ok(ids.includes(12) && ids.includes(RECORDING.frames - 1), `decoding resumed at the keyframe (frames ${ids.join(' ')})`);
});
