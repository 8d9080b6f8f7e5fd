import { spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../node/projectRoot.js';

const MAIN = join(projectRoot(), 'build', 'server', 'cli', 'main.js');
const serve = (args: string[]) => spawnSync(process.execPath, [MAIN, 'serve', ...args], { encoding: 'utf8', timeout: 60_000 });

t.test('facelive serve on a port in use or an address this machine lacks says so, exits 1, no stack', async (t) => {
  const holder = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => holder.once('listening', resolve));
  const port = (holder.address() as AddressInfo).port;
  try {
    const cases: [string[], RegExp][] = [
      [['--host', '127.0.0.1', '--port', String(port)], new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use \\(EADDRINUSE\\)`)],
      [['--host', '999.1.1.1', '--port', '0'], /cannot listen on 999\.1\.1\.1:0: no such address on this machine/],
    ];
    for (const [args, message] of cases) {
      const r = serve(args);
      t.equal(r.status, 1, `${args.join(' ')} → exit 1 (not hung, not aborted)`);
      t.match(r.stderr, message);
      t.notMatch(r.stderr, /internal error|    at /);
    }
  } finally {
    holder.close();
  }
});

t.test('facelive serve: bad --device, --model-workers, --model-threads exit 2; cuda without its libraries exits 1 in one line', async (t) => {
  for (const [args, message] of [
    [['--device', 'tpu'], /serve: --device: expected one of cpu, webgpu, cuda, got "tpu"/],
    [['--model-workers', '0'], /serve: --model-workers: must be between 1 and 16, got 0/],
    [['--model-threads', 'two'], /serve: --model-threads: expected an integer, got "two"/],
  ] as [string[], RegExp][]) {
    const r = serve([...args, '--port', '0']);
    t.equal(r.status, 2, args.join(' '));
    t.match(r.stderr, message);
  }
  // onnxruntime-node's npm package ships no CUDA provider libraries: the server stops before it listens
  const r = spawnSync(process.execPath, [MAIN, 'serve', '--port', '0', '--loopback', '--device', 'cuda', '--model-workers', '2'], { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
  if (r.status === null && /signaling on/.test(r.stdout)) t.pass('cuda works on this machine (the server started)');
  else {
    t.equal(r.status, 1, 'exit 1');
    t.match(r.stderr.trim().split('\n').pop(), /^facelive: --device cuda: onnxruntime could not run the model on CUDA \(.*\): \S/);
    t.equal(r.stderr.match(/^facelive: /gm)?.length, 1, 'said once, though two workers were asked for');
  }
});

t.test('facelive serve --model-workers 2 --model-threads 1: /health states the device and the workers', async (t) => {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--loopback', '--model-workers', '2', '--model-threads', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /health on (http:\/\/\S+\/health)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`serve exited (${code})`)));
    });
    const health = (await (await fetch(url)).json()) as { inference: { device: string; workers: number; threadsPerWorker: number; alive: number; perWorker: unknown[]; total: { steps: number } } };
    t.match(health.inference, { device: 'cpu', workers: 2, threadsPerWorker: 1, alive: 2, total: { steps: 0 } });
    t.equal(health.inference.perWorker.length, 2);
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
  }
});
