/**
 * The fuzz bench: random mutations of valid traffic (WebSocket frames, signaling messages, data-channel messages,
 * VP8 frames and RTP payloads) sent to a `facelive serve` child process for N minutes. A finding is the server
 * exiting, /health not answering, or a log line that only a bug writes (an internal signaling error, a parser that
 * threw something other than its protocol error). Reports cases/s and the findings, each with the input that
 * caused it (add it to the corpus, fix, replay).
 *
 *   npm run bench -- fuzz [--minutes 2] [--seed 1]
 *   npm run bench -- fuzz --write-corpus      # (re)writes bench/fuzz/corpus/bad-inputs.jsonl, replayed by the tests
 *   npm run bench -- fuzz --offer-storm 100   # N real offers at once, three times, against --max-sessions 4: the
 *                                             # server's memory before, at its peak and after
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { projectRoot } from '../node/projectRoot.js';
import { parseFlags, intFlag, numberFlag } from '../server/cli/args.js';
import { saveBenchResult } from './benchResult.js';
import { startServeProcess, type ServeProcess } from './serveProcess.js';
import { makeBadInputs, mutate, OFFER_SKELETON, seededRandom, wsFrame, type BadInput } from './fuzz/badInputs.js';
import { openFuzzSession, realOfferSdp, replayInSession, replaySignal, replayWsFrame } from './fuzz/replay.js';
import type { NodeClient } from '../client/node/nodeClient.js';

const BUG_LINES = /signaling error|broke the parser|Unhandled|TypeError|RangeError/;

export async function benchFuzz(argv: string[]): Promise<void> {
  const v = parseFlags('bench fuzz', argv, { minutes: { type: 'string' }, seed: { type: 'string' }, 'write-corpus': { type: 'boolean' }, 'offer-storm': { type: 'string' } });
  if (v['write-corpus']) {
    const cases = makeBadInputs();
    const dir = join(projectRoot(), 'bench', 'fuzz', 'corpus');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'bad-inputs.jsonl'), cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
    console.log(`wrote ${cases.length} cases to bench/fuzz/corpus/bad-inputs.jsonl`);
    return;
  }
  if (v['offer-storm'] !== undefined) return offerStorm(intFlag('bench fuzz', v, 'offer-storm', 100, 1, 1000));
  const minutes = numberFlag('bench fuzz', v, 'minutes', 2, 0.1, 600);
  const seed = intFlag('bench fuzz', v, 'seed', 1, 0, 2 ** 31);
  const rnd = seededRandom(seed);
  const server = await startServer();
  const findings: { kind: string; input: BadInput | null; what: string }[] = [];
  const counts: Record<string, number> = {};
  let session: NodeClient | null = null;
  const started = performance.now();
  const packr = new Packr({ useRecords: false });
  const valid = {
    'ws-frame': wsFrame(1, new TextEncoder().encode(JSON.stringify({ type: 'close' }))),
    signal: new TextEncoder().encode(JSON.stringify({ type: 'offer', sdp: OFFER_SKELETON, options: { mapsEvery: 1, meshEvery: 0, mapsStride: 2, fovDeg: 60 } })),
    datachannel: packr.pack({ t: 'options', mapsEvery: 1, meshEvery: 0, mapsStride: 2, fovDeg: 60 }),
    vp8: Uint8Array.from([0x50, 0x2a, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01, ...Array.from({ length: 400 }, (_, i) => (i * 37) & 255)]),
    rtp: Uint8Array.from([0x90, 0x80, 0x12, 0x50, 0x2a, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01, ...Array.from({ length: 200 }, (_, i) => (i * 11) & 255)]),
  };
  const kinds = Object.keys(valid) as (keyof typeof valid)[];
  try {
    while (performance.now() - started < minutes * 60_000 && server.child.exitCode === null) {
      const kind = kinds[Math.floor(rnd() * kinds.length)];
      const bytes = mutate(valid[kind], rnd);
      const input: BadInput = kind === 'signal' ? { kind, name: 'fuzz', data: Buffer.from(bytes).toString('latin1') } : { kind, name: 'fuzz', data: Buffer.from(bytes).toString('hex'), marker: rnd() < 0.7 };
      try {
        if (kind === 'ws-frame') await replayWsFrame(server.httpUrl, input, 200);
        else if (kind === 'signal') await replaySignal(server.signalUrl, input, 1000);
        else {
          if (!session) session = await openFuzzSession(server.signalUrl);
          replayInSession(session, input);
        }
      } catch (e) {
        // a session the server closed (it may, on garbage) is opened again; anything else is the bench's own
        session?.close().catch(() => undefined);
        session = null;
        if (!/closed|connect/i.test((e as Error).message)) throw e;
      }
      counts[kind] = (counts[kind] ?? 0) + 1;
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      for (const line of server.takeLog()) if (BUG_LINES.test(line)) findings.push({ kind: 'log', input, what: line.slice(0, 500) });
      if (total % 100 === 0) {
        const ok = await fetch(`${server.httpUrl}/health`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status === 200, () => false);
        if (!ok) findings.push({ kind: 'health', input, what: '/health did not answer' });
      }
    }
    if (server.child.exitCode !== null) findings.push({ kind: 'exit', input: null, what: `the server exited with ${server.child.exitCode}: ${server.takeLog().slice(-5).join(' | ')}` });
  } finally {
    await session?.close().catch(() => undefined);
    server.child.kill('SIGINT');
  }
  const seconds = (performance.now() - started) / 1000;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(`fuzz: ${total} cases in ${seconds.toFixed(0)} s (${(total / seconds).toFixed(1)}/s; ${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ')}), ${findings.length} findings`);
  for (const f of findings.slice(0, 20)) console.log(`  ${f.kind}: ${f.what}${f.input ? ` (input ${f.input.kind} ${f.input.data.slice(0, 80)})` : ''}`);
  console.log(`saved ${saveBenchResult('fuzz', { minutes, seed }, { cases: total, seconds, casesPerSecond: total / seconds, counts, findings })}`);
}

/** A serve process whose log the bench reads: each call to takeLog() returns the lines since the last. */
async function startServer(extra: string[] = []): Promise<ServeProcess & { takeLog: () => string[] }> {
  const server = await startServeProcess(['--max-sessions', '4', ...extra], 'pipe');
  let log: string[] = [];
  server.child.stderr!.on('data', (d: Buffer) => (log = log.concat(d.toString().split('\n').filter(Boolean))).length > 1000 && (log = log.slice(-1000)));
  const takeLog = () => {
    const l = log;
    log = [];
    return l;
  };
  return { ...server, takeLog };
}

