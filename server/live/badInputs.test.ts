/**
 * The committed corpus of bad inputs (bench/fuzz/corpus/bad-inputs.jsonl: the cases of issue 19 and generated
 * ones), replayed against one live server and the offline reader: each ends in a clear error, a closed
 * connection or a dropped frame, never a crash, a wedge or an error of the wrong kind, and /health answers after.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { bytesOf, type BadInput } from '../../bench/fuzz/badInputs.js';
import { openFuzzSession, replayCandidates, replayInSession, replaySignal, replayWsFrame } from '../../bench/fuzz/replay.js';
import { InputError } from '../../shared/errors.js';
import { projectRoot } from '../../node/projectRoot.js';
import { openFrameSource } from '../offline/frameSource.js';
import { LiveServer } from './liveServer.js';

const MODEL = join(projectRoot(), 'models', 'facestream-small.onnx');
const CORPUS: BadInput[] = readFileSync(join(projectRoot(), 'bench', 'fuzz', 'corpus', 'bad-inputs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const of = (kind: BadInput['kind']) => CORPUS.filter((c) => c.kind === kind);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('the corpus holds at least 300 cases of every kind', async (t) => {
  t.ok(CORPUS.length >= 300, `${CORPUS.length} cases`);
  for (const kind of ['ws-frame', 'signal', 'candidate', 'datachannel', 'rtp', 'vp8', 'file'] as const) t.ok(of(kind).length >= 10, `${kind}: ${of(kind).length}`);
});

t.test('every bad input ends in an error, a closed connection or a dropped frame; the server lives on', async (t) => {
  // a parser bug shows as a log line, not as a crash: those lines fail the test
  const logged: string[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => void logged.push(a.map(String).join(' '));
  t.teardown(() => void (console.error = error));
  const server = await LiveServer.start({ host: '127.0.0.1', port: 0, modelPath: MODEL, maxSessions: 2, loopbackOnly: true, threads: 1 });
  t.teardown(() => server.close());
  const health = async () => (await fetch(`${server.url}/health`)).status;

  // in batches: one address may hold 32 connections
  const frames: string[] = [];
  for (let i = 0; i < of('ws-frame').length; i += 16) frames.push(...await Promise.all(of('ws-frame').slice(i, i + 16).map((c) => replayWsFrame(server.url, c, 3000))));
  const closed = frames.filter((o) => o === 'closed').length;
  t.ok(closed >= of('ws-frame').length * 0.5, `WebSocket frames: ${closed} of ${frames.length} closed their connection, the rest were taken as messages or ignored`);
  t.equal(await health(), 200, '/health after the WebSocket frames');

  const signals: string[] = [];
  for (const c of of('signal')) signals.push(await replaySignal(server.signalUrl, c));
  const malformed = of('signal').map((c, i) => [c, signals[i]] as const).filter(([c]) => !c.wellFormed);
  const wrong = malformed.filter(([, o]) => !(o.startsWith('error:protocol') || o === 'closed')).map(([c, o]) => `${c.name}: ${o}`);
  t.same(wrong, [], `signaling: all ${malformed.length} malformed messages answered with a protocol error or closed`);
  t.ok(malformed.length >= of('signal').length * 0.8, `${of('signal').length - malformed.length} well-formed ones (answered, or refused as out of order)`);
  t.equal(signals.filter((o) => o === 'error:internal').length, 0, 'no internal errors');
  t.equal(await health(), 200, '/health after the signaling messages');
  // candidates after a real offer reach the WebRTC stack's own parser (they once came back as internal errors)
  const candidateReplies = await replayCandidates(server.signalUrl, of('candidate'));
  t.ok(candidateReplies.length > 0 && candidateReplies.every((o) => o === 'error:protocol'), `candidates: ${candidateReplies.length} of ${of('candidate').length} refused as protocol errors, the rest taken; none internal`);

  const client = await openFuzzSession(server.signalUrl);
  t.teardown(() => client.close());
  const session = () => [...server.sessions.values()][0];
  for (let i = 0; i < 50 && !client.hello; i++) await sleep(100); // the results channel is open both ways
  // werift, the client here, sends an empty message as a DATA chunk without data (RFC 4960 forbids it; browsers
  // send one zero byte with the "empty" payload id), which ends the association: that case goes last
  const messages = of('datachannel').sort((a, b) => Number(a.data === '') - Number(b.data === ''));
  for (const c of messages) replayInSession(client, c);
  for (const c of [...of('vp8'), ...of('rtp')]) {
    replayInSession(client, c);
    await sleep(5);
  }
  // counted as they arrive: on a loaded machine that takes a while
  for (let waited = 0; waited < 10_000 && (session()?.stats.badClientMessages ?? 0) < of('datachannel').length * 0.9; waited += 200) await sleep(200);
  const stats = session()?.stats;
  t.ok(stats, 'the session is still there');
  t.ok(stats!.badClientMessages >= of('datachannel').length * 0.8, `${stats!.badClientMessages} of ${of('datachannel').length} data-channel messages counted as bad and dropped`);
  t.ok(stats!.decodeErrors + stats!.framesDropped + stats!.framesTooLarge > 0, `garbage frames dropped or refused (decode errors ${stats!.decodeErrors}, dropped ${stats!.framesDropped}, too large ${stats!.framesTooLarge})`);
  // the session still works: a real frame gets a result
  let answered = 0;
  client.on('result', () => answered++);
  client.on('keyframeRequest', () => undefined);
  for (let f = 0; f < 60 && answered === 0; f++) {
    await client.sendFrame({ width: 64, height: 48, data: new Uint8Array(64 * 48 * 3 / 2).fill(128) }, 2_000_000 + f * 9000);
    await sleep(250);
  }
  t.ok(answered > 0, `a real frame after the garbage is answered (${answered} results)`);
  t.equal(await health(), 200, '/health after the session\'s garbage');
  t.same(logged.filter((l) => /broke the parser|signaling error/.test(l)), [], 'no message reached a parser bug or an internal error');
});

t.test('bad files end in an InputError (or whole frames and a warning), never another error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bad-files-'));
  for (const [i, c] of of('file').entries()) {
    const path = join(dir, `case${i}.${c.ext}`);
    writeFileSync(path, bytesOf(c));
    try {
      const source = openFrameSource(path);
      let frames = 0;
      for await (const f of source.frames()) frames += f.pixels.width > 0 ? 1 : 0;
      // no frame at all (reconstruct then refuses the input), or frames that are whole with the damage said
      t.ok(frames === 0 || source.warnings.length > 0, `${c.name}: ${frames} frames, ${source.warnings.length} warnings`);
    } catch (e) {
      t.ok(e instanceof InputError, `${c.name}: ${(e as Error).name}: ${(e as Error).message.slice(0, 120)}`);
    }
  }
});
