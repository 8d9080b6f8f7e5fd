/**
 * The folder layout is the architecture: this test reads every module's imports (tests excluded) and holds the
 * arrows that keep it so. shared/ runs in the browser too; node/ is what Node-side folders share; the engine knows
 * nothing of how frames arrive or leave; a client never reaches into the server; the generator and the runtime
 * meet only in shared/ (and in the CLI and benches, which use both).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import t from 'tap';
import { projectRoot } from '../node/projectRoot.js';

const TOP = ['server', 'synth', 'client', 'shared', 'node', 'bench', 'models'];
/** packages that need Node: never in shared/ or the page */
const NODE_ONLY_PACKAGES = ['onnxruntime-node', 'werift', '@libav.js/variant-webm', 'pngjs', 'jpeg-js', 'ws', 'node-datachannel'];

function modules(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(relative(root, p));
    }
  };
  for (const top of TOP) walk(join(root, top));
  return out;
}

/** module → what it imports: repository modules as paths (.ts), packages as 'pkg:name' */
export function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const pattern = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|new URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url/g;
  for (const file of modules(root)) {
    const deps: string[] = [];
    for (const m of readFileSync(join(root, file), 'utf8').matchAll(pattern)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec.startsWith('.')) deps.push(relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, '.ts'));
      else deps.push(`pkg:${spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]}`);
    }
    graph.set(file, deps);
  }
  return graph;
}

/** Strongly connected components of more than one module (Tarjan). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

interface Rule {
  readonly from: string;
  readonly except?: string;
  readonly forbidden: (dep: string) => boolean;
  readonly why: string;
}

const under = (...prefixes: string[]) => (dep: string) => prefixes.some((p) => dep.startsWith(p));

const RULES: Rule[] = [
  { from: 'shared/', forbidden: (d) => d.startsWith('pkg:node:') || NODE_ONLY_PACKAGES.includes(d.slice(4)) || !d.startsWith('pkg:') && !d.startsWith('shared/'), why: 'shared/ runs in the browser too: only shared/ and browser-safe packages' },
  { from: 'client/web/', forbidden: (d) => d.startsWith('pkg:node:') || NODE_ONLY_PACKAGES.includes(d.slice(4)) || under('server/', 'node/', 'synth/', 'bench/', 'client/node/')(d), why: 'the page is bundled for the browser' },
  { from: 'client/', forbidden: under('server/', 'synth/', 'bench/'), why: 'a client reaches the server only over the wire' },
  { from: 'node/', forbidden: under('server/', 'client/', 'synth/', 'bench/', 'models/'), why: 'node/ is shared by the Node-side folders and depends on none of them' },
  { from: 'server/engine/', forbidden: under('server/offline/', 'server/live/', 'server/ingest/', 'server/egress/', 'server/cli/', 'synth/', 'client/', 'bench/'), why: 'the engine knows nothing of how frames arrive or results leave' },
  { from: 'server/', except: 'server/cli/', forbidden: under('synth/', 'bench/', 'client/'), why: 'the runtime does not use the generator or the benches (the CLI may)' },
  { from: 'synth/', forbidden: under('server/', 'client/', 'bench/'), why: 'the generator shares the runtime\'s types through shared/ only' },
];

t.test('the import graph has no cycle', async (t) => {
  t.same(cycles(importGraph(projectRoot())), []);
});

t.test('no import crosses the layering', async (t) => {
  const broken: string[] = [];
  for (const [file, deps] of importGraph(projectRoot())) {
    for (const rule of RULES) {
      if (!file.startsWith(rule.from) || (rule.except && file.startsWith(rule.except))) continue;
      for (const d of deps) if (rule.forbidden(d)) broken.push(`${file} → ${d}: ${rule.why}`);
    }
  }
  t.same(broken, []);
});

t.test('the checker itself sees arrows, cycles and packages', async (t) => {
  const g = importGraph(projectRoot());
  t.ok((g.get('server/engine/engine.ts') ?? []).includes('server/engine/types.ts'), 'a relative import');
  t.ok((g.get('server/ingest/decoder.ts') ?? []).includes('server/ingest/decodeWorker.ts'), 'a worker started by URL');
  t.ok((g.get('node/media/vp8Codec.ts') ?? []).includes('pkg:@libav.js/variant-webm'), 'a scoped package');
  t.same(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])).map((c) => c.sort()), [['a', 'b', 'c']]);
});
