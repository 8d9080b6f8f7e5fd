/**
 * Bad inputs for every boundary of the live server and the offline reader: the cases found by hand (issue 19's
 * list) and generated ones, from a seeded generator so that the committed corpus can be made again
 * (`npm run bench -- fuzz --write-corpus`). The test suite replays the committed file
 * (server/live/badInputs.test.ts); the fuzz bench mutates valid traffic for as long as it is asked to.
 */
import { Packr } from 'msgpackr';
import { parseClientSignal } from '../../shared/signaling.js';

export type BadInputKind = 'ws-frame' | 'signal' | 'candidate' | 'datachannel' | 'rtp' | 'vp8' | 'file';

export interface BadInput {
  readonly kind: BadInputKind;
  readonly name: string;
  /** the bytes (hex), or for 'signal' the text message, for 'candidate' a candidate message sent after a real offer */
  readonly data: string;
  /** ws-frame: this many bytes of 0x61 follow `data` (a long payload, not stored) */
  readonly pad?: number;
  /** rtp: the marker bit; file: the file name's extension */
  readonly marker?: boolean;
  readonly ext?: string;
  /** signal: the parser takes it (a well-formed message); the server may answer it. Every other case must be refused */
  readonly wellFormed?: boolean;
}

/** A small seeded generator (mulberry32): the corpus is the same on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (b: Uint8Array | number[]) => Buffer.from(b instanceof Uint8Array ? b : Uint8Array.from(b)).toString('hex');
const bytes = (rnd: () => number, n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));

/** A client WebSocket frame: FIN, opcode, mask bit and key, the payload masked. */
export function wsFrame(opcode: number, payload: Uint8Array, o: { fin?: boolean; rsv?: number; masked?: boolean; lengthOverride?: number } = {}): Uint8Array {
  const masked = o.masked ?? true;
  const len = o.lengthOverride ?? payload.length;
  const head: number[] = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode];
  if (len < 126) head.push((masked ? 0x80 : 0) | len);
  else if (len < 65536) head.push((masked ? 0x80 : 0) | 126, len >> 8, len & 0xff);
  else head.push((masked ? 0x80 : 0) | 127, 0, 0, 0, 0, (len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  const key = [0x12, 0x34, 0x56, 0x78];
  const body = masked ? payload.map((x, i) => x ^ key[i & 3]) : payload;
  return Uint8Array.from([...head, ...(masked ? key : []), ...body]);
}

/** A valid-looking SDP offer skeleton: what the signaling parser needs, to mutate from. */
export const OFFER_SKELETON = [
  'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=sendonly', 'a=rtpmap:96 VP8/90000',
  'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=fingerprint:sha-256 ' + Array.from({ length: 32 }, () => 'AB').join(':'),
  'a=setup:actpass', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:1', 'a=sctp-port:5000', '',
].join('\r\n');

function wsFrames(rnd: () => number): BadInput[] {
  const text = (s: string) => new TextEncoder().encode(s);
  const cases: BadInput[] = [
    { kind: 'ws-frame', name: 'text message of 129 KiB (over the 128 KiB limit)', data: hex(wsFrame(1, new Uint8Array(0), { lengthOverride: 129 * 1024 })), pad: 129 * 1024 },
    { kind: 'ws-frame', name: 'text message of 1 MB', data: hex(wsFrame(1, new Uint8Array(0), { lengthOverride: 1 << 20 })), pad: 1 << 20 },
    { kind: 'ws-frame', name: 'text message of 10 MB', data: hex(wsFrame(1, new Uint8Array(0), { lengthOverride: 10 << 20 })), pad: 10 << 20 },
    { kind: 'ws-frame', name: 'a bare header announcing 200 KiB', data: hex(wsFrame(1, new Uint8Array(0), { lengthOverride: 200 * 1024 })) },
    { kind: 'ws-frame', name: 'a header announcing 2^63 bytes', data: hex([0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]) },
    { kind: 'ws-frame', name: 'invalid UTF-8 in a text frame', data: hex(wsFrame(1, Uint8Array.from([0xc3, 0x28, 0xa0, 0xa1]))) },
    { kind: 'ws-frame', name: 'reserved opcode 3', data: hex(wsFrame(3, text('x'))) },
    { kind: 'ws-frame', name: 'reserved control opcode 11', data: hex(wsFrame(11, text('x'))) },
    { kind: 'ws-frame', name: 'RSV1 set without an extension', data: hex(wsFrame(1, text('{}'), { rsv: 4 })) },
    { kind: 'ws-frame', name: 'RSV2 and RSV3 set', data: hex(wsFrame(1, text('{}'), { rsv: 3 })) },
    { kind: 'ws-frame', name: 'an unmasked client frame', data: hex(wsFrame(1, text('hi'), { masked: false })) },
    { kind: 'ws-frame', name: 'a 200-byte ping (control frames carry at most 125)', data: hex(wsFrame(9, new Uint8Array(200))) },
    { kind: 'ws-frame', name: 'a fragmented ping', data: hex(wsFrame(9, text('ping'), { fin: false })) },
    { kind: 'ws-frame', name: 'close code 999', data: hex(wsFrame(8, Uint8Array.from([0x03, 0xe7]))) },
    { kind: 'ws-frame', name: 'close with a 1-byte body', data: hex(wsFrame(8, Uint8Array.from([0x03]))) },
    { kind: 'ws-frame', name: 'close with invalid UTF-8 reason', data: hex(wsFrame(8, Uint8Array.from([0x03, 0xe8, 0xff, 0xfe]))) },
    { kind: 'ws-frame', name: 'a continuation with nothing to continue', data: hex(wsFrame(0, text('more'))) },
    { kind: 'ws-frame', name: 'a text frame inside a fragmented text message', data: hex([...wsFrame(1, text('{"ty'), { fin: false }), ...wsFrame(1, text('pe"}'))]) },
    { kind: 'ws-frame', name: 'a binary message', data: hex(wsFrame(2, bytes(rnd, 64))) },
  ];
  // generated: a valid masked text frame of a signaling message, with its bytes mutated
  const valid = wsFrame(1, text(JSON.stringify({ type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 } })));
  for (let i = 0; i < 50; i++) cases.push({ kind: 'ws-frame', name: `generated: a signaling frame mutated (${i})`, data: hex(mutate(valid, rnd)) });
  return cases;
}

