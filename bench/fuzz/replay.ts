/**
 * Sends bad inputs (badInputs.ts) to a running live server, each the way an attacker on the network would: raw
 * WebSocket frames on a fresh TCP connection, text messages on a fresh signaling socket, data-channel messages and
 * RTP packets inside one real WebRTC session. Each reports what came back, so a test or the fuzz bench can judge.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { RTCPeerConnection } from 'werift';
import WebSocket from 'ws';
import { NodeClient } from '../../client/node/nodeClient.js';
import { peerConfig } from '../../node/webrtc/peerConfig.js';
import { bytesOf, type BadInput } from './badInputs.js';

export type Outcome = 'closed' | 'open' | `error:${string}` | 'answer' | 'no reply';

/** Raw bytes after a valid WebSocket handshake; 'closed' when the server closed the connection. */
export async function replayWsFrame(httpUrl: string, c: BadInput, waitMs = 1500): Promise<Outcome> {
  const { hostname, port } = new URL(httpUrl);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  try {
    await new Promise((resolve, reject) => (socket.once('connect', resolve), socket.once('close', reject)));
    socket.write(`GET /signal HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await new Promise((resolve, reject) => (socket.once('data', resolve), socket.once('close', reject)));
    const closed = new Promise<Outcome>((resolve) => socket.once('close', () => resolve('closed')));
    socket.write(bytesOf(c));
    // a long payload goes out in pieces, as a real sender's would; the server may close the socket midway
    for (let sent = 0, piece = Buffer.alloc(64 * 1024, 0x61); sent < (c.pad ?? 0) && !socket.destroyed; sent += piece.length) {
      if (!socket.write(piece)) await Promise.race([new Promise((r) => socket.once('drain', r)), closed]);
    }
    return await Promise.race([closed, new Promise<Outcome>((resolve) => setTimeout(() => resolve('open'), waitMs))]);
  } catch {
    return 'closed';
  } finally {
    socket.destroy();
  }
}

/** One text message on a fresh signaling socket: the server's first reply, or 'closed'. */
export async function replaySignal(signalUrl: string, c: BadInput, waitMs = 3000): Promise<Outcome> {
  const ws = new WebSocket(signalUrl);
  ws.on('error', () => undefined);
  try {
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('close', reject)));
    const reply = new Promise<Outcome>((resolve) => {
      ws.once('message', (d) => {
        const m = JSON.parse(d.toString()) as { type: string; code?: string };
        resolve(m.type === 'error' ? `error:${m.code}` : m.type === 'answer' ? 'answer' : 'no reply');
      });
      ws.once('close', () => resolve('closed'));
    });
    ws.send(c.data);
    return await Promise.race([reply, new Promise<Outcome>((resolve) => setTimeout(() => resolve('no reply'), waitMs))]);
  } catch {
    return 'closed';
  } finally {
    ws.close();
  }
}

/**
 * Candidate messages on one socket after a real offer was answered: each gets a protocol error or nothing (a
 * usable candidate is taken silently); the replies, in order of arrival.
 */
export async function replayCandidates(signalUrl: string, cases: readonly BadInput[], waitMs = 3000): Promise<Outcome[]> {
  const ws = new WebSocket(signalUrl);
  ws.on('error', () => undefined);
  try {
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('close', reject)));
    const replies: Outcome[] = [];
    const answered = new Promise<void>((resolve) => ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { type: string; code?: string };
      if (m.type === 'answer') resolve();
      else if (m.type === 'error') replies.push(`error:${m.code}`);
    }));
    ws.send(JSON.stringify({ type: 'offer', sdp: await realOfferSdp(), options: {} }));
    await answered;
    for (const c of cases) ws.send(c.data);
    await new Promise((r) => setTimeout(r, waitMs));
    return replies;
  } finally {
    ws.close();
  }
}

/** A real session (werift peer, loopback) whose results channel and video track take the bad inputs. */
export async function openFuzzSession(signalUrl: string, token?: string): Promise<NodeClient> {
  return NodeClient.connect(signalUrl, { width: 64, height: 48, fps: 10, loopbackOnly: true, peer: 'werift', token, session: { mapsEvery: 0 } });
}

let rtpTime = 1000;

/** Data-channel bytes, VP8 frames (packetized) or raw RTP payloads, into the session. */
export function replayInSession(client: NodeClient, c: BadInput): void {
  const b = bytesOf(c);
  rtpTime += 3000;
  if (c.kind === 'datachannel') client.sendRawResults(b);
  else if (c.kind === 'vp8') client.sendEncoded(b, rtpTime);
  else if (c.kind === 'rtp') client.sendRawRtp(b, rtpTime, c.marker ?? true);
  else throw new Error(`replayInSession: ${c.kind} is not sent in a session`);
}

/** A real offer (a werift peer's: a VP8 track and the results channel), to send on many sockets. */
export async function realOfferSdp(): Promise<string> {
  const offerer = new RTCPeerConnection(peerConfig({ loopbackOnly: true }));
  try {
    offerer.addTransceiver('video', { direction: 'sendonly' });
    offerer.createDataChannel('results');
    await offerer.setLocalDescription(await offerer.createOffer());
    return offerer.localDescription!.sdp;
  } finally {
    await offerer.close();
  }
}
