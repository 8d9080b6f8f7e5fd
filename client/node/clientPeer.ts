/**
 * What the Node client needs from a WebRTC stack: one send-only VP8 track fed with RTP packets, the "results" and
 * "maps" data channels, trickle ICE. Two stacks implement it: werift (pure TypeScript, the server's own) and
 * node-datachannel (libdatachannel, native: its data channels are several times faster here).
 */
import type { IceCandidateWire, IceServerWire } from '../../shared/signaling.js';

export type PeerStack = 'werift' | 'node-datachannel';

/** How a client peer reaches the server. */
export interface ClientPeerNetwork {
  /** ICE on 127.0.0.1 only */
  readonly loopbackOnly: boolean;
  /** STUN/TURN servers, as the server handed them out */
  readonly iceServers: readonly IceServerWire[];
  /** relay candidates only: every packet goes through the TURN server (a client that must not show its address) */
  readonly relayOnly: boolean;
}

export interface ClientPeerHandlers {
  candidate(c: IceCandidateWire): void;
  /** bytes from the reliable "results" channel */
  results(bytes: Uint8Array): void;
  /** one chunk from the unordered "maps" channel */
  mapsChunk(bytes: Uint8Array): void;
  /** the server asked for a keyframe (RTCP PLI) */
  keyframeRequest(): void;
  /** the connection failed or closed */
  closed(): void;
}

export interface ClientPeer {
  /** SSRC of the video track the RTP packets must carry */
  readonly ssrc: number;
  readonly payloadType: number;
  /** makes the offer (video track + both channels) and returns its SDP */
  createOffer(): Promise<string>;
  setAnswer(sdp: string): Promise<void>;
  addCandidate(c: IceCandidateWire): Promise<void>;
  /** resolves when the "results" channel is open */
  connected(): Promise<void>;
  /** one RTP packet, serialized; `rtpTimestamp` is its frame's (stacks that send sender reports use it) */
  sendRtp(packet: Buffer, rtpTimestamp: number): void;
  /** sends on the "results" channel */
  sendResults(bytes: Uint8Array): void;
  close(): Promise<void>;
}
