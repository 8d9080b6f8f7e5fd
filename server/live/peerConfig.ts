/** werift peer settings: VP8 video in, data channels; optionally loopback only (tests, one-machine demos). */
import { useVP8, type PeerConfig } from 'werift';

export function peerConfig(loopbackOnly: boolean): Partial<PeerConfig> {
  // max-bundle: one transport for video and data. With werift's default, the transports bundled away keep their
  // UDP sockets after close() (measured: one socket per peer left open, and the process never exits).
  const base: Partial<PeerConfig> = { codecs: { video: [useVP8()], audio: [] }, iceUseIpv6: false, bundlePolicy: 'max-bundle' };
  if (!loopbackOnly) return base;
  return {
    ...base,
    iceServers: [],
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceFilterCandidatePair: (pair) => pair.localCandidate.host === '127.0.0.1' && pair.remoteCandidate.host === '127.0.0.1',
  };
}
