import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import WebSocket from 'ws';
import { projectRoot } from '../../node/projectRoot.js';
import { NodeClient } from '../../client/node/nodeClient.js';
import { LiveServer, originAllowed } from './liveServer.js';

const MODEL = join(projectRoot(), 'models', 'facestream-small.onnx');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('idle connections cannot lock others out: a cap on connections, and idle ones closed', async (t) => {
  const server = await LiveServer.start({ host: '127.0.0.1', port: 0, modelPath: MODEL, maxSessions: 1, loopbackOnly: true, threads: 1, maxConnections: 8, idleMs: 600 });
  t.teardown(() => server.close());
  const port = Number(new URL(server.url).port);
  const sockets: Socket[] = [];
  let closedByServer = 0;
  for (let i = 0; i < 12; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('close', () => closedByServer++);
    sockets.push(s);
  }
  // accepted and closed as soon as the server gets to them (later on a loaded machine)
  for (let waited = 0; waited < 500 && closedByServer < 4; waited += 50) await sleep(50); // before the 0.6 s idle rule
  t.ok(closedByServer >= 4, `${closedByServer} of 12 closed at once (the cap is 8)`);
  // idle after 0.6 s, checked every 0.6 s: gone within a few seconds even on a loaded machine
  for (let waited = 0; waited < 8000 && closedByServer < 12; waited += 100) await sleep(100);
  t.equal(closedByServer, 12, 'the idle ones closed too (idle limit 0.6 s)');
  const health = await fetch(`${server.url}/health`);
  t.equal(health.status, 200, '/health answers afterwards');
  t.ok((await health.json()).refused.connectionsOverCap >= 4, '/health counts the connections over the cap');
  // a signaling socket that never offers
  const ws = new WebSocket(server.signalUrl);
  const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
  t.equal(code, 1008, 'a signaling socket without an offer is closed (policy)');
  t.equal(server.refused.signalingIdle, 1, 'and counted');
  for (const s of sockets) s.destroy();
});

t.test('originAllowed(): the server\'s own page, listed origins and non-browser clients; no other site', async (t) => {
  t.ok(originAllowed(undefined, '127.0.0.1:8080', []), 'no Origin: not a browser (the token keeps those out)');
  t.ok(originAllowed('http://127.0.0.1:8080', '127.0.0.1:8080', []), 'the server\'s own page');
  t.ok(originAllowed('https://app.example', 'face.example:443', ['https://app.example']), 'a listed origin');
  t.notOk(originAllowed('https://evil.example', '127.0.0.1:8080', []), 'another site');
  t.notOk(originAllowed('http://127.0.0.1:9999', '127.0.0.1:8080', []), 'another port is another origin');
  t.notOk(originAllowed('null', '127.0.0.1:8080', []), 'a sandboxed or file: page');
});

t.test('a token server: sessions only with the token; browsers only from its own page', async (t) => {
  const token = 'k3y-for-the-access-test-0123456789';
  const server = await LiveServer.start({ host: '127.0.0.1', port: 0, modelPath: MODEL, maxSessions: 1, loopbackOnly: true, threads: 1, token });
  t.teardown(() => server.close());
  const connectWith = (tk: string | undefined) => NodeClient.connect(server.signalUrl, { width: 64, height: 48, fps: 10, loopbackOnly: true, peer: 'werift', token: tk });
  await t.rejects(connectWith(undefined), /unauthorized: this server needs a token/);
  await t.rejects(connectWith('not-the-token-but-long-enough'), /unauthorized: wrong token/);
  const client = await connectWith(token);
  t.ok(client.sessionId, `with the token: session ${client.sessionId}`);
  await client.close();
  // the WebSocket handshake itself is refused to a page of another site
  const opened = (origin: string) => new Promise<boolean>((resolve) => {
    const ws = new WebSocket(server.signalUrl, { origin });
    ws.on('open', () => (ws.close(), resolve(true)));
    ws.on('error', () => resolve(false));
  });
  t.equal(await opened('https://evil.example'), false, 'another site: refused');
  t.equal(await opened(server.url), true, 'its own page: open');
  const refused = (await (await fetch(`${server.url}/health`)).json()).refused;
  t.same([refused.unauthorized, refused.originRefused], [2, 1], '/health counts the refused offers and handshakes');
});

t.test('one address cannot take every connection, and a signaling flood is closed', async (t) => {
  const server = await LiveServer.start({ host: '127.0.0.1', port: 0, modelPath: MODEL, maxSessions: 1, loopbackOnly: true, threads: 1, maxConnections: 100, maxConnectionsPerAddress: 4 });
  t.teardown(() => server.close());
  const port = Number(new URL(server.url).port);
  let closedAtOnce = 0;
  const sockets = Array.from({ length: 7 }, () => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('close', () => closedAtOnce++);
    return s;
  });
  for (let waited = 0; waited < 5000 && closedAtOnce < 3; waited += 50) await sleep(50);
  await sleep(300);
  t.equal(closedAtOnce, 3, '3 of 7 connections from one address closed (the cap per address is 4)');
  for (const s of sockets) s.destroy();
  await sleep(100);
  const ws = new WebSocket(server.signalUrl);
  await new Promise((r) => ws.once('open', r));
  const closed = new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
  for (let i = 0; i < 400 && ws.readyState === WebSocket.OPEN; i++) ws.send(JSON.stringify({ type: 'candidate', candidate: { candidate: 'c', sdpMid: '0', sdpMLineIndex: 0 } }));
  t.equal(await closed, 1008, '400 messages at once: the socket is closed (burst 200, then 20/s)');
  t.same([server.refused.connectionsOverCap, server.refused.signalingFlood], [3, 1], 'both counted');
});