/** Resident memory of a process, MB (Linux). */
function residentMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
}

async function offerStorm(offers: number): Promise<void> {
  const server = await startServer(['--max-connections', String(offers + 64)]);
  try {
    const sdp = await realOfferSdp();
    await new Promise((r) => setTimeout(r, 2000));
    const pid = server.child.pid!;
    const before = residentMb(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, residentMb(pid))), 20);
    const rounds = [];
    for (let round = 0; round < 3; round++) {
      // from several loopback addresses: one address may hold 32 connections
      const sockets = await Promise.all(Array.from({ length: offers }, (_, i) => new Promise<WebSocket | null>((resolve) => {
        const ws = new WebSocket(server.signalUrl, { localAddress: `127.0.0.${1 + (i % 8)}` });
        ws.on('error', () => resolve(null));
        ws.once('open', () => resolve(ws));
      })));
      const replies = await Promise.all(sockets.map((ws) => (ws ? new Promise<string>((resolve) => {
        ws.once('message', (d) => {
          const m = JSON.parse(d.toString()) as { type: string; code?: string };
          resolve(m.type === 'answer' ? 'answer' : m.code ?? m.type);
        });
        ws.send(JSON.stringify({ type: 'offer', sdp, options: {} }));
        setTimeout(() => resolve('no reply'), 8000);
      }) : Promise.resolve('refused'))));
      const counts: Record<string, number> = {};
      for (const r of replies) counts[r] = (counts[r] ?? 0) + 1;
      rounds.push({ counts, residentMb: Math.round(residentMb(pid)) });
      for (const ws of sockets) ws?.close();
      await new Promise((r) => setTimeout(r, 3000));
    }
    clearInterval(sampler);
    const after = residentMb(pid);
    console.log(`${offers} offers at once, 3 rounds: ${rounds.map((r) => JSON.stringify(r.counts)).join(', ')}; resident memory ${before.toFixed(0)} MB before, ${peak.toFixed(0)} MB at the peak, ${after.toFixed(0)} MB after`);
    console.log(`saved ${saveBenchResult('offer-storm', { offers, maxSessions: 4 }, { beforeMb: before, peakMb: peak, afterMb: after, rounds })}`);
  } finally {
    server.child.kill('SIGINT');
  }
}
