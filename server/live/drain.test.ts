/**
 * Draining (SIGTERM in `facelive serve`): the server refuses new sessions with `draining` and answers /health with
 * 503, lets the running session go on, and reports it finished once its client leaves; at the deadline, sessions
 * still running are closed. ICE servers and TURN credentials are refused to a client without the token.
 */
import { join } from 'node:path';
import t from 'tap';
import WebSocket from 'ws';
import { NodeClient } from '../../client/node/nodeClient.js';
import { ServerRefusal } from '../../client/sdk/offerExchange.js';
import { projectRoot } from '../../node/projectRoot.js';
import { LiveServer } from './liveServer.js';

const MODEL = join(projectRoot(), 'models', 'facestream-small.onnx');
const connect = (server: LiveServer) => NodeClient.connect(server.signalUrl, { width: 320, height: 240, fps: 10, loopbackOnly: true, peer: 'werift' });
const health = async (server: LiveServer) => {
  const r = await fetch(`${server.url}/health`);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

t.test('a draining server takes no session, keeps its running one, and says when it is done', async (t) => {
  const server = await LiveServer.start({ host: '127.0.0.1', port: 0, modelPath: MODEL, maxSessions: 2, loopbackOnly: true, threads: 1, replica: 'r7' });
  t.teardown(() => server.close());
  t.match(await health(server), { status: 200, body: { status: 'ok', replica: 'r7', sessions: 0 } });
  const running = await connect(server);
  const drained = server.drain(30_000);
  t.match(await health(server), { status: 503, body: { status: 'draining', sessions: 1 } }, '/health: 503 while draining');
  const refused = await connect(server).then(() => null, (e: unknown) => e);
  t.ok(refused instanceof ServerRefusal && refused.code === 'draining' && refused.retryable, `a new client is told draining, worth another try elsewhere (${String(refused)})`);
  t.equal(server.refused.draining, 1);
  t.equal(running.isClosed, false, 'the running session goes on');
  await running.close();
  t.same(await drained, { finished: 1, closed: 0 }, 'done once its session ended');
});

t.test('at the deadline the sessions still running are closed', async (t) => {
  const server = await LiveServer.start({ host: '127.0.0.1', port: 0, modelPath: MODEL, maxSessions: 1, loopbackOnly: true, threads: 1 });
  t.teardown(() => server.close());
  const client = await connect(server);
  const closed = new Promise<string>((resolve) => client.once('close', resolve));
  t.same(await server.drain(300), { finished: 0, closed: 1 });
  t.match(await closed, /signaling socket closed|peer connection/, 'its client hears the session end');
});

t.test('ICE servers need the token like an offer does; TURN credentials are fresh per request', async (t) => {
  const turn = { urls: ['turn:127.0.0.1:3478?transport=udp'], secret: 's'.repeat(24), ttlSeconds: 600 };
  const server = await LiveServer.start({ host: '127.0.0.1', port: 0, modelPath: MODEL, maxSessions: 1, loopbackOnly: true, threads: 1, token: 't'.repeat(16), turn });
  t.teardown(() => server.close());
  const ask = (m: object) => new Promise<Record<string, unknown>>((resolve, reject) => {
    const ws = new WebSocket(server.signalUrl);
    ws.once('open', () => ws.send(JSON.stringify(m)));
    ws.once('message', (d) => {
      resolve(JSON.parse(String(d)));
      ws.close();
    });
    ws.once('error', reject);
  });
  t.match(await ask({ type: 'ice' }), { type: 'error', code: 'unauthorized' });
  const a = await ask({ type: 'ice', token: 't'.repeat(16) });
  const b = await ask({ type: 'ice', token: 't'.repeat(16) });
  t.match(a, { type: 'ice', ttlSeconds: 600, iceServers: [{ urls: turn.urls }] });
  const user = (m: Record<string, unknown>) => (m.iceServers as { username: string }[])[0].username;
  t.match(user(a), /^\d{10}:[0-9a-f]{8}$/);
  t.not(user(a), user(b), 'a credential per request');
  t.notMatch(JSON.stringify(a), /s{24}/, 'the secret stays on the server');
  t.match((await health(server)).body, { turn: true });
});
