/**
 * The deployment of docker-compose.yml as processes on 127.0.0.1 (no image can be built here): two `facelive serve`
 * replicas, coturn with deploy/turnserver.conf and HAProxy with deploy/haproxy.cfg, the replicas found by name
 * through a DNS stub as Docker's DNS finds them. Clients connect through the proxy over TLS and send their media
 * through TURN only (relay candidates); they land on different replicas; a replica killed mid-stream sends its
 * client to the other, which goes on; a replica told SIGTERM drains: it takes no new session and stops once its
 * own have ended.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../node/projectRoot.js';
import { DnsStub } from './dnsStub.js';

const ROOT = projectRoot();
const MAIN = join(ROOT, 'build', 'server', 'cli', 'main.js');
/** a program's path: on PATH, or in /usr/sbin where Debian puts daemons (not on a user's PATH) */
const bin = (cmd: string) => [cmd, `/usr/sbin/${cmd}`].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
const missing = ['haproxy', 'turnserver', 'openssl'].filter((c) => !bin(c));
const SECRET = 'a-secret-shared-with-coturn-0123';

interface Proc {
  readonly child: ChildProcess;
  out: string;
  readonly exited: Promise<number | null>;
}

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { child, out: '', exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  child.stdout!.on('data', (d) => (p.out += d));
  child.stderr!.on('data', (d) => (p.out += d));
  return p;
}

async function freePort(host: string): Promise<number> {
  const s = createServer().listen(0, host);
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** GET a JSON document: status and body (null when unreachable). */
function getJson(url: string, ca?: Buffer): Promise<{ status: number; body: Record<string, unknown> } | null> {
  return new Promise((resolve) => {
    const req = (url.startsWith('https') ? httpsGet : httpGet)(url, { ca, timeout: 2000 }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          resolve(null);
        }
      });
    });
    req.on('error', () => resolve(null));
    req.on('timeout', () => req.destroy());
  });
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

