/** werift peer settings: VP8 video in, data channels; optionally loopback only (tests, one-machine demos). */
import { useVP8, type PeerConfig } from 'werift';

export function peerConfig(loopbackOnly: boolean): Partial<PeerConfig> {
  // max-bundle: one transport for video and data. With werift's default, the transports bundled away keep their
  // UDP sockets after close() (measured: one socket per peer left open, and the process never exits).
  // no STUN: werift's default asks a public STUN server, which is seconds of waiting where there is none (and
  // Firefox's offer then timed out); a server is reached on its own addresses
  const base: Partial<PeerConfig> = { codecs: { video: [useVP8()], audio: [] }, iceUseIpv6: false, bundlePolicy: 'max-bundle', iceServers: [] };
  if (!loopbackOnly) return base;
  return {
    ...base,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceFilterCandidatePair: (pair) => pair.localCandidate.host === '127.0.0.1' && pair.remoteCandidate.host === '127.0.0.1',
  };
}
