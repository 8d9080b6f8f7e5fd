import { spawnSync } from 'node:child_process';
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
