/**
 * werift peer settings: VP8 video in, data channels; where the media sockets bind; no server that the operator
 * did not name.
 */
import { isIPv4 } from 'node:net';
import { useVP8, type PeerConfig, type RTCPeerConnection } from 'werift';
import { candidateAddress } from '../../shared/signaling.js';

export interface PeerNetwork {
  /** candidates on 127.0.0.1 only (tests, one-machine demos) */
  readonly loopbackOnly: boolean;
  /** the address the server listens on (`--host`): a specific IPv4 address other than loopback binds the media
   *  sockets there too */
  readonly bindAddress?: string;
}

export function peerConfig(net: PeerNetwork): Partial<PeerConfig> {
  // max-bundle: one transport for video and data. With werift's default, the transports bundled away keep their
  // UDP sockets after close() (measured: one socket per peer left open, and the process never exits).
  // no STUN: werift's default asks a public STUN server, which is seconds of waiting where there is none (and
  // Firefox's offer then timed out); a server is reached on its own addresses (see withoutUnnamedStun too)
  const base: Partial<PeerConfig> = { codecs: { video: [useVP8()], audio: [] }, iceUseIpv6: false, bundlePolicy: 'max-bundle', iceServers: [] };
  const bind = onlyAddress(net);
  return {
    ...base,
    // a server told to listen on one address must not open media sockets on every other
    ...(bind !== null ? { iceInterfaceAddresses: { udp4: bind } } : {}),
    ...(net.loopbackOnly ? {
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceFilterCandidatePair: (pair) => pair.localCandidate.host === '127.0.0.1' && pair.remoteCandidate.host === '127.0.0.1',
    } satisfies Partial<PeerConfig> : {}),
  };
}

/**
 * werift 0.25 falls back to a public STUN server of a third party whenever the configuration names none (even
 * with `iceServers: []`): every session would look it up and send it a packet. Called after the transports exist
 * and before gathering starts (between createOffer/setRemoteDescription and setLocalDescription), it takes that
 * fallback away from a peer whose configuration names no STUN server.
 */
export function withoutUnnamedStun(pc: RTCPeerConnection): void {
  const named = pc.config.iceServers.some((s) => [s.urls].flat().some((u) => /^stuns?:/i.test(u)));
  if (named) return;
  for (const t of pc.iceTransports) (t.connection as { stunServer?: unknown }).stunServer = undefined;
}

/**
 * The one address a peer's media may use, or null for all of them. `--host 127.0.0.1` keeps the media on every
 * interface: browsers refuse loopback ICE candidates (Chromium without a flag, Firefox by default), so a page on
 * the same machine could not connect; ICE's per-session credentials guard those sockets.
 */
function onlyAddress(net: PeerNetwork): string | null {
  // --loopback neither: Firefox, even allowed loopback candidates, reaches the server through the machine's own
  // address (measured in the page test: with only 127.0.0.1 advertised it never connected)
  if (net.loopbackOnly) return null;
  const bind = net.bindAddress;
  return bind !== undefined && isIPv4(bind) && bind !== '0.0.0.0' && !bind.startsWith('127.') ? bind : null;
}

/**
 * Whether a local candidate at `address` may be sent: werift gathers every interface's address and, told to bind
 * to 127.0.0.1, still names the machine's LAN address in a candidate (its socket bound to loopback): that would
 * show the network layout to a client for nothing.
 */
export function advertises(net: PeerNetwork, address: string): boolean {
  const only = onlyAddress(net);
  return only === null || address === only;
}

/** A local description with the candidates `advertises` refuses taken out. */
export function advertisedSdp(net: PeerNetwork, sdp: string): string {
  if (onlyAddress(net) === null) return sdp;
  return sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') || advertises(net, candidateAddress(l) ?? '')).join('\r\n');
}
