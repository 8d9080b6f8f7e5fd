/**
 * The page connects again by itself when its server goes away mid-stream (a replica stopped or drained): here the
 * server is closed and a new one starts on the same port, as a proxy would hand the page another replica. The
 * camera keeps running; results come again from the new session; the status says what happened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { launchFirefox, readPageState, type PageState } from '../../bench/browsers.js';
import { projectRoot } from '../../node/projectRoot.js';
import { LiveServer } from '../../server/live/liveServer.js';

const MODEL = join(projectRoot(), 'models', 'facestream-small.onnx');

t.test('the page reconnects with backoff when its server goes away, and streams again', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'facelive-reconnect-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const first = await LiveServer.start({ host: '127.0.0.1', port: 0, modelPath: MODEL, maxSessions: 1, loopbackOnly: true, threads: 1 });
  const port = Number(new URL(first.url).port);
  let second: LiveServer | null = null;
  t.teardown(async () => {
    await first.close();
    await second?.close();
  });
  const browser = await launchFirefox(dir);
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${first.url}/?autostart=1`);
  const until = async (what: string, ok: (s: PageState) => boolean, ms = 60_000): Promise<PageState> => {
    const end = Date.now() + ms;
    for (;;) {
      const s = await readPageState(page);
      if (ok(s)) return s;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: state ${s.state}, ${s.error}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  await until('results from the first server', (s) => s.state === 'live' && s.results.length >= 10);
  await first.close();
  const lost = await until('the page to notice', (s) => s.state === 'reconnecting', 20_000);
  t.equal(lost.reconnects, 0);
  t.match(await page.$eval('#status', (e) => e.textContent), /connection lost .*connecting again in \d+\.\d s, try \d+ of 8/, 'the status says it connects again');
  second = await LiveServer.start({ host: '127.0.0.1', port, modelPath: MODEL, maxSessions: 1, loopbackOnly: true, threads: 1 });
  const before = (await readPageState(page)).results.at(-1)?.frameId ?? -1;
  const back = await until('results from the second server', (s) => s.state === 'live' && s.reconnects === 1 && (s.results.at(-1)?.frameId ?? -1) !== before && second!.sessions.size === 1, 60_000);
  t.equal(back.reconnects, 1, 'one reconnect');
  t.match(await page.$eval('#status', (e) => e.textContent), /^live: .*\(1 reconnects\)/);
  // Firefox reports each refused WebSocket (the tries while no server listens) as a page error: expected here
  t.same(errors.filter((e) => !/can.t establish a connection to the server at ws:/.test(e)), [], 'no uncaught errors in the page');
  t.ok(errors.length <= 8, `at most one refused socket per try (${errors.length})`);
});