function signals(rnd: () => number): BadInput[] {
  const s = (name: string, value: unknown) => ({ kind: 'signal' as const, name, data: typeof value === 'string' ? value : JSON.stringify(value) });
  const cases: BadInput[] = [
    s('not JSON', 'not json'), s('empty', ''), s('JSON null', 'null'), s('an array', '[]'), s('a number', '42'),
    s('no type', {}), s('unknown type', { type: 'dance' }), s('type not a string', { type: 7 }),
    s('offer without sdp', { type: 'offer' }), s('offer, sdp a number', { type: 'offer', sdp: 5, options: {} }),
    s('offer, sdp of 70 KB', { type: 'offer', sdp: 'v=0\r\n' + 'a'.repeat(70_000), options: {} }),
    s('offer, options an array', { type: 'offer', sdp: OFFER_SKELETON, options: [] }),
    s('offer, mapsEvery negative', { type: 'offer', sdp: OFFER_SKELETON, options: { mapsEvery: -1 } }),
    s('offer, mapsStride 9', { type: 'offer', sdp: OFFER_SKELETON, options: { mapsStride: 9 } }),
    s('offer, fovDeg NaN as a string', { type: 'offer', sdp: OFFER_SKELETON, options: { fovDeg: 'NaN' } }),
    s('offer, fovDeg 1e308', { type: 'offer', sdp: OFFER_SKELETON, options: { fovDeg: 1e308 } }),
    s('offer, token an object', { type: 'offer', sdp: OFFER_SKELETON, options: {}, token: { toString: 1 } }),
    s('offer, token of 300 characters', { type: 'offer', sdp: OFFER_SKELETON, options: {}, token: 'x'.repeat(300) }),
    s('offer with __proto__', JSON.parse('{"type":"offer","sdp":"v=0","options":{"__proto__":{"mapsEvery":3}}}')),
    s('candidate before the offer', { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 } }),
    s('candidate not an object', { type: 'candidate', candidate: 'x' }),
    s('candidate, sdpMLineIndex 99', { type: 'candidate', candidate: { candidate: 'c', sdpMid: '0', sdpMLineIndex: 99 } }),
    s('candidate, sdpMid a number', { type: 'candidate', candidate: { candidate: 'c', sdpMid: 0, sdpMLineIndex: 0 } }),
    s('candidate of 2 KB', { type: 'candidate', candidate: { candidate: 'c'.repeat(2000), sdpMid: '0', sdpMLineIndex: 0 } }),
    s('close before anything', { type: 'close' }),
    s('deeply nested', '{"type":"offer","options":' + '['.repeat(5000) + ']'.repeat(5000) + '}'),
    s('a string with a lone surrogate', '{"type":"\\ud800"}'),
  ];
  // garbage SDPs: the parser must name what is missing, the WebRTC stack must never see them
  const sdpGarbage = ['', 'v=0', 'v=1\r\n', 'hello', OFFER_SKELETON.replace('v=0', 'v=9'), OFFER_SKELETON.replace(/a=ice-pwd:.*\r\n/, ''),
    OFFER_SKELETON.replace(/a=fingerprint:.*\r\n/, ''), OFFER_SKELETON.replace(/m=video.*\r\n/, 'm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n'),
    OFFER_SKELETON.replace('a=ice-ufrag:abcd', 'a=ice-ufrag:'), OFFER_SKELETON.replace('sha-256', 'md5'), OFFER_SKELETON.split('\r\n').reverse().join('\r\n'),
    OFFER_SKELETON.replace(/\r\n/g, '\n'), OFFER_SKELETON.replace('a=rtpmap:96 VP8/90000', 'a=rtpmap:96 H264/90000'), OFFER_SKELETON + 'm=video 0 RTP/AVP 0\r\n',
    OFFER_SKELETON.replace('a=setup:actpass', 'a=setup:bogus'), OFFER_SKELETON.replace('a=mid:0', 'a=mid:'), OFFER_SKELETON.replace('UDP/TLS/RTP/SAVPF 96', 'UDP/TLS/RTP/SAVPF'),
    OFFER_SKELETON.replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 7'), OFFER_SKELETON.replace('a=sctp-port:5000', 'a=sctp-port:-1'), 'v=0\r\n' + 'm=video 9 x 96\r\n'.repeat(200),
    OFFER_SKELETON.replace('c=IN IP4 0.0.0.0', 'c=IN IP4 999.1.1.1'), OFFER_SKELETON.replace('a=fingerprint:sha-256 ', 'a=fingerprint:sha-256 ZZ')];
  sdpGarbage.forEach((sdp, i) => cases.push(s(`garbage SDP ${i}`, { type: 'offer', sdp, options: {} })));
  // generated: valid messages with one field's value replaced
  const values: unknown[] = [null, true, -1, 0.5, 1e9, '', 'x'.repeat(5000), [], {}, [1, 2], { a: { b: {} } }];
  const templates = [{ type: 'offer', sdp: OFFER_SKELETON, options: { mapsEvery: 1, meshEvery: 0, mapsStride: 2, fovDeg: 60 } }, { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 } }];
  for (let i = 0; i < 60; i++) {
    const m = JSON.parse(JSON.stringify(templates[i % 2])) as Record<string, Record<string, unknown>>;
    const inner = i % 2 === 0 ? m.options : m.candidate;
    const keys = Object.keys(inner);
    inner[keys[Math.floor(rnd() * keys.length)]] = values[Math.floor(rnd() * values.length)] as never;
    cases.push(s(`generated: a field replaced (${i})`, m));
  }
  for (let i = 0; i < 20; i++) {
    const text = JSON.stringify(templates[i % 2]);
    cases.push(s(`generated: a message cut at a random place (${i})`, text.slice(0, Math.floor(rnd() * text.length))));
  }
  return cases;
}

