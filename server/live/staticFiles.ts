/**
 * The browser page's files (build/web, made by scripts/build.mjs) served from the signaling server's port.
 * Only the files that were in the folder at start are served, by exact name: no path from a request ever
 * reaches the file system.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What is served, by extension (source maps are not: they would ship every source file to any visitor) */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

/** build/web beside build/server */
export const PAGE_DIR = fileURLToPath(new URL('../../web', import.meta.url));

export class StaticFiles {
  private readonly files = new Map<string, { body: Buffer; type: string }>();

  constructor(dir = PAGE_DIR) {
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => statSync(join(dir, n)).isFile());
    } catch {
      // not built: every request gets the message below
    }
    for (const n of names) {
      const ext = n.slice(n.lastIndexOf('.'));
      if (TYPES[ext]) this.files.set(`/${n}`, { body: readFileSync(join(dir, n)), type: TYPES[ext] });
    }
  }

  get ready(): boolean {
    return this.files.has('/index.html');
  }

  /** Answers GET/HEAD for a page file; false when the request is for something else. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const f = this.files.get(path === '/' ? '/index.html' : path);
    if (!f) {
      if (path !== '/') return false;
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('the page is not built: run `npm run build`\n');
      return true;
    }
    res.writeHead(200, { 'content-type': f.type, 'content-length': f.body.length, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : f.body);
    return true;
  }
}
