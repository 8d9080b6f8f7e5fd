/** `npm run bench -- <name> [flags]`: benchmarks are run by hand, never by CI. */
import { benchDetector } from './detector.js';
import { benchEngine } from './engine.js';
import { benchExpressions } from './expressions.js';
import { benchFuzz } from './fuzz.js';
import { benchLive } from './live.js';
import { benchModel } from './model.js';
import { benchModelBatch } from './modelBatch.js';
import { benchReal } from './realImages.js';
import { benchSynth } from './synth.js';
import { benchWire } from './wire.js';

const BENCHES: Record<string, (argv: string[]) => Promise<void>> = { synth: benchSynth, model: benchModel, 'model-batch': benchModelBatch, real: benchReal, detector: benchDetector, engine: benchEngine, expressions: benchExpressions, live: benchLive, wire: benchWire, fuzz: benchFuzz };

const [name, ...rest] = process.argv.slice(2);
const bench = name ? BENCHES[name] : undefined;
if (!bench) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [flags]`);
  process.exit(2);
}
// exit when done: native peers (node-datachannel) would otherwise keep the process up for a while
bench(rest).then(() => process.exit(0), (e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
