/** ClientPeer on werift (see clientPeer.ts). */
import { MediaStreamTrack, RTCPeerConnection, type RTCDataChannel } from 'werift';
import { candidateFromWire, candidateToWire, type IceCandidateWire } from '../../shared/signaling.js';
import { peerConfig, withoutUnnamedStun } from '../../node/webrtc/peerConfig.js';
import type { ClientPeer, ClientPeerHandlers, ClientPeerNetwork } from './clientPeer.js';

export class WeriftPeer implements ClientPeer {
  readonly ssrc = (Math.random() * 2 ** 32) >>> 0;
  readonly payloadType = 96;
  private readonly pc: RTCPeerConnection;
  private readonly track = new MediaStreamTrack({ kind: 'video' });
  private readonly results: RTCDataChannel;
  private readonly maps: RTCDataChannel;

  constructor(net: ClientPeerNetwork, on: ClientPeerHandlers) {
    this.pc = new RTCPeerConnection({
      ...peerConfig({ loopbackOnly: net.loopbackOnly }),
      iceServers: net.iceServers.map((s) => ({ urls: [...s.urls], username: s.username, credential: s.credential })),
      ...(net.relayOnly ? { iceTransportPolicy: 'relay' as const } : {}),
    });
    const transceiver = this.pc.addTransceiver(this.track, { direction: 'sendonly' });
    transceiver.sender.onRtcp.subscribe((rtcp) => {
      if (rtcp.type === 206) on.keyframeRequest();
    });
    this.results = this.pc.createDataChannel('results');
    this.maps = this.pc.createDataChannel('maps', { ordered: false, maxRetransmits: 0 });
    this.results.onMessage.subscribe((m) => on.results(typeof m === 'string' ? new TextEncoder().encode(m) : new Uint8Array(m)));
    this.maps.onMessage.subscribe((m) => typeof m !== 'string' && on.mapsChunk(new Uint8Array(m)));
    this.pc.onIceCandidate.subscribe((c) => {
      const w = candidateToWire(c);
      if (w) on.candidate(w);
    });
    this.pc.connectionStateChange.subscribe((s) => (s === 'failed' || s === 'closed') && on.closed());
  }

  async createOffer(): Promise<string> {
    const offer = await this.pc.createOffer();
    withoutUnnamedStun(this.pc);
    await this.pc.setLocalDescription(offer);
    return this.pc.localDescription!.sdp;
  }

  async setAnswer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
  }

  async addCandidate(c: IceCandidateWire): Promise<void> {
    await this.pc.addIceCandidate(candidateFromWire(c));
  }

  connected(): Promise<void> {
    return new Promise((resolve) => {
      if (this.results.readyState === 'open') return resolve();
      this.results.stateChanged.subscribe((s) => s === 'open' && resolve());
    });
  }

  sendRtp(packet: Buffer): void {
    this.track.writeRtp(packet);
  }

  sendResults(bytes: Uint8Array): void {
    this.results.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  async close(): Promise<void> {
    this.results.close();
    this.maps.close();
    await this.pc.close();
  }
}
