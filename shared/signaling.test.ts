import t from 'tap';
import { ProtocolError } from './errors.js';
import { DEFAULT_SESSION_OPTIONS } from './sessionOptions.js';
import { candidateAddress, candidateFromWire, candidateToWire, parseClientSignal, parseServerSignal } from './signaling.js';

const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0',
  'a=mid:0', 'a=rtpmap:96 VP8/90000', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 ' + Array(32).fill('AB').join(':'), 'a=setup:actpass', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:1', 'a=sctp-port:5000', ''].join('\r\n');

/** True when the client signal is refused with a ProtocolError whose message matches. */
function refusedWith(text: string, pattern: RegExp): boolean {
  try {
    parseClientSignal(text);
    return false;
  } catch (e) {
    return e instanceof ProtocolError && pattern.test(e.message);
  }
}

t.test('an offer: checked SDP, options with their defaults, an optional token', async (t) => {
  t.same(parseClientSignal(JSON.stringify({ type: 'offer', sdp: SDP })), { type: 'offer', sdp: SDP, options: DEFAULT_SESSION_OPTIONS });
  const o = parseClientSignal(JSON.stringify({ type: 'offer', sdp: SDP, options: { mapsStride: 1 }, token: 'k' }));
  t.match(o, { options: { ...DEFAULT_SESSION_OPTIONS, mapsStride: 1 }, token: 'k' });
  t.ok(refusedWith(JSON.stringify({ type: 'offer', sdp: SDP.replace('VP8', 'H264') }), /VP8 among the video codecs/), 'no VP8: refused, by name');
  t.ok(refusedWith(JSON.stringify({ type: 'offer', sdp: SDP.replace(/a=fingerprint[^\r]*\r\n/, '') }), /DTLS fingerprint/), 'no fingerprint');
  t.ok(refusedWith(JSON.stringify({ type: 'offer', sdp: SDP, options: { mapsStride: 9 } }), /signal\.options\.mapsStride: expected an integer 1\.\.4, got 9/), 'options out of range, with the field named');
});

t.test('candidates: an IP address or an mDNS name, never a host to look up', async (t) => {
  const cand = (address: string) => `candidate:1 1 udp 2122260223 ${address} 54321 typ host`;
  for (const a of ['192.168.1.20', 'fe80::1', '3f1c2a9e-77aa-4bbb-9ccc-0123456789ab.local']) {
    t.match(parseClientSignal(JSON.stringify({ type: 'candidate', candidate: { candidate: cand(a), sdpMid: '0', sdpMLineIndex: 0 } })), { type: 'candidate' }, a);
  }
  t.ok(refusedWith(JSON.stringify({ type: 'candidate', candidate: { candidate: cand('evil.example.com'), sdpMid: '0' } }), /IP address or an mDNS name/), 'a DNS name is refused');
  t.ok(refusedWith(JSON.stringify({ type: 'candidate', candidate: { candidate: cand('1.2.3.4'), sdpMLineIndex: 64 } }), /sdpMLineIndex/), 'index out of range');
  t.equal(candidateAddress(cand('10.0.0.1')), '10.0.0.1');
  const wire = candidateToWire({ candidate: cand('10.0.0.1'), sdpMid: '0', sdpMLineIndex: null })!;
  t.same(candidateFromWire(wire), { candidate: cand('10.0.0.1'), sdpMid: '0', sdpMLineIndex: undefined }, 'wire and back');
});

t.test('anything else is a ProtocolError that says what was expected', async (t) => {
  t.ok(refusedWith('not json', /not JSON/), 'text');
  t.ok(refusedWith('[1,2]', /expected an object, got an array/), 'an array');
  t.ok(refusedWith(JSON.stringify({ type: 'hello' }), /expected ice, offer, candidate or close/), 'an unknown type');
  t.ok(refusedWith(JSON.stringify({ type: 'offer', sdp: 'x'.repeat(70_000) }), /at most/), 'an SDP over its limit');
  t.same(parseClientSignal('{"type":"close"}'), { type: 'close' });
  t.same(parseServerSignal(JSON.stringify({ type: 'error', code: 'busy', message: 'full' })), { type: 'error', code: 'busy', message: 'full' });
  t.throws(() => parseServerSignal(JSON.stringify({ type: 'offer' })), ProtocolError, 'the client parser refuses what a server never sends');
});

t.test('ICE servers: asked for with the token, handed out as checked URLs', async (t) => {
  t.same(parseClientSignal(JSON.stringify({ type: 'ice' })), { type: 'ice' });
  t.same(parseClientSignal(JSON.stringify({ type: 'ice', token: 'k' })), { type: 'ice', token: 'k' });
  const ice = { type: 'ice', iceServers: [{ urls: ['turn:turn.example:3478?transport=udp', 'turns:turn.example:5349?transport=tcp'], username: '1:a', credential: 'c' }], ttlSeconds: 3600 };
  t.same(parseServerSignal(JSON.stringify(ice)), ice);
  t.same(parseServerSignal(JSON.stringify({ type: 'ice', iceServers: [], ttlSeconds: 0 })), { type: 'ice', iceServers: [], ttlSeconds: 0 });
  const bad = (m: unknown, pattern: RegExp) => t.throws(() => parseServerSignal(JSON.stringify(m)), pattern);
  bad({ ...ice, iceServers: [{ urls: ['http://evil.example/'] }] }, /urls: expected 1 to 8 stun:, stuns:, turn: or turns: URLs/);
  bad({ ...ice, iceServers: [{ urls: [] }] }, /urls/);
  bad({ ...ice, iceServers: 'turn:x' }, /iceServers: expected an array/);
  bad({ ...ice, ttlSeconds: -1 }, /ttlSeconds/);
});
