/**
 * `facelive client --out`: what came back from the server, saved in `facelive reconstruct`'s formats (map stacks,
 * tracks, landmarks, pose and blendshapes; node/io/frameTables.ts), one row per result in the
 * order they arrived, numbered by the source frame they belong to. Maps travel on a lossy channel: a result whose
 * maps were lost keeps zero maps and says so in crops.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeOutputFolder } from '../../node/io/outputFolder.js';
import type { PlainMaps } from '../../shared/wire/mapCodec.js';
import type { HelloMessage, ResultMessage } from '../../shared/wire/schema.js';
import { writeMapStacks, writePoseJson, writeTracksAndLandmarks } from '../../node/io/frameTables.js';
import type { DecodedMapsEvent } from '../sdk/resultStream.js';

const VISIBILITY = ['occluded', 'lowConfidence', 'visible'];

interface Row {
  readonly frame: number;
  readonly result: ResultMessage;
  readonly latencyMs: number | null;
  maps: PlainMaps | null;
}

export class ResultRecorder {
  private readonly rows: Row[] = [];
  private readonly byFrameId = new Map<number, Row>();
  private hello: HelloMessage | null = null;
  /** maps whose result has not come yet */
  private readonly early = new Map<number, PlainMaps>();

  /** `frameOf`: the source frame index of a result's frameId (its RTP timestamp) */
  constructor(private readonly out: string, private readonly frameOf: (frameId: number) => number) {
    makeOutputFolder(out);
  }

  onHello(h: HelloMessage): void {
    this.hello = h;
  }

  onResult(r: ResultMessage, latencyMs: number | null): void {
    const row: Row = { frame: this.frameOf(r.frameId), result: r, latencyMs, maps: null };
    this.rows.push(row);
    this.byFrameId.set(r.frameId, row);
  }

  /** maps may arrive just before or after their result (two channels) */
  onMaps(m: DecodedMapsEvent): void {
    const row = this.byFrameId.get(m.frameId);
    if (row) row.maps = m.maps;
    else this.early.set(m.frameId, m.maps);
  }

  /** Writes every file; returns how many results and how many of them have maps. */
  write(summary: Record<string, unknown>): { results: number; withMaps: number } {
    for (const row of this.rows) row.maps ??= this.early.get(row.result.frameId) ?? null;
    const rows = this.rows, out = this.out;
    const faces = (r: ResultMessage): r is Extract<ResultMessage, { face: true }> => r.face;
    const mapSize = rows.find((r) => r.maps)?.maps?.size ?? 0;
    writeFileSync(join(out, 'crops.json'), JSON.stringify({
      conventions: 'maps are on the crop grid: crop pixel (x, y) lies at frame pixel box.center + R(box.angle) * (x - (S-1)/2, y - (S-1)/2) * box.side / S, S = crop_size, R the rotation by box.angle radians (absent: 0), frame y down; a map of size s < S is every (S/s)-th crop pixel',
      model: this.hello?.model ?? null,
      map_size: mapSize,
      frames: rows.map((r) => (faces(r.result)
        ? { frame: r.frame, face: true, box: r.result.box, intrinsics: Array.from(r.result.intrinsics), maps: r.maps !== null && r.maps.size === mapSize, capture_time_ms: r.result.captureTimeMs, latency_ms: r.latencyMs, server_ms: r.result.timings }
        : { frame: r.frame, face: false, reason: r.result.reason, latency_ms: r.latencyMs })),
    }, null, 1));
    if (mapSize > 0) writeMapStacks(out, rows.map((r) => (r.maps?.size === mapSize ? r.maps : null)), mapSize, { depth: true, canonical: true });
    writeTracksAndLandmarks(
      out,
      rows.map((r) => ({
        frame: r.frame,
        points: faces(r.result) ? Array.from(r.result.pointIds, (id, i) => {
          const p = (r.result as Extract<ResultMessage, { face: true }>).points;
          return { id, x: p[i * 3], y: p[i * 3 + 1], visibility: VISIBILITY[p[i * 3 + 2]] ?? 'occluded' };
        }) : [],
      })),
      rows.map((r) => ({ frame: r.frame, landmarks: faces(r.result) ? r.result.landmarks : null })),
    );
    writePoseJson(out, this.hello?.expressionNames ?? [], rows.map((r) => ({ frame: r.frame, blendshapes: faces(r.result) ? r.result.blendshapes : null, pose: faces(r.result) ? r.result.pose : null })));
    writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 1));
    return { results: rows.length, withMaps: rows.filter((r) => r.maps && r.maps.size === mapSize).length };
  }
}