/** Candidate messages for a socket whose offer was answered: they reach the WebRTC stack's own parser. */
function candidates(rnd: () => number): BadInput[] {
  const valid = 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host';
  const texts = ['x', '', 'candidate:', 'candidate:1 1 udp', 'candidate:1 1 udp abc 127.0.0.1 9 typ host', 'candidate:1 1 udp 1 999.9.9.9 9 typ host',
    'candidate:1 1 udp 1 127.0.0.1 99999 typ host', 'candidate:1 1 tcp 1 127.0.0.1 9 typ host tcptype', 'candidate:1 1 udp 1 127.0.0.1 9 typ relay raddr',
    'candidate:1 1 udp 1 some.host.name 9 typ host', 'candidate:1 1 udp 1 ::1 9 typ host', 'candidate:1 999 udp 1 127.0.0.1 9 typ srflx raddr 1.2.3.4 rport 5',
    'a'.repeat(1000)];
  for (let i = 0; i < 20; i++) texts.push(Buffer.from(mutate(new TextEncoder().encode(valid), rnd)).toString('latin1'));
  const cases: BadInput[] = [];
  texts.forEach((candidate, i) => {
    for (const [sdpMid, sdpMLineIndex] of [['0', 0], [null, 5], ['9', 0]] as const) {
      cases.push({ kind: 'candidate', name: `candidate ${i} (mid ${sdpMid}, index ${sdpMLineIndex})`, data: JSON.stringify({ type: 'candidate', candidate: { candidate, sdpMid, sdpMLineIndex } }) });
    }
  });
  return cases;
}

