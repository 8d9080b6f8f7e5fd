/**
 * Derives the runtime facekit (this folder: what the server and `reconstruct` read of facekit) from the full
 * facekit (facekit-2: FACEKIT_DIR, else ../shared/facekit), and copies facekit's LICENSE beside it. The same full
 * facekit gives the same bytes; models/facekit-runtime/derive.test.ts re-derives and compares.
 *
 *   npm run build && node build/models/facekit-runtime/derive.js [--facekit DIR] [--out models/facekit-runtime]
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseFlags } from '../../server/cli/args.js';
import { engineVertices } from '../../server/engine/faceTemplate.js';
import { TRACKED_MESH_PARTS } from '../../server/engine/trackedMesh.js';
import { facekitDir, loadFacekit, RUNTIME_FACEKIT_BIN, RUNTIME_FACEKIT_JSON, runtimeFacekitDir } from '../../node/facekit/loadFacekit.js';
import { encodeRuntimeFacekit, type RuntimeFacekitManifest } from '../../shared/facekit/runtimeFacekit.js';

const DERIVE_COMMAND = 'node build/models/facekit-runtime/derive.js';

/** Wraps a paragraph at 118 columns; `indent` starts every line after the first (a list item's). */
function wrap(text: string, indent = ''): string {
  const lines: string[] = [];
  let line = '';
  // a span in backticks stays on one line
  for (const word of text.match(/(?:`[^`]*`|\S)+/g) ?? []) {
    if (line && line.length + 1 + word.length > 118) (lines.push(line), (line = indent + word));
    else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

function readme(m: RuntimeFacekitManifest & { sha256: string }, binBytes: number): string {
  const whole = m.parts.filter((p) => p.polygons);
  const wholeVertices = whole.reduce((n, p) => n + p.vertices[1] - p.vertices[0] + 1, 0);
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    '# facekit-runtime: what the server and `reconstruct` read of facekit',
    wrap(`Derived data, written with this file by \`${DERIVE_COMMAND}\` (after \`npm run build\`) from the full facekit
      (facekit-2: \`FACEKIT_DIR\`, else \`../shared/facekit\`); do not edit by hand. The generator (\`facelive synth\`),
      training and the benches read the full facekit; \`facelive serve\` and \`facelive reconstruct\` need only this folder.`),
    [
      wrap(`- Source: ${m.source}; derived from the facekit-2 \`facekit.bin\` with sha256 \`${m.derived_from.sha256}\`.`, '  '),
      wrap(`- Licence: MIT, Copyright (c) 2020 USC Institute for Creative Technologies. \`LICENSE\` here is ICT-FaceKit's,
        copied verbatim; it travels with these files and with any copy of them.`, '  '),
      wrap(`- \`${RUNTIME_FACEKIT_BIN}\`: ${n(binBytes)} bytes, sha256 \`${m.sha256}\`; \`${RUNTIME_FACEKIT_JSON}\` lists its arrays.`, '  '),
    ].join('\n'),
    wrap(`What it keeps: ${n(m.vertices)} of facekit's ${n(m.derived_from.vertices)} vertices, in facekit's order
      (\`source_vertices\` gives each one's facekit index): the tracked mesh's parts whole (${whole.map((p) => p.name).join(', ')}:
      ${n(wholeVertices)} vertices with facekit's own numbering, their ${n(m.polygons)} polygons and ${n(m.uvs)} uvs), and of the
      other rendered parts the vertices of the blendshape fit (every 20th facekit vertex); facekit's 68 landmarks; the
      neutral mesh, all ${m.identity_names.length} identity modes and all ${m.expression_names.length} expression shapes (only the
      vertices each moves) exactly as facekit-2 has them: its int16 steps of ${m.delta_step_cm} cm stored as int8 where they
      fit, with an escape to int16 for the few that do not, so the server and \`reconstruct\` compute the same numbers
      from either. Which vertices the engine reads is
      \`engineVertices\` in server/engine/faceTemplate.ts; the format is shared/facekit/runtimeFacekit.ts.`),
  ].join('\n\n') + '\n';
}

function main(argv: string[]): void {
  const v = parseFlags('derive', argv, { facekit: { type: 'string' }, out: { type: 'string' } });
  const from = typeof v.facekit === 'string' ? resolve(v.facekit) : facekitDir();
  const out = typeof v.out === 'string' ? resolve(v.out) : runtimeFacekitDir();
  const full = loadFacekit(from);
  const fullManifest = JSON.parse(readFileSync(join(from, 'facekit.json'), 'utf8')) as { source: string; sha256: string };
  if (!TRACKED_MESH_PARTS.every((name, i) => full.parts[i]?.name === name)) {
    // the tracked mesh's vertex indices are facekit's only while its parts come first
    throw new Error(`derive: facekit's first parts are not ${TRACKED_MESH_PARTS.join(', ')}`);
  }
  const { manifest, bin } = encodeRuntimeFacekit(full, engineVertices(full), { source: fullManifest.source, facekitSha256: fullManifest.sha256, derivation: DERIVE_COMMAND });
  const withHash = { ...manifest, sha256: createHash('sha256').update(bin).digest('hex') };
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, RUNTIME_FACEKIT_BIN), bin);
  writeFileSync(join(out, RUNTIME_FACEKIT_JSON), JSON.stringify(withHash, null, 1) + '\n');
  // verbatim, as a new file (a copy would keep the source's permissions, and a read-only one blocks the next run)
  writeFileSync(join(out, 'LICENSE'), readFileSync(join(from, 'LICENSE')));
  writeFileSync(join(out, 'README.md'), readme(withHash, bin.byteLength));
  console.log(`${manifest.vertices} of ${full.vertexCount} vertices, ${bin.byteLength} bytes; wrote ${out}`);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
}
