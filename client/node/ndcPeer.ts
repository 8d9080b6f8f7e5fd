/**
 * ClientPeer on node-datachannel (libdatachannel). The video track takes our RTP packets as they are; a sender
 * report handler tells the server each frame's capture time. Incoming channels and tracks are kept referenced
 * here: node-datachannel lets unreferenced ones be garbage-collected.
 */
import nodeDataChannel, { type IceServer } from 'node-datachannel';
import type { IceCandidateWire, IceServerWire } from '../../shared/signaling.js';
import type { ClientPeer, ClientPeerHandlers, ClientPeerNetwork } from './clientPeer.js';

const { PeerConnection, Video, RtcpSrReporter, RtcpNackResponder, RtpPacketizationConfig, cleanup } = nodeDataChannel;

/**
 * Stops libdatachannel's threads. Left running they keep a process alive for ~30 s after every peer is closed
 * (measured); call this once nothing of node-datachannel is in use any more, e.g. right before a command exits.
 * Calling it while peers may still fire callbacks crashes the process (measured: SIGSEGV), hence not in close().
 */
export function releaseNodeDataChannel(): void {
  cleanup();
}
type Pc = InstanceType<typeof PeerConnection>;
type Channel = ReturnType<Pc['createDataChannel']>;
type Track = ReturnType<Pc['addTrack']>;

export class NdcPeer implements ClientPeer {
  readonly ssrc = (Math.random() * 2 ** 32) >>> 0;
  readonly payloadType = 96;
  private readonly pc: Pc;
  private readonly track: Track;
  private readonly results: Channel;
  private readonly maps: Channel;
  private readonly reporter: InstanceType<typeof RtcpSrReporter>;
  private offer: ((sdp: string) => void) | null = null;
  private open = false;
  private readonly opened: Promise<void>;
  private closed = false;

  private readonly loopbackOnly: boolean;

  constructor(net: ClientPeerNetwork, on: ClientPeerHandlers) {
    this.loopbackOnly = net.loopbackOnly;
    this.pc = new PeerConnection('facelive-client', {
      iceServers: net.iceServers.flatMap(ndcIceServers), disableAutoNegotiation: true,
      ...(net.loopbackOnly ? { bindAddress: '127.0.0.1' } : {}), ...(net.relayOnly ? { iceTransportPolicy: 'relay' as const } : {}),
    });
    const video = new Video('video', 'SendOnly');
    video.addVP8Codec(this.payloadType);
    video.addSSRC(this.ssrc, 'facelive');
    this.track = this.pc.addTrack(video);
    this.reporter = new RtcpSrReporter(new RtpPacketizationConfig(this.ssrc, 'facelive', this.payloadType, 90_000));
    // answers the server's NACKs from the packets it keeps: a lost packet is resent instead of costing a keyframe
    this.reporter.addToChain(new RtcpNackResponder());
    this.track.setMediaHandler(this.reporter);
    this.track.onMessage((m) => {
      // RTCP from the server: payload-specific feedback (206) with FMT 1 is a picture loss indication
      if (m.length >= 4 && m[1] === 206 && (m[0] & 0x1f) === 1) on.keyframeRequest();
    });
    this.results = this.pc.createDataChannel('results');
    this.maps = this.pc.createDataChannel('maps', { unordered: true, maxRetransmits: 0 });
    this.results.onMessage((m) => on.results(typeof m === 'string' ? new TextEncoder().encode(m) : new Uint8Array(m as ArrayBuffer)));
    this.maps.onMessage((m) => typeof m !== 'string' && on.mapsChunk(new Uint8Array(m as ArrayBuffer)));
    // connected when both the channel and the track are open: RTP sent before the track opens is dropped (the
    // first keyframe with it)
    const channelOpen = new Promise<void>((resolve) => this.results.onOpen(() => resolve()));
    const trackOpen = new Promise<void>((resolve) => this.track.onOpen(() => resolve()));
    this.opened = Promise.all([channelOpen, trackOpen]).then(() => {
      this.open = true;
    });
    this.pc.onLocalDescription((sdp, type) => type === 'offer' && this.offer?.(sdp));
    this.pc.onLocalCandidate((candidate, mid) => {
      if (this.loopbackOnly && !/ 127\.0\.0\.1 /.test(candidate)) return;
      on.candidate({ candidate: candidate.replace(/^a=/, ''), sdpMid: mid, sdpMLineIndex: null });
    });
    this.pc.onStateChange((s) => (s === 'failed' || s === 'closed') && !this.closed && on.closed());
  }

  createOffer(): Promise<string> {
    return new Promise((resolve) => {
      this.offer = resolve;
      this.pc.setLocalDescription('offer');
    });
  }

  async setAnswer(sdp: string): Promise<void> {
    this.pc.setRemoteDescription(sdp, 'answer');
  }

  async addCandidate(c: IceCandidateWire): Promise<void> {
    if (this.loopbackOnly && !/ 127\.0\.0\.1 /.test(c.candidate)) return;
    this.pc.addRemoteCandidate(c.candidate, c.sdpMid ?? '0');
  }

  connected(): Promise<void> {
    return this.open ? Promise.resolve() : this.opened;
  }

  sendRtp(packet: Buffer, rtpTimestamp: number): void {
    // the sender report pairs "now" with this timestamp: the frame's capture time on this machine's clock
    this.reporter.rtpConfig.timestamp = rtpTimestamp >>> 0;
    if (this.track.isOpen()) this.track.sendMessageBinary(packet);
  }

  sendResults(bytes: Uint8Array): void {
    this.results.sendMessageBinary(bytes);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.results.close();
    this.maps.close();
    this.track.close();
    this.pc.close();
  }
}

/**
 * A server's URLs in libdatachannel's form: TURN as objects (a credential's username holds a ":", which its URL
 * form would read as the password's start), STUN as "stun:host:port".
 */
export function ndcIceServers(s: IceServerWire): Array<string | IceServer> {
  return s.urls.map((url) => {
    const m = /^(stuns?|turns?):(\[[^\]]+\]|[^:?]+)(?::(\d+))?(?:\?transport=(udp|tcp))?$/.exec(url);
    if (!m) throw new RangeError(`ICE server URL ${url}: expected stun:, stuns:, turn: or turns: HOST[:PORT]`);
    const [, scheme, hostname, port, transport] = m;
    if (scheme.startsWith('stun')) return `${scheme}:${hostname}:${port ?? (scheme === 'stuns' ? 5349 : 3478)}`;
    const tls = scheme === 'turns';
    return {
      hostname, port: Number(port ?? (tls ? 5349 : 3478)), username: s.username, password: s.credential,
      relayType: tls ? 'TurnTls' : transport === 'tcp' ? 'TurnTcp' : 'TurnUdp',
    } satisfies IceServer;
  });
}
