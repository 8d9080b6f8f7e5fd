import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import WebSocket from 'ws';
import { projectRoot } from '../../shared/projectRoot.js';
import { LiveServer } from './liveServer.js';

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
  await sleep(300);
  t.ok(closedByServer >= 4, `${closedByServer} of 12 closed at once (the cap is 8)`);
  await sleep(2000);
  t.equal(closedByServer, 12, 'the idle ones closed after 0.6 s');
  const health = await fetch(`${server.url}/health`);
  t.equal(health.status, 200, '/health answers afterwards');
  // a signaling socket that never offers
  const ws = new WebSocket(server.signalUrl);
  const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
  t.equal(code, 1008, 'a signaling socket without an offer is closed (policy)');
  for (const s of sockets) s.destroy();
});