function dataChannel(rnd: () => number): BadInput[] {
  const packr = new Packr({ useRecords: false });
  const d = (name: string, b: Uint8Array | number[]) => ({ kind: 'datachannel' as const, name, data: hex(b) });
  const valid = packr.pack({ t: 'options', mapsEvery: 1, meshEvery: 0, mapsStride: 2, fovDeg: 60 });
  const cases: BadInput[] = [
    d('{t: {toString: 1}} (crashed the server once)', packr.pack({ t: { toString: 1 } })),
    d('{t: options} with no fields', packr.pack({ t: 'options' })),
    d('an unknown message type', packr.pack({ t: 'teleport' })),
    d('not a map: a string', packr.pack('options')),
    d('nil', packr.pack(null)),
    d('an array32 header announcing 2^32 - 1 items', [0xdd, 0xff, 0xff, 0xff, 0xff]),
    d('a map32 header announcing 2^32 - 1 entries', [0xdf, 0xff, 0xff, 0xff, 0xff]),
    d('a str32 header announcing 4 GB', [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]),
    d('a bin32 header announcing 4 GB', [0xc6, 0xff, 0xff, 0xff, 0xff]),
    d('an ext type -1 (a timestamp) of bad length', [0xd7, 0xff, 1, 2, 3]),
    d('the reserved byte 0xc1', [0xc1]),
    d('empty', []),
    d('nested 10,000 arrays deep', [...Array(10000).fill(0x91), 0xc0]),
    d('options, fovDeg Infinity', packr.pack({ t: 'options', mapsEvery: 1, meshEvery: 0, mapsStride: 2, fovDeg: Infinity })),
    d('options, mapsStride 0', packr.pack({ t: 'options', mapsEvery: 1, meshEvery: 0, mapsStride: 0, fovDeg: 60 })),
    d('options, a typed array as mapsEvery', packr.pack({ t: 'options', mapsEvery: new Float64Array(3), meshEvery: 0, mapsStride: 2, fovDeg: 60 })),
    d('options with __proto__', packr.pack(JSON.parse('{"t":"options","__proto__":{"x":1},"mapsEvery":1,"meshEvery":0,"mapsStride":2,"fovDeg":60}'))),
  ];
  for (let i = 0; i < 60; i++) cases.push(d(`generated: the options message mutated (${i})`, mutate(valid, rnd)));
  for (let i = 0; i < 20; i++) cases.push(d(`generated: random bytes (${i})`, bytes(rnd, 1 + Math.floor(rnd() * 200))));
  return cases;
}

