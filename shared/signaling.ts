/**
 * Signaling between a client and the live server, JSON over a WebSocket. The client offers (its camera track
 * and the "results" and "maps" data channels), the server answers; both trickle ICE candidates. Every message
 * from the other side goes through a parser that names the bad field; a bad message gets an `error` reply and
 * the socket stays up.
 */
import { ProtocolError } from './errors.js';
import { DEFAULT_SESSION_OPTIONS, parseSessionOptions, type SessionOptionsWire } from './sessionOptions.js';

export interface IceCandidateWire {
  readonly candidate: string;
  readonly sdpMid: string | null;
  readonly sdpMLineIndex: number | null;
}

export { DEFAULT_SESSION_OPTIONS, type SessionOptionsWire } from './sessionOptions.js';

/** A STUN or TURN server for the client's RTCPeerConnection (RTCIceServer's shape); TURN with a short-lived credential. */
export interface IceServerWire {
  readonly urls: readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

export type ClientSignal =
  /** which ICE servers to use (TURN, with credentials for this session): asked before the offer is made */
  | { readonly type: 'ice'; readonly token?: string }
  | { readonly type: 'offer'; readonly sdp: string; readonly options: SessionOptionsWire; /** the server's shared secret, where it has one */ readonly token?: string }
  | { readonly type: 'candidate'; readonly candidate: IceCandidateWire }
  | { readonly type: 'close' };

export type ServerSignal =
  /** the ICE servers a client may use (none: reach the server directly); TURN credentials expire after ttlSeconds */
  | { readonly type: 'ice'; readonly iceServers: readonly IceServerWire[]; readonly ttlSeconds: number }
  | { readonly type: 'answer'; readonly sdp: string; readonly sessionId: string }
  | { readonly type: 'candidate'; readonly candidate: IceCandidateWire }
  | { readonly type: 'error'; readonly code: string; readonly message: string };

const MAX_SDP = 64 * 1024;

/** The connection address of an ICE candidate line ("candidate:foundation component transport priority ADDRESS port typ ..."). */
export function candidateAddress(candidate: string): string | undefined {
  return candidate.replace(/^a=/, '').split(' ')[4];
}

/** A peer's ICE candidate (werift's or a browser's RTCIceCandidate) for the wire; null when it has none. */
export function candidateToWire(c: { candidate?: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | undefined): IceCandidateWire | null {
  return c?.candidate ? { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } : null;
}

/** A candidate from the wire in the form RTCPeerConnection.addIceCandidate takes. */
export function candidateFromWire(c: IceCandidateWire): { candidate: string; sdpMid?: string; sdpMLineIndex?: number } {
  return { candidate: c.candidate, sdpMid: c.sdpMid ?? undefined, sdpMLineIndex: c.sdpMLineIndex ?? undefined };
}

function record(raw: unknown, path: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ProtocolError(`${path}: expected an object, got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}`);
  return raw as Record<string, unknown>;
}

function str(o: Record<string, unknown>, k: string, path: string, max: number): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length > max) throw new ProtocolError(`${path}.${k}: expected a string of at most ${max} characters, got ${typeof v === 'string' ? `${v.length} characters` : typeof v}`);
  return v;
}

function candidate(raw: unknown, path: string): IceCandidateWire {
  const c = record(raw, path);
  const mid = c.sdpMid ?? null, index = c.sdpMLineIndex ?? null;
  if (mid !== null && typeof mid !== 'string') throw new ProtocolError(`${path}.sdpMid: expected a string or null, got ${typeof mid}`);
  if (index !== null && !(Number.isInteger(index) && (index as number) >= 0 && (index as number) < 64)) throw new ProtocolError(`${path}.sdpMLineIndex: expected an integer 0..63 or null, got ${String(index)}`);
  const text = str(c, 'candidate', path, 1024);
  // an address, or a browser's mDNS name: a host name would make the server look it up (a DNS query a client chooses)
  const address = candidateAddress(text);
  if (address !== undefined && !/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]+|[0-9a-zA-Z-]{1,64}\.local)$/.test(address)) {
    throw new ProtocolError(`${path}.candidate: the address must be an IP address or an mDNS name (.local), got ${JSON.stringify(address.slice(0, 64))}`);
  }
  return { candidate: text, sdpMid: mid as string | null, sdpMLineIndex: index as number | null };
}

/**
 * An offer the server can answer: SDP version 0, a video section, ICE credentials and a DTLS fingerprint. The
 * WebRTC stack answered most garbage with an answer of its own; what it cannot use is refused here, by name.
 */
