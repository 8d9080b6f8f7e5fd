/**
 * The live path end to end over loopback: a Node client (werift) streams generator frames as VP8 to the server,
 * which decodes, runs the engine and sends results and maps back on data channels.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import WebSocket from 'ws';
import { widescreenI420 } from '../../bench/engineAccuracy.js';
import { NodeClient } from '../../client/node/nodeClient.js';
import { projectRoot } from '../../node/projectRoot.js';
import type { ResultMessage } from '../../shared/wire/schema.js';
import { loadHeadAssets } from '../../synth/headAssets.js';
import { planSequence, SequenceRenderer, type RenderedFrame } from '../../synth/sequence.js';
import { LiveServer } from './liveServer.js';
import { realOfferSdp } from '../../bench/fuzz/replay.js';

const MODEL = join(projectRoot(), 'models', 'facestream-small.onnx');
// The clients here are werift peers: node-datachannel's threads keep a process alive ~100 s after its peers
// close, and releasing them in-process crashed (SIGSEGV) after several peers. node-datachannel ↔ werift is tested
// through `facelive client` in its own process (server/cli/client.test.ts).
const PEER = 'werift' as const;
const assets = loadHeadAssets();

function frames(count: number) {
  const plan = planSequence({ seed: 77, split: 'test', index: 0, frames: count, size: 480, fps: 30 });
  const r = new SequenceRenderer(plan, assets);
  return Array.from({ length: count }, (_, f) => {
    const truth = r.render(f);
    return { truth, input: widescreenI420(truth, plan.intrinsics) };
  });
}

async function stream(client: NodeClient, list: ReturnType<typeof frames>, firstTimestamp: number) {
  const start = performance.now();
  for (let f = 0; f < list.length; f++) {
    await client.sendFrame(list[f].input.pixels, firstTimestamp + f * 3000);
    await new Promise((r) => setTimeout(r, Math.max(0, start + (f + 1) * 40 - performance.now())));
  }
  await new Promise((r) => setTimeout(r, 1500));
}

const until = async (what: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!what() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return what();
};

t.test('a Node client streams VP8 to the server and gets results and maps for its frames', async (t) => {
  const server = await LiveServer.start({ host: '127.0.0.1', port: 0, modelPath: MODEL, maxSessions: 2, loopbackOnly: true, threads: 1 });
  t.teardown(() => server.close());
  const list = frames(30);
  const client = await NodeClient.connect(server.signalUrl, { width: 640, height: 480, fps: 25, loopbackOnly: true, peer: PEER, session: { mapsStride: 1 } });
  t.teardown(() => client.close());
  const results: ResultMessage[] = [];
  let maps = 0, faceMapPixels = 0, mapsSize = 0;
  client.on('result', (r) => results.push(r));
  client.on('maps', (m) => {
    maps++;
    mapsSize = m.maps.size;
    faceMapPixels = m.maps.mask.filter((p) => p === 1).length;
  });
  await stream(client, list, 0);
  t.equal(client.hello?.model.name, 'facestream-small', 'hello names the model');
  t.equal(client.hello?.expressionNames.length, 57, 'and the blendshapes');
  const faces = results.filter((r): r is Extract<ResultMessage, { face: true }> => r.face);
  // how many depends on the load (tests run two files at once); throughput is the bench's job
  t.ok(faces.length >= 4, `${faces.length} face results for 30 frames sent (the newest frame wins when busy)`);
  t.ok(maps >= 3 && faceMapPixels > 1000, `${maps} maps decoded, the last with ${faceMapPixels} face-skin pixels`);
  t.equal(mapsSize, 128, 'at the full resolution asked for');
  // landmarks against the generator's truth, through VP8 at 1.5 Mbit/s
  const errors: number[] = [];
  for (const r of faces) {
    const f = r.frameId / 3000;
    t.ok(Number.isInteger(f) && f >= 0 && f < 30, `frameId ${r.frameId} is one of ours`);
    const truth: RenderedFrame = list[f].truth;
    for (let l = 0; l < 68; l++) {
      if (!r.landmarks[l * 3 + 2] || !truth.landmarks[l * 3 + 2]) continue;
      errors.push(Math.hypot(r.landmarks[l * 3] - truth.landmarks[l * 3] - list[f].input.offsetX, r.landmarks[l * 3 + 1] - truth.landmarks[l * 3 + 1]));
    }
  }
  errors.sort((a, b) => a - b);
  t.ok(errors[errors.length >> 1] < 10, `landmark median ${errors[errors.length >> 1]?.toFixed(2)} px over ${errors.length}`);
  t.ok(faces.every((r) => r.pose && r.blendshapes?.length === 57), 'pose and blendshapes in every face result');
  // the client's RTCP sender reports: the server turns each frame's RTP time into its capture time. werift sends
  // its first report 0.5–1.5 s after connecting, which can be after a 1.2 s stream: stream on until one is in
  for (let round = 1; round <= 3 && !results.some((r) => r.captureTimeMs !== null); round++) await stream(client, list, round * 30 * 3000);
  const first = results.findIndex((r) => r.captureTimeMs !== null);
  t.ok(first >= 0, 'a sender report arrived and results carry capture times');
  const after = results.slice(first).filter((r) => r.face);
  t.ok(after.every((r) => r.captureTimeMs !== null), `from then on every result carries it (${after.length})`);
  t.ok(after.every((r) => Math.abs(r.captureTimeMs! - Date.now()) < 30_000), 'on this machine\'s clock');
  await client.close();
  t.ok(await until(() => server.sessions.size === 0, 5000), 'closing the client frees its session');
});

t.test('the mesh (over 64 KiB a message) arrives in chunks; leaving mid-stream frees the session', async (t) => {
  const server = await LiveServer.start({ host: '127.0.0.1', port: 0, modelPath: MODEL, maxSessions: 1, loopbackOnly: true, threads: 1 });
  t.teardown(() => server.close());
  const list = frames(20);
  const client = await NodeClient.connect(server.signalUrl, { width: 640, height: 480, fps: 25, loopbackOnly: true, peer: PEER, session: { mapsEvery: 2, meshEvery: 2 } });
  t.teardown(() => client.close());
  let meshes = 0, maps = 0, mapsSize = 0;
  client.on('result', (r) => r.face && r.mesh && meshes++);
  client.on('maps', (m) => {
    maps++;
    mapsSize = m.maps.size;
  });
  const start = performance.now();
  for (let f = 0; f < list.length; f++) {
    await client.sendFrame(list[f].input.pixels, f * 3000);
    await new Promise((r) => setTimeout(r, Math.max(0, start + (f + 1) * 40 - performance.now())));
  }
  t.ok(await until(() => meshes >= 2 && maps >= 2, 5000), `${meshes} meshes and ${maps} maps while streaming`);
  t.equal(client.hello?.meshTriangles.length, 22288 * 3, 'the hello carries the mesh topology (134 KB)');
  t.equal(mapsSize, 64, 'maps at half the model\'s resolution by default');
  t.equal(server.sessions.size, 1);
  // gone without a goodbye, frames still in flight
  void client.sendFrame(list[0].input.pixels, 60_000).catch(() => undefined);
  await client.close();
  t.ok(await until(() => server.sessions.size === 0, 5000), 'the session is freed');
  const again = await NodeClient.connect(server.signalUrl, { width: 640, height: 480, fps: 25, loopbackOnly: true, peer: PEER });
  t.ok(again.sessionId, 'and the place is free for the next client');
  await again.close();
});

t.test('two clients at once get only their own results; a third is told the server is busy', async (t) => {
  const server = await LiveServer.start({ host: '127.0.0.1', port: 0, modelPath: MODEL, maxSessions: 2, loopbackOnly: true, threads: 1 });
  t.teardown(() => server.close());
  const list = frames(12);
  const a = await NodeClient.connect(server.signalUrl, { width: 640, height: 480, fps: 25, loopbackOnly: true, peer: PEER, session: { mapsEvery: 0 } });
  const b = await NodeClient.connect(server.signalUrl, { width: 640, height: 480, fps: 25, loopbackOnly: true, peer: PEER, session: { mapsEvery: 0 } });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  await t.rejects(NodeClient.connect(server.signalUrl, { width: 640, height: 480, fps: 25, loopbackOnly: true, peer: PEER }), /busy/);
  const health = await (await fetch(`${server.url}/health`)).json();
  t.has(health, { sessions: 2, maxSessions: 2, model: 'facestream-small', refused: { busy: 1 } }, `/health counts both sessions and the busy answer: ${JSON.stringify(health)}`);
  t.match(health.modelVersion, /^\d+\.\d+\.\d+$/, 'and names the model version');
  const idsA: number[] = [], idsB: number[] = [];
  a.on('result', (r) => idsA.push(r.frameId));
  b.on('result', (r) => idsB.push(r.frameId));
  await Promise.all([stream(a, list, 0), stream(b, list, 9_000_000)]);
  t.ok(idsA.length >= 2 && idsB.length >= 2, `${idsA.length} and ${idsB.length} results`);
  t.ok(idsA.every((id) => id < 9_000_000), 'A sees only its frames');
  t.ok(idsB.every((id) => id >= 9_000_000), 'B sees only its frames');
});

t.test('frames above 1920x1080 are answered with frameTooLarge, not run', async (t) => {
  const server = await LiveServer.start({ host: '127.0.0.1', port: 0, modelPath: MODEL, maxSessions: 1, loopbackOnly: true, threads: 1 });
  t.teardown(() => server.close());
  const W = 1936, H = 1096;
  const client = await NodeClient.connect(server.signalUrl, { width: W, height: H, fps: 10, loopbackOnly: true, peer: PEER });
  t.teardown(() => client.close());
  const reasons: string[] = [];
  client.on('result', (r) => !r.face && reasons.push(r.reason));
  const frame = { width: W, height: H, data: new Uint8Array(W * H * 3 / 2).fill(128) };
  for (let f = 0; f < 4; f++) {
    await client.sendFrame(frame, f * 9000);
    await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(await until(() => reasons.length >= 1, 8000), `${reasons.length} answers`);
  t.match(reasons[0], /frameTooLarge: 1936x1096/);
  t.equal([...server.sessions.values()][0]?.stats.framesProcessed, 0, 'none reached the engine');
  t.equal([...server.sessions.values()][0]?.stats.framesDecoded, 0, 'none decoded: refused from the keyframe header');
});

t.test('signaling: a bad message is answered with an error and the socket stays up', async (t) => {
  const server = await LiveServer.start({ host: '127.0.0.1', port: 0, modelPath: MODEL, maxSessions: 1, loopbackOnly: true, threads: 1 });
  t.teardown(() => server.close());
  const ws = new WebSocket(server.signalUrl);
  await new Promise((r) => ws.once('open', r));
  const replies: string[] = [];
  ws.on('message', (d) => replies.push(d.toString()));
  for (const m of ['not json', JSON.stringify({ type: 'offer' }), JSON.stringify({ type: 'candidate', candidate: { candidate: 'x' } }), JSON.stringify({ type: 'dance' })]) ws.send(m);
  t.ok(await until(() => replies.length === 4, 3000), 'four replies');
  t.match(replies[0], /"code":"protocol".*not JSON/);
  t.match(replies[1], /signal.sdp: expected a string/);
  t.match(replies[2], /a candidate before the offer/);
  t.match(replies[3], /signal.type: expected ice, offer, candidate or close/);
  t.equal(ws.readyState, WebSocket.OPEN, 'still open');
  ws.close();
});

t.test('signaling: malformed WebSocket frames close that socket, not the server', async (t) => {
  const server = await LiveServer.start({ host: '127.0.0.1', port: 0, modelPath: MODEL, maxSessions: 1, loopbackOnly: true, threads: 1 });
  t.teardown(() => server.close());
  const { port } = new URL(server.url);
  // a raw socket: the WebSocket handshake, then frames no client library would send
  const frames: [string, Buffer][] = [
    ['a text message over the 128 KiB limit', Buffer.concat([Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0, 0x03, 0x00, 0x00, 1, 2, 3, 4]), Buffer.alloc(64)])],
    ['reserved opcode 3', Buffer.from([0x83, 0x80, 1, 2, 3, 4])],
    ['an unmasked client frame', Buffer.from([0x81, 0x02, 0x68, 0x69])],
    ['RSV1 without an extension', Buffer.from([0xc1, 0x80, 1, 2, 3, 4])],
  ];
  for (const [what, bytes] of frames) {
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(`GET /signal HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await new Promise((r) => socket.once('data', r));
    const closed = new Promise((r) => socket.once('close', r));
    socket.write(bytes);
    t.ok(await Promise.race([closed.then(() => true), new Promise((r) => setTimeout(() => r(false), 3000))]), `${what}: the server closes that socket`);
    socket.destroy();
    const health = await (await fetch(`${server.url}/health`)).json();
    t.equal(health.sessions, 0, `${what}: the server still answers /health`);
  }
});

t.test('the session cap holds for offers that arrive together, and sockets that vanish mid-offer free their place', async (t) => {
  const server = await LiveServer.start({ host: '127.0.0.1', port: 0, modelPath: MODEL, maxSessions: 2, loopbackOnly: true, threads: 1 });
  t.teardown(() => server.close());
  // a real offer (a VP8 track and the data channels), sent on 10 sockets at once
  const sdp = await realOfferSdp();
  const sockets = await Promise.all(Array.from({ length: 10 }, async () => {
    const ws = new WebSocket(server.signalUrl);
    await new Promise((r) => ws.once('open', r));
    return ws;
  }));
  const first = sockets.map((ws) => new Promise<{ type: string; code?: string }>((r) => ws.once('message', (d) => r(JSON.parse(d.toString())))));
  for (const ws of sockets) ws.send(JSON.stringify({ type: 'offer', sdp, options: {} }));
  const replies = await Promise.all(first);
  const answers = replies.filter((m) => m.type === 'answer').length, busy = replies.filter((m) => m.code === 'busy').length;
  t.equal(answers, 2, `${answers} answers for 10 offers at once`);
  t.equal(busy, 8, `${busy} told busy`);
  t.ok(server.sessions.size <= 2, `${server.sessions.size} sessions`);
  for (const ws of sockets) ws.close();
  t.ok(await until(() => server.places === 0, 5000), 'closing the sockets frees every place');
  // an offer whose socket closes at once
  for (let i = 0; i < 3; i++) {
    const ws = new WebSocket(server.signalUrl);
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'offer', sdp, options: {} }));
    ws.close();
  }
  t.ok(await until(() => server.places === 0, 5000), 'offers whose socket closed at once leave no session behind');
  const again = new WebSocket(server.signalUrl);
  await new Promise((r) => again.once('open', r));
  const reply = new Promise<{ type: string; message?: string }>((r) => again.once('message', (d) => r(JSON.parse(d.toString()))));
  again.send(JSON.stringify({ type: 'offer', sdp: 'v=0\r\nnot an sdp\r\n', options: {} }));
  const bad = await reply;
  t.equal(bad.type, 'error', `a garbage SDP gets an error: ${bad.message}`);
  t.notMatch(bad.message ?? '', /Cannot read|undefined|\.js:/, `without the library's internals: ${bad.message}`);
  again.close();
  t.ok(await until(() => server.places === 0, 5000), 'and frees its place');
  const health = await fetch(`${server.url}/health`, { method: 'POST' });
  t.equal(health.status, 405, '/health answers GET only');
  t.equal(health.headers.get('x-content-type-options'), 'nosniff', 'with security headers');
  t.equal((await fetch(`${server.url}/app.js.map`)).status, 404, 'no source map is served');
});
