import t from 'tap';
import { KeyframeGate } from './keyframeGate.js';
import type { EncodedVideoFrame } from './videoIngest.js';

/** A VP8 keyframe header (RFC 6386 9.1) announcing width x height, or an interframe. */
function frame(keyframe: boolean, width = 640, height = 480): EncodedVideoFrame {
  const data = new Uint8Array(16);
  data[0] = keyframe ? 0x10 : 0x11; // show_frame, version 0; bit 0 = 1: interframe
  if (keyframe) {
    data.set([0x9d, 0x01, 0x2a], 3);
    data[6] = width & 255;
    data[7] = width >> 8;
    data[8] = height & 255;
    data[9] = height >> 8;
  }
  return { data, keyframe, rtpTimestamp: 0 };
}

function gate(o: { maxFramePixels?: number; maxDecodeBacklog?: number } = {}) {
  let now = 0;
  const requests: number[] = [];
  const g = new KeyframeGate({ maxFramePixels: o.maxFramePixels ?? 1920 * 1080, maxDecodeBacklog: o.maxDecodeBacklog ?? 8, retryMs: 500, requestKeyframe: () => requests.push(now), now: () => now });
  return { g, requests, advance: (ms: number) => (now += ms) };
}

t.test('frames before the first keyframe are skipped, and a keyframe is asked for again every retryMs', async (t) => {
  const { g, requests, advance } = gate();
  for (let i = 0; i < 20; i++) {
    t.same(g.admit(frame(false), 0), { pass: false, reason: 'awaitingKeyframe' });
    advance(100);
  }
  t.same(requests, [0, 600, 1200, 1800], 'at the first skipped frame, then each time 500 ms have passed');
  t.same(g.admit(frame(true), 0), { pass: true }, 'the keyframe starts the chain');
  t.same(g.admit(frame(false), 0), { pass: true }, 'and the frames after it pass');
  t.match(g.stats(), { passed: 2, awaitingKeyframe: 20, keyframeRequests: 4 });
});

t.test('needKeyframe() (a loss) skips to the next keyframe and asks for one at once', async (t) => {
  const { g, requests } = gate();
  g.admit(frame(true), 0);
  g.needKeyframe();
  t.equal(requests.length, 1);
  t.equal(g.admit(frame(false), 0).pass, false);
  t.equal(g.admit(frame(true), 0).pass, true);
});

t.test('a keyframe announcing too many pixels is refused with its size, and so are the frames that depend on it', async (t) => {
  const { g } = gate({ maxFramePixels: 1920 * 1080 });
  t.same(g.admit(frame(true, 16383, 16383), 0), { pass: false, reason: 'tooLarge', width: 16383, height: 16383 });
  t.same(g.admit(frame(false), 0), { pass: false, reason: 'awaitingKeyframe' });
  t.same(g.admit(frame(true, 1920, 1080), 0), { pass: true }, 'exactly the limit passes');
  t.equal(g.stats().tooLarge, 1);
});

t.test('a decoder backlog at its limit drops the frame, skips to a keyframe and asks for one', async (t) => {
  const { g, requests } = gate({ maxDecodeBacklog: 8 });
  g.admit(frame(true), 0);
  t.same(g.admit(frame(false), 7), { pass: true });
  t.same(g.admit(frame(false), 8), { pass: false, reason: 'decodeBacklog' });
  t.equal(requests.length, 1);
  t.same(g.admit(frame(false), 0), { pass: false, reason: 'awaitingKeyframe' }, 'the chain is broken until a keyframe');
  t.match(g.stats(), { passed: 2, decodeBacklog: 1, awaitingKeyframe: 1 });
});
