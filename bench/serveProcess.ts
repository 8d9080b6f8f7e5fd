/** `facelive serve` as a child process on a free loopback port, for the benches that measure it from outside. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../node/projectRoot.js';

export interface ServeProcess {
  readonly child: ChildProcess;
  /** ws://127.0.0.1:PORT/signal */
  readonly signalUrl: string;
  /** http://127.0.0.1:PORT */
  readonly httpUrl: string;
}

/** Starts it with --loopback and the given flags; `stderr` 'pipe' lets the caller read the server's log. */
export async function startServeProcess(flags: readonly string[], stderr: 'inherit' | 'pipe' = 'inherit'): Promise<ServeProcess> {
  const child = spawn(process.execPath, [join(projectRoot(), 'build', 'server', 'cli', 'main.js'), 'serve', '--loopback', '--host', '127.0.0.1', '--port', '0', ...flags], { stdio: ['ignore', 'pipe', stderr] });
  const signalUrl = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /signaling on (ws:\/\/[^\s,]+)/.exec(d.toString());
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`facelive serve exited (${code})`)));
  });
  return { child, signalUrl, httpUrl: signalUrl.replace(/^ws/, 'http').replace(/\/signal$/, '') };
}