/** A VP8 keyframe's first bytes (frame tag, start code, 14-bit sizes), then noise. */
function vp8Keyframe(width: number, height: number, rnd: () => number, size = 600): Uint8Array {
  const f = bytes(rnd, size);
  f.set([0x50, 0x2a, 0x00, 0x9d, 0x01, 0x2a, width & 0xff, (width >> 8) & 0x3f, height & 0xff, (height >> 8) & 0x3f]);
  return f;
}

function media(rnd: () => number): BadInput[] {
  const cases: BadInput[] = [
    { kind: 'vp8', name: 'a 44 KB keyframe announcing 16383x16383', data: hex(vp8Keyframe(16383, 16383, rnd, 44_000)) },
    { kind: 'vp8', name: 'a keyframe announcing 0x0', data: hex(vp8Keyframe(0, 0, rnd)) },
    { kind: 'vp8', name: 'a keyframe announcing 1x1', data: hex(vp8Keyframe(1, 1, rnd)) },
    { kind: 'vp8', name: 'a keyframe announcing 4000x3000', data: hex(vp8Keyframe(4000, 3000, rnd)) },
    { kind: 'vp8', name: 'a keyframe of 10 bytes', data: hex(vp8Keyframe(640, 480, rnd, 10)) },
    { kind: 'vp8', name: 'a keyframe header with a wrong start code', data: hex([0x50, 0x2a, 0, 0x9d, 0x01, 0x2b, 0x80, 2, 0xe0, 1, ...bytes(rnd, 200)]) },
    { kind: 'vp8', name: 'an inter frame before any keyframe', data: hex([0x51, ...bytes(rnd, 300)]) },
    { kind: 'vp8', name: 'one byte', data: hex([0]) },
  ];
  for (let i = 0; i < 30; i++) cases.push({ kind: 'vp8', name: `generated: a 640x480 keyframe with noise (${i})`, data: hex(vp8Keyframe(640, 480, rnd, 50 + Math.floor(rnd() * 3000))) });
  // RTP payloads that are not a VP8 payload descriptor and frame (the depacketizer's input)
  const rtp = (name: string, b: Uint8Array | number[], marker = true) => ({ kind: 'rtp' as const, name, data: hex(b), marker });
  cases.push(
    rtp('an empty payload', []),
    rtp('a descriptor with X set and nothing after it', [0x90]),
    rtp('a descriptor with I set, M set, and nothing after', [0x90, 0x80, 0x80]),
    rtp('S bit on partition 7', [0x17, ...bytes(rnd, 40)]),
    rtp('start of a frame, never finished', [0x10, 0x50, 0x2a, 0x00, 0x9d, 0x01, 0x2a], false),
    rtp('a continuation without a start', [0x00, ...bytes(rnd, 100)]),
  );
  for (let i = 0; i < 30; i++) cases.push(rtp(`generated: random payload (${i})`, bytes(rnd, Math.floor(rnd() * 1200)), rnd() < 0.7));
  return cases;
}

