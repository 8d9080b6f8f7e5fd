/**
 * What a client may ask of its session: one definition, its defaults and its limits, for the signaling offer,
 * the data-channel options message, the CLI and the page. Browser-safe.
 */
import { DEFAULT_FOV_DEG } from './camera.js';
import { ProtocolError } from './errors.js';

export interface SessionOptionsWire {
  /** send maps with every n-th result (0: never; default 1) */
  readonly mapsEvery: number;
  /** send the tracked mesh with every n-th result (0: never; default 0) */
  readonly meshEvery: number;
  /** maps at 1/n of the crop resolution per side, 1..4 (default 2: 64² of a 128² model, 0.9 Mbit/s at 30 frames/s
   * instead of 1.6 for full resolution; bench/live.ts measures both) */
  readonly mapsStride: number;
  /** the camera's horizontal field of view, degrees, 20..120 (default 60, a typical webcam): sets the focal length
   * that makes depth metric */
  readonly fovDeg: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptionsWire = Object.freeze({ mapsEvery: 1, meshEvery: 0, mapsStride: 2, fovDeg: DEFAULT_FOV_DEG });

/** A recording (`facelive client --out`) keeps what the model gave: maps at full resolution unless asked otherwise. */
export const RECORDING_MAPS_STRIDE = 1;
/** The page sends the mesh with every 10th result while its mesh view is on (it poses it in between from the pose). */
export const PAGE_MESH_EVERY = 10;

/** Each option's range; all but fovDeg are integers. */
export const SESSION_OPTION_LIMITS: Readonly<Record<keyof SessionOptionsWire, readonly [number, number]>> = Object.freeze({
  mapsEvery: [0, 1000], meshEvery: [0, 1000], mapsStride: [1, 4], fovDeg: [20, 120],
});

/**
 * The options in `o`, checked; a missing one takes its default where `defaults` is set (the offer), or is an error
 * (the options message, which always carries all four). Errors name the field under `path`.
 */
export function parseSessionOptions(o: Record<string, unknown>, path: string, defaults: boolean): SessionOptionsWire {
  const field = (k: keyof SessionOptionsWire): number => {
    const v = o[k] ?? (defaults ? DEFAULT_SESSION_OPTIONS[k] : undefined);
    const [min, max] = SESSION_OPTION_LIMITS[k];
    const ok = typeof v === 'number' && (k === 'fovDeg' ? Number.isFinite(v) : Number.isInteger(v)) && v >= min && v <= max;
    if (!ok) throw new ProtocolError(`${path}.${k}: expected ${k === 'fovDeg' ? 'a number' : 'an integer'} ${min}..${max}, got ${typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : String(v)}`);
    return v as number;
  };
  return { mapsEvery: field('mapsEvery'), meshEvery: field('meshEvery'), mapsStride: field('mapsStride'), fovDeg: field('fovDeg') };
}
