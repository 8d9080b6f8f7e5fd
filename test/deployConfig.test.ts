/**
 * The deployment files checked where no image can be built: docker-compose.yml validates (Debian's docker-compose),
 * the proxy configuration parses in HAProxy, the image is built by the README's own install steps, and every
 * variable the files and `facelive serve` read is in docs/deploy.md's table.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../node/projectRoot.js';
import { envName } from '../server/cli/args.js';
import { SERVE_FLAGS } from '../server/cli/serve.js';

const ROOT = projectRoot();
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd}`]).status === 0;
const REQUIRED = { FACELIVE_DOMAIN: 'face.example.com', FACELIVE_PUBLIC_IP: '203.0.113.10', FACELIVE_TURN_SECRET: 'x'.repeat(32) };

t.test('docker-compose.yml validates, and names what it is missing', { skip: has('docker-compose') ? false : 'needs docker-compose (Debian package)' }, async (t) => {
  const config = (env: Record<string, string>) => spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
  const ok = config(REQUIRED);
  t.equal(ok.status, 0, `valid: ${ok.stderr.slice(-500)}`);
  t.match(ok.stdout, /replicas: 2/);
  t.match(ok.stdout, /FACELIVE_TURN_URL: turn:face\.example\.com:3478\?transport=udp,turn:face\.example\.com:3478\?transport=tcp,turns:face\.example\.com:5349\?transport=tcp/);
  t.match(ok.stdout, /target: facelive[\s\S]*target: proxy[\s\S]*target: turn/);
  const { FACELIVE_TURN_SECRET: _, ...noSecret } = REQUIRED;
  const refused = config(noSecret);
  t.not(refused.status, 0, 'no TURN secret: refused');
  t.match(refused.stderr, /FACELIVE_TURN_SECRET/);
});

t.test('the proxy configuration parses in HAProxy with the compose values', { skip: has('haproxy') ? false : 'needs haproxy (Debian package)' }, async (t) => {
  const cert = join(ROOT, 'test', 'fixtures', 'selfsigned-localhost.pem');
  const r = spawnSync(spawnSync('sh', ['-c', 'command -v haproxy']).status === 0 ? 'haproxy' : '/usr/sbin/haproxy', ['-c', '-f', join(ROOT, 'deploy', 'haproxy.cfg')], {
    encoding: 'utf8',
    env: { ...process.env, FACELIVE_DNS: '127.0.0.11:53', FACELIVE_REPLICAS_HOST: 'facelive:8080', FACELIVE_MAX_REPLICAS: '16', FACELIVE_PROXY_BIND: ':443', FACELIVE_PROXY_HTTP_BIND: ':80', FACELIVE_TLS_PEM: cert },
  });
  t.equal(r.status, 0, `haproxy -c: ${r.stdout}${r.stderr}`.slice(-800));
});

t.test('the image is built by the README\'s own steps (npm ci, npm run setup), which npm start runs too', async (t) => {
  const docker = read('Dockerfile');
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
  t.match(docker, /^RUN npm ci [^\n]*&& npm run setup\b/m, 'the facelive stage installs and builds with npm run setup');
  t.match(pkg.scripts.start, /^npm run setup && /, 'npm start begins with the same npm run setup');
  t.match(read('README.md'), /npm install && npm start/, 'the README\'s first command');
  t.match(docker, /CMD \["node", "build\/server\/cli\/main\.js", "serve"\]/);
  for (const f of ['deploy/haproxy.cfg', 'deploy/turnserver.conf']) t.match(docker, new RegExp(`COPY ${f.replace('.', '\\.')} `), `the image carries ${f}`);
});

t.test('every FACELIVE_ variable the files and the serve flags read is in docs/deploy.md\'s table', async (t) => {
  const table = new Set([...read('docs/deploy.md').matchAll(/^\| `(FACELIVE_[A-Z_]+)` \|/gm)].map((m) => m[1]));
  const used = new Set<string>(['FACELIVE_TURN_SECRET', ...Object.keys(SERVE_FLAGS).map(envName)]);
  for (const f of ['docker-compose.yml', 'deploy/haproxy.cfg', 'deploy/env.example']) for (const m of read(f).matchAll(/\b(FACELIVE_[A-Z_]+)\b/g)) used.add(m[1]);
  const missing = [...used].filter((v) => !table.has(v));
  t.same(missing, [], 'each one documented');
  t.ok(table.size >= used.size, `${table.size} documented, ${used.size} read`);
});