function files(rnd: () => number): BadInput[] {
  const f = (name: string, ext: string, b: Uint8Array | number[]) => ({ kind: 'file' as const, name, ext, data: hex(b) });
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  const ihdr = (w: number, h: number) => [...png, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, (w >>> 24) & 255, (w >>> 16) & 255, (w >>> 8) & 255, w & 255, (h >>> 24) & 255, (h >>> 16) & 255, (h >>> 8) & 255, h & 255, 8, 6, 0, 0, 0, 0, 0, 0, 0];
  const cases: BadInput[] = [
    f('an empty PNG', 'png', []), f('a PNG signature only', 'png', png), f('a PNG header saying 20000x20000', 'png', ihdr(20000, 20000)),
    f('a PNG header saying 0x0', 'png', ihdr(0, 0)), f('a PNG header saying 64x64, no data', 'png', ihdr(64, 64)),
    f('an empty JPEG', 'jpg', []), f('a JPEG SOI only', 'jpg', [0xff, 0xd8]), f('a JPEG SOF saying 65535x65535', 'jpg', [0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0xff, 0xff, 0xff, 0xff, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xff, 0xd9]),
    f('an empty y4m', 'y4m', []), f('a y4m header only', 'y4m', [...new TextEncoder().encode('YUV4MPEG2 W64 H48 F25:1 C420jpeg\n')]),
    f('a y4m saying 100000x100000', 'y4m', [...new TextEncoder().encode('YUV4MPEG2 W100000 H100000 F25:1 C420jpeg\nFRAME\n'), ...bytes(rnd, 100)]),
    f('a y4m with a negative size', 'y4m', [...new TextEncoder().encode('YUV4MPEG2 W-64 H48 F25:1\nFRAME\n')]),
    f('random bytes named .mp4', 'mp4', bytes(rnd, 4000)), f('random bytes named .webm', 'webm', bytes(rnd, 4000)),
  ];
  for (let i = 0; i < 10; i++) cases.push(f(`generated: random bytes named .png (${i})`, 'png', [...png, ...bytes(rnd, 200)]));
  for (let i = 0; i < 10; i++) cases.push(f(`generated: random bytes named .jpg (${i})`, 'jpg', [0xff, 0xd8, ...bytes(rnd, 300)]));
  return cases;
}

/** One random change of a valid input: bit flips, a cut, bytes inserted or a length field lied about. */
export function mutate(valid: Uint8Array, rnd: () => number): Uint8Array {
  const out = Array.from(valid);
  const how = Math.floor(rnd() * 5);
  if (how === 0) for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) out[Math.floor(rnd() * out.length)] ^= 1 << Math.floor(rnd() * 8);
  else if (how === 1) out.length = Math.floor(rnd() * out.length);
  else if (how === 2) out.splice(Math.floor(rnd() * out.length), 0, ...bytes(rnd, 1 + Math.floor(rnd() * 16)));
  else if (how === 3) out[Math.floor(rnd() * Math.min(out.length, 12))] = [0x00, 0x7f, 0x80, 0xff][Math.floor(rnd() * 4)];
  else for (let k = 0; k < 8; k++) out[Math.floor(rnd() * out.length)] = Math.floor(rnd() * 256);
  return Uint8Array.from(out);
}

/** The whole corpus, in a fixed order. */
export function makeBadInputs(seed = 19): BadInput[] {
  const rnd = seededRandom(seed);
  const wellFormed = (c: BadInput) => {
    try {
      parseClientSignal(c.data);
      return true;
    } catch {
      return false;
    }
  };
  const marked = signals(rnd).map((c) => (wellFormed(c) ? { ...c, wellFormed: true } : c));
  return [...wsFrames(rnd), ...marked, ...dataChannel(rnd), ...media(rnd), ...files(rnd), ...candidates(rnd)];
}

export const bytesOf = (c: BadInput): Uint8Array => Uint8Array.from(Buffer.from(c.data, 'hex'));
