/**
 * A short recorded RTP stream for the live stages' tests: 24 frames of a moving pattern, 160x120, encoded by our
 * own VP8 encoder (keyframes at frames 0 and 12) and packetized as the Node client sends them (werift's VP8
 * packetizer, 1 to 3 packets per frame). File format: per packet a 2-byte big-endian length, then the packet.
 *
 *   node build/test/rtpRecording.js --write     (re)writes test/fixtures/vp8-160x120-24f.rtp
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RtpPacket } from 'werift';
import { Vp8Packetizer } from 'werift/nonstandard';
import { Vp8Encoder, type I420Frame } from '../node/media/vp8Codec.js';
import { projectRoot } from '../node/projectRoot.js';

export const RECORDING_PATH = join(projectRoot(), 'test', 'fixtures', 'vp8-160x120-24f.rtp');
export const RECORDING = { width: 160, height: 120, frames: 24, keyframeAt: [0, 12], fps: 30 } as const;

/** Frame t: diagonal stripes that move, so that every frame differs from the last. */
function patternFrame(t: number): I420Frame {
  const { width: W, height: H } = RECORDING;
  const data = new Uint8Array(W * H + 2 * ((W + 1) >> 1) * ((H + 1) >> 1)).fill(128);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = 40 + ((x + y + 3 * t) % 32) * 5;
  return { width: W, height: H, data };
}

export async function recordRtp(): Promise<Buffer[]> {
  const { width, height, frames, fps } = RECORDING;
  const encoder = await Vp8Encoder.create({ width, height, fps, bitrate: 300_000, keyframeInterval: 12 });
  const packetizer = new Vp8Packetizer({ payloadType: 96, ssrc: 1234 });
  const packets: Buffer[] = [];
  try {
    for (let t = 0; t < frames; t++) {
      for (const encoded of await encoder.encode(patternFrame(t))) {
        for (const rtp of packetizer.packetize(Buffer.from(encoded.data), (t * 90_000) / fps)) packets.push(rtp.serialize());
      }
    }
  } finally {
    await encoder.close();
  }
  return packets;
}

export function readRtpRecording(path = RECORDING_PATH): RtpPacket[] {
  const bytes = readFileSync(path);
  const packets: RtpPacket[] = [];
  for (let o = 0; o < bytes.length;) {
    const n = bytes.readUInt16BE(o);
    packets.push(RtpPacket.deSerialize(bytes.subarray(o + 2, o + 2 + n)));
    o += 2 + n;
  }
  return packets;
}

if (process.argv.includes('--write')) {
  const packets = await recordRtp();
  writeFileSync(RECORDING_PATH, Buffer.concat(packets.flatMap((p) => [Buffer.from([p.length >> 8, p.length & 255]), p])));
  console.log(`${RECORDING_PATH}: ${packets.length} packets`);
}