t.test('compose topology as processes: TLS proxy, TURN relay only, placement, failover, draining', { skip: missing.length ? `needs ${missing.join(', ')} (Debian: haproxy coturn openssl)` : false, timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'facelive-deploy-'));
  const procs: Proc[] = [];
  const run = (cmd: string, args: string[], env?: NodeJS.ProcessEnv) => {
    const p = start(cmd, args, env);
    procs.push(p);
    return p;
  };
  let dns: DnsStub | null = null;
  t.teardown(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await dns?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // a held-out synthetic clip long enough to outlast the kill and the drain (8 frames/s for 25 s)
  const synth = spawnSync(process.execPath, [MAIN, 'synth', '--out', join(dir, 'clip'), '--sequences', '1', '--frames', '200', '--size', '192', '--seed', '11', '--split', 'test', '--quiet'], { encoding: 'utf8' });
  t.equal(synth.status, 0, `a held-out clip rendered${synth.status ? `: ${synth.stderr}` : ''}`);
  const clip = join(dir, 'clip', 'seq_0000', 'video.y4m');

  // one self-signed certificate for the proxy and TURN over TLS; the clients trust it
  const cert = join(dir, 'cert.pem'), key = join(dir, 'key.pem'), pem = join(dir, 'site.pem');
  const ssl = spawnSync(bin('openssl')!, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { encoding: 'utf8' });
  t.equal(ssl.status, 0, `openssl made a certificate${ssl.status ? `: ${ssl.stderr.slice(-300)}` : ''}`);
  writeFileSync(pem, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'));
  const ca = readFileSync(cert);

  // coturn: the deploy file, on loopback (the replicas are on 127.0.0.x here, on the compose network there)
  const turnPort = await freePort('127.0.0.1');
  const turn = run(bin('turnserver')!, ['-c', join(ROOT, 'deploy', 'turnserver.conf'), '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${turnPort}`,
    `--tls-listening-port=${await freePort('127.0.0.1')}`, `--cert=${pem}`, `--pkey=${pem}`, `--static-auth-secret=${SECRET}`, '--realm=facelive.test',
    '--allow-loopback-peers', `--pidfile=${join(dir, 'turnserver.pid')}`, '--log-file=stdout', '-v']);

  // two replicas on one port at two addresses, as containers are: one DNS name lists both
  const port = await freePort('127.0.0.2');
  const replica = (name: string, address: string) => run(process.execPath, [MAIN, 'serve', '--host', address, '--port', String(port), '--loopback', '--max-sessions', '4'], {
    FACELIVE_TURN_SECRET: SECRET, FACELIVE_TURN_URL: `turn:127.0.0.1:${turnPort}?transport=udp`, FACELIVE_REPLICA: name, FACELIVE_BEHIND_PROXY: '1', FACELIVE_DRAIN_SECONDS: '60',
  });
  const r1 = { name: 'r1', address: '127.0.0.2', proc: replica('r1', '127.0.0.2') };
  const r2 = { name: 'r2', address: '127.0.0.3', proc: replica('r2', '127.0.0.3') };
  dns = await DnsStub.start({ 'facelive.test': [r1.address, r2.address] });

  const proxyPort = await freePort('127.0.0.1');
  const proxy = run(bin('haproxy')!, ['-db', '-f', join(ROOT, 'deploy', 'haproxy.cfg')], {
    FACELIVE_DNS: dns.address, FACELIVE_PROXY_BIND: `127.0.0.1:${proxyPort}`, FACELIVE_PROXY_HTTP_BIND: `127.0.0.1:${await freePort('127.0.0.1')}`,
    FACELIVE_TLS_PEM: pem, FACELIVE_MAX_REPLICAS: '4', FACELIVE_REPLICAS_HOST: `facelive.test:${port}`,
  });
  const health = (r: { address: string }) => getJson(`http://${r.address}:${port}/health`);
  const sessions = async (r: { address: string }) => Number((await health(r))?.body.sessions ?? -1);

  // both replicas up and seen through the proxy
  await until('both replicas answering', async () => (await health(r1))?.status === 200 && (await health(r2))?.status === 200, 90_000);
  const seen = new Set<unknown>();
  await until('the proxy to route to both replicas', async () => {
    const h = await getJson(`https://127.0.0.1:${proxyPort}/health`, ca);
    if (h?.status === 200) seen.add(h.body.replica);
    return seen.has('r1') && seen.has('r2');
  }, 30_000).catch((e) => {
    throw new Error(`${(e as Error).message}; the proxy said: ${proxy.out.slice(-1500)}`);
  });
  t.pass('the proxy serves /health over TLS from both replicas');

  const client = (frames: number) => run(process.execPath, [MAIN, 'client', '--server', `wss://127.0.0.1:${proxyPort}/signal`, '--input', clip, '--fps', '8', '--frames', String(frames),
    '--loopback', '--relay-only', '--retries', '10', '--quiet'], { NODE_EXTRA_CA_CERTS: cert });
  const a = client(200);
  await until('the first client on a replica', async () => (await sessions(r1)) + (await sessions(r2)) === 1, 30_000);
  const b = client(200);
  await until('the second client on the other replica', async () => (await sessions(r1)) === 1 && (await sessions(r2)) === 1, 30_000);
  t.pass('two clients landed on different replicas (fewest connections first)');
  await until('results on both', () => /ALLOCATE processed, success[\s\S]*ALLOCATE processed, success/.test(turn.out), 20_000);
  t.pass('both clients allocated a relay with short-lived credentials (coturn: use-auth-secret)');

  // r1 goes away without a word: its client reconnects through the proxy and lands on r2
  await new Promise((r) => setTimeout(r, 2000));
  r1.proc.child.kill('SIGKILL');
  await r1.proc.exited;
  await until('the orphaned client to reconnect to r2', async () => (await sessions(r2)) === 2, 40_000);
  t.pass('the killed replica\'s client connected again, to the other replica');

  // r1 comes back; r2 is told to stop: it drains (503 to the proxy, new sessions go to r1), its sessions finish
  const r1b = { ...r1, proc: replica('r1', r1.address) };
  await until('r1 back behind the proxy', async () => (await getJson(`https://127.0.0.1:${proxyPort}/health`, ca))?.body.replica === 'r1', 90_000);
  r2.proc.child.kill('SIGTERM');
  const draining = await until('r2 to report draining', async () => {
    const h = await health(r2);
    return h?.status === 503 ? h : null;
  }, 10_000);
  t.equal(draining.body.status, 'draining', '/health: 503, status draining');
  t.equal(draining.body.sessions, 2, 'its two sessions go on');
  const c = client(24);
  t.equal(await c.exited, 0, `a new client while r2 drains is served (by r1): ${c.out.slice(-400)}`);
  t.match(c.out, /sent 24 frames; |sent 24 frames \(/);
  t.equal(r2.proc.child.exitCode, null, 'r2 still runs while its sessions stream');

  const [codeA, codeB] = await Promise.all([a.exited, b.exited]);
  t.equal(codeA, 0, `client A finished: ${a.out.slice(-600)}`);
  t.equal(codeB, 0, `client B finished: ${b.out.slice(-600)}`);
  const reconnected = [a, b].filter((p) => /connected again/.test(p.out));
  t.equal(reconnected.length, 1, 'exactly one client had to reconnect (the one on the killed replica)');
  for (const p of [a, b]) {
    const m = /(\d+) results \((\d+) with a face/.exec(p.out);
    t.ok(m && Number(m[2]) > 100, `a client got results for most of its 200 frames across the failover: ${m?.[0]}`);
  }
  t.equal(await r2.proc.exited, 0, 'r2 stopped by itself once its sessions ended');
  t.match(r2.proc.out, /drained: 2 sessions ended, 0 closed at the deadline/);
  t.ok(r1b.proc.child.exitCode === null && proxy.child.exitCode === null && turn.child.exitCode === null, 'the rest keeps running');
});
