import dgram from 'node:dgram';
import dns from 'node:dns';
import { networkInterfaces } from 'node:os';
import t from 'tap';
import { RTCPeerConnection } from 'werift';
import { advertisedSdp, peerConfig, withoutUnnamedStun, type PeerNetwork } from './peerConfig.js';

/** Every UDP bind, send and name lookup of one peer's gathering, recorded at node's layer (below werift). */
async function gather(net: PeerNetwork, clearStun: boolean) {
  const binds: string[] = [], sends: string[] = [];
  const lookup = dns.promises.lookup;
  dns.promises.lookup = ((host: string, ...rest: unknown[]) => {
    sends.push(host);
    return (lookup as (...a: unknown[]) => unknown)(host, ...rest);
  }) as typeof lookup;
  const proto = dgram.Socket.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const { bind, send } = proto;
  proto.bind = function (this: unknown, ...a: unknown[]) {
    const o = a[0];
    binds.push(typeof o === 'object' && o ? String((o as { address?: string }).address) : String(a[1]));
    return bind.apply(this, a);
  };
  proto.send = function (this: unknown, ...a: unknown[]) {
    sends.push(String(a.find((x, i) => i > 0 && typeof x === 'string')));
    return send.apply(this, a);
  };
  const pc = new RTCPeerConnection(peerConfig(net));
  try {
    pc.createDataChannel('results');
    const offer = await pc.createOffer();
    if (clearStun) withoutUnnamedStun(pc);
    await pc.setLocalDescription(offer);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const candidates = advertisedSdp(net, pc.localDescription!.sdp).split('\n').filter((l) => l.startsWith('a=candidate')).map((l) => l.split(' ')[4]);
    return { binds, sends, candidates };
  } finally {
    proto.bind = bind;
    proto.send = send;
    dns.promises.lookup = lookup;
    await pc.close();
  }
}

t.test('a peer whose configuration names no STUN server contacts none (werift would ask a public one)', async (t) => {
  const hazard = await gather({ loopbackOnly: true }, false);
  // the hazard this guards against: if werift stops it, this fails and withoutUnnamedStun can go
  t.ok(hazard.sends.some((h) => /stun/.test(h)), `without withoutUnnamedStun werift looks up or sends to: ${hazard.sends.join(', ')}`);
  const fixed = await gather({ loopbackOnly: true }, true);
  t.same(fixed.sends, [], 'nothing looked up or sent while gathering');
});

t.test('media sockets bind where --host says; candidates only there', async (t) => {
  const loopback = await gather({ loopbackOnly: true }, true);
  t.ok(loopback.candidates.includes('127.0.0.1'), `--loopback: a candidate on 127.0.0.1 (${loopback.candidates.join(', ')})`);
  // browsers refuse loopback candidates: --host 127.0.0.1 alone leaves the media where a page can reach it
  t.equal(peerConfig({ loopbackOnly: false, bindAddress: '127.0.0.1' }).iceInterfaceAddresses, undefined, '--host 127.0.0.1: media on every interface');
  const lan = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  if (!lan) return void t.pass('no non-loopback IPv4 address on this machine: the binding to one is not checked');
  const r = await gather({ loopbackOnly: false, bindAddress: lan }, true);
  t.ok(r.binds.length > 0 && r.binds.every((a) => a === lan), `--host ${lan}: bound to ${r.binds.join(', ')}`);
  t.ok(r.candidates.length > 0 && r.candidates.every((a) => a === lan), `--host ${lan}: candidates ${r.candidates.join(', ')}`);
});