function offerSdp(sdp: string): string {
  const lines = sdp.split(/\r?\n/);
  const values = (prefix: string) => lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length).trim());
  const mids = values('a=mid:');
  const video = lines.filter((l) => l.startsWith('m=video '));
  const missing = [
    lines[0] === 'v=0' ? null : 'the version line v=0 first',
    video.some((l) => /^m=video \d+ \S+( \d+)+$/.test(l)) ? null : 'a video section with its payload types (m=video PORT PROTO PT...)',
    values('a=rtpmap:').some((v) => /^\d+ VP8\/90000$/i.test(v)) ? null : 'VP8 among the video codecs (a=rtpmap:PT VP8/90000)',
    values('a=ice-ufrag:').some((v) => /^[A-Za-z0-9+/]{4,256}$/.test(v)) && values('a=ice-pwd:').some((v) => /^[A-Za-z0-9+/]{22,256}$/.test(v)) ? null : 'ICE credentials (a=ice-ufrag, a=ice-pwd, RFC 8839 characters and lengths)',
    values('a=fingerprint:').some((v) => /^sha-(1|224|256|384|512) [0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){15,63}$/.test(v)) ? null : 'a DTLS fingerprint (a=fingerprint:sha-256 XX:XX:...)',
    mids.length > 0 && mids.every((m) => /^[A-Za-z0-9_.~+-]{1,32}$/.test(m)) ? null : 'a media id on every section (a=mid)',
    values('a=group:BUNDLE').every((g) => g.split(/\s+/).filter(Boolean).every((tag) => mids.includes(tag))) ? null : 'BUNDLE tags that name its sections',
    values('a=setup:').every((v) => /^(actpass|active|passive)$/.test(v)) ? null : 'a=setup of actpass, active or passive',
    values('a=sctp-port:').every((v) => /^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535) ? null : 'an SCTP port from 1 to 65535',
    values('c=IN IP4 ').every((v) => /^(\d{1,3})(\.\d{1,3}){3}$/.test(v) && v.split('.').every((x) => Number(x) <= 255)) ? null : 'IPv4 connection addresses',
  ].filter((x): x is string => x !== null);
  if (missing.length) throw new ProtocolError(`signal.sdp: not an offer this server can answer: it needs ${missing.join(', ')}`);
  return sdp;
}

function sessionOptions(raw: unknown, path: string): SessionOptionsWire {
  return raw === undefined ? DEFAULT_SESSION_OPTIONS : parseSessionOptions(record(raw, path), path, true);
}

/** stun:, stuns:, turn: or turns: with a host (RFC 7064/7065), as an RTCPeerConnection takes them */
const ICE_URL = /^(stuns?|turns?):[A-Za-z0-9.:[\]-]{1,255}(\?transport=(udp|tcp))?$/;

function iceServers(raw: unknown, path: string): IceServerWire[] {
  if (!Array.isArray(raw) || raw.length > 8) throw new ProtocolError(`${path}: expected an array of at most 8 servers`);
  return raw.map((x, i) => {
    const o = record(x, `${path}[${i}]`);
    const urls = o.urls;
    if (!Array.isArray(urls) || urls.length === 0 || urls.length > 8 || !urls.every((u) => typeof u === 'string' && ICE_URL.test(u))) {
      throw new ProtocolError(`${path}[${i}].urls: expected 1 to 8 stun:, stuns:, turn: or turns: URLs`);
    }
    return {
      urls: urls as string[],
      ...(o.username === undefined ? {} : { username: str(o, 'username', `${path}[${i}]`, 256) }),
      ...(o.credential === undefined ? {} : { credential: str(o, 'credential', `${path}[${i}]`, 256) }),
    };
  });
}

function ttl(raw: unknown): number {
  if (!Number.isInteger(raw) || (raw as number) < 0 || (raw as number) > 7 * 86400) throw new ProtocolError(`signal.ttlSeconds: expected an integer 0..604800, got ${String(raw)}`);
  return raw as number;
}

function parseJsonRecord(text: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ProtocolError('signal: not JSON');
  }
  return record(raw, 'signal');
}

/** A message from a client (text of a WebSocket frame). */
export function parseClientSignal(text: string): ClientSignal {
  const m = parseJsonRecord(text);
  switch (m.type) {
    case 'offer':
      return {
        type: 'offer', sdp: offerSdp(str(m, 'sdp', 'signal', MAX_SDP)), options: sessionOptions(m.options, 'signal.options'),
        ...(m.token === undefined ? {} : { token: str(m, 'token', 'signal', 256) }),
      };
    case 'candidate':
      return { type: 'candidate', candidate: candidate(m.candidate, 'signal.candidate') };
    case 'close':
      return { type: 'close' };
    case 'ice':
      return { type: 'ice', ...(m.token === undefined ? {} : { token: str(m, 'token', 'signal', 256) }) };
    default:
      throw new ProtocolError(`signal.type: expected ice, offer, candidate or close, got ${JSON.stringify(m.type)}`);
  }
}

/** A message from the server. */
export function parseServerSignal(text: string): ServerSignal {
  const m = parseJsonRecord(text);
  switch (m.type) {
    case 'answer':
      return { type: 'answer', sdp: str(m, 'sdp', 'signal', MAX_SDP), sessionId: str(m, 'sessionId', 'signal', 64) };
    case 'candidate':
      return { type: 'candidate', candidate: candidate(m.candidate, 'signal.candidate') };
    case 'error':
      return { type: 'error', code: str(m, 'code', 'signal', 64), message: str(m, 'message', 'signal', 1024) };
    case 'ice':
      return { type: 'ice', iceServers: iceServers(m.iceServers, 'signal.iceServers'), ttlSeconds: ttl(m.ttlSeconds) };
    default:
      throw new ProtocolError(`signal.type: expected ice, answer, candidate or error, got ${JSON.stringify(m.type)}`);
  }
}
