/**
 * Every data-channel message between the live server and its clients, encoded with msgpackr (typed arrays kept),
 * and one parser per direction that checks each field and says which one is wrong. Both sides import this file.
 *
 * Channels:   "results" (reliable, ordered)      server → client: hello, result, stats; client → server: options
 *             "maps"    (unordered, no retransmit) server → client: maps, coded (mapCodec.ts)
 * Server messages travel in chunks of ≤ 16 KiB on both channels (chunks.ts: the hello and a result with the mesh
 * exceed what some peers take in one message); client messages are small and go whole.
 * Coordinates: frame pixels of the video the client sent (centres at integers); camera frame x right, y down,
 * z forward, metres; canonical coordinates in metres (shared/canonical.ts).
 */
import { Packr } from 'msgpackr';
import { parseSessionOptions, type SessionOptionsWire } from '../sessionOptions.js';
import { ProtocolError } from '../errors.js';
import type { EncodedMaps } from './mapCodec.js';

export const WIRE_VERSION = 1;

const packr = new Packr({ useRecords: false, moreTypes: true });

export interface CropBoxWire {
  readonly centerX: number;
  readonly centerY: number;
  readonly side: number;
  /** radians from the frame's x axis to the crop's (shared/cropPlacement.ts); absent: 0, an upright crop */
  readonly angle?: number;
}

export interface HelloMessage {
  readonly t: 'hello';
  readonly v: number;
  readonly sessionId: string;
  readonly model: { readonly name: string; readonly cropSize: number; readonly window: number };
  readonly expressionNames: readonly string[];
  /** [F*3] triangles of the tracked mesh (indices into result.mesh's vertices), sent once */
  readonly meshTriangles: Uint16Array;
}

export interface PoseWire {
  /** [9] row-major camera-from-head rotation */
  readonly rotation: Float32Array;
  /** [3] metres */
  readonly translationM: Float32Array;
}

export type ResultMessage =
  | {
      readonly t: 'result';
      readonly frameId: number;
      readonly captureTimeMs: number | null;
      readonly face: true;
      readonly box: CropBoxWire;
      /** the decoded frame's size: every pixel position here is in it (a browser may send fewer pixels than its
       * camera gives when it adapts to load) */
      readonly frameWidth: number;
      readonly frameHeight: number;
      /** pinhole intrinsics the server assumed for the frame, pixels: [fx, fy, cx, cy] (back-projects the maps) */
      readonly intrinsics: Float32Array;
      /**
       * [68*3] frame x, y, visible: 1 where the canonical lookup saw the landmark, 0 where it is estimated (hidden
       * or not found: placed by the head model fitted to the frame). Always finite from this server; a decoder
       * still accepts NaN (an older server's "not found"). Positions travel in 1/16 px.
       */
      readonly landmarks: Float32Array;
      /** ids of the tracked points, and [n*3] frame x, y, visibility (0 occluded, 1 low confidence, 2 visible) */
      readonly pointIds: Uint32Array;
      readonly points: Float32Array;
      readonly pose: PoseWire | null;
      /** [57] */
      readonly blendshapes: Float32Array | null;
      /** tracked mesh vertices [N*3], camera frame, metres; only every `meshEvery`-th frame */
      readonly mesh: Float32Array | null;
      /** server time per stage, ms */
      readonly timings: Readonly<Record<string, number>>;
    }
  | { readonly t: 'result'; readonly frameId: number; readonly captureTimeMs: number | null; readonly face: false; readonly reason: string };

export interface StatsMessage {
  readonly t: 'stats';
  readonly framesIn: number;
  readonly framesProcessed: number;
  readonly framesDropped: number;
  readonly mapsDropped: number;
  /** every stage's counters, "stage.counter" (server/live/liveSession.ts LiveStageStats); empty from older servers */
  readonly counters: Readonly<Record<string, number>>;
}

export interface MapsMessage {
  readonly t: 'maps';
  readonly frameId: number;
  readonly box: CropBoxWire;
  readonly maps: EncodedMaps;
}

export type ServerMessage = HelloMessage | ResultMessage | StatsMessage | MapsMessage;

/** A session's options changed mid-session (shared/sessionOptions.ts: the same fields as the offer's, all four). */
export interface OptionsMessage extends SessionOptionsWire {
  readonly t: 'options';
}

export type ClientMessage = OptionsMessage;

export function encodeMessage(m: ServerMessage | ClientMessage): Uint8Array {
  if (m.t === 'result' && m.face) return packr.pack({ ...m, landmarks: packPositions(m.landmarks), points: packPositions(m.points) });
  return packr.pack(m);
}

/**
 * Landmarks and tracked points travel as int16 triples: x and y in 1/16 px (error ≤ 1/32 px, far below the model's
 * pixel-level error; ±2047 px covers the 1920x1080 frame limit) and the visibility flag as is, half the bytes of
 * float32. A missing position (NaN) is the one value int16 has beyond ±32767.
 */
const POSITION_SCALE = 16;
const NO_POSITION = -32768;

function packPositions(a: Float32Array): Int16Array {
  const out = new Int16Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (i % 3 === 2) out[i] = v;
    else out[i] = Number.isNaN(v) ? NO_POSITION : Math.max(-32767, Math.min(32767, Math.round(v * POSITION_SCALE)));
  }
  return out;
}

function unpackPositions(a: Int16Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = i % 3 === 2 ? a[i] : a[i] === NO_POSITION ? NaN : a[i] / POSITION_SCALE;
  return out;
}

function unpack(bytes: Uint8Array, side: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = packr.unpack(bytes);
  } catch (e) {
    throw new ProtocolError(`${side}: not a msgpack message (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) throw new ProtocolError(`${side}: expected a map, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

export function decodeServerMessage(bytes: Uint8Array): ServerMessage {
  const m = unpack(bytes, 'server message');
  // the path names the type only when it is a known one: String() of a peer's value can itself throw ({toString: 1})
  const f = new Fields(m, typeof m.t === 'string' ? m.t.slice(0, 40) : 'message');
  switch (m.t) {
    case 'hello':
      return {
        t: 'hello', v: f.int('v', 0, 1e6), sessionId: f.str('sessionId'),
        model: (() => { const g = f.sub('model'); return { name: g.str('name'), cropSize: g.int('cropSize', 1, 4096), window: g.int('window', 1, 1024) }; })(),
        expressionNames: f.strings('expressionNames'), meshTriangles: f.typed('meshTriangles', Uint16Array),
      };
    case 'result': {
      const base = { t: 'result' as const, frameId: f.int('frameId', 0, 2 ** 53), captureTimeMs: f.numOrNull('captureTimeMs') };
      if (f.bool('face') === false) return { ...base, face: false, reason: f.str('reason') };
      const points = unpackPositions(f.typed('points', Int16Array));
      const pointIds = f.typed('pointIds', Uint32Array);
      if (points.length !== pointIds.length * 3) throw new ProtocolError(`result.points: expected ${pointIds.length * 3} values for ${pointIds.length} ids, got ${points.length}`);
      return {
        ...base, face: true, box: f.box('box'), frameWidth: f.int('frameWidth', 1, 8192), frameHeight: f.int('frameHeight', 1, 8192), intrinsics: f.typed('intrinsics', Float32Array, 4),
        landmarks: unpackPositions(f.typed('landmarks', Int16Array, 68 * 3)), pointIds, points,
        pose: m.pose === null ? null : (() => { const g = f.sub('pose'); return { rotation: g.typed('rotation', Float32Array, 9), translationM: g.typed('translationM', Float32Array, 3) }; })(),
        blendshapes: m.blendshapes === null ? null : f.typed('blendshapes', Float32Array),
        mesh: m.mesh === null ? null : f.typed('mesh', Float32Array),
        timings: f.numbers('timings'),
      };
    }
    case 'stats':
      return { t: 'stats', framesIn: f.int('framesIn', 0, 2 ** 53), framesProcessed: f.int('framesProcessed', 0, 2 ** 53), framesDropped: f.int('framesDropped', 0, 2 ** 53), mapsDropped: f.int('mapsDropped', 0, 2 ** 53), counters: m.counters === undefined ? {} : f.numbers('counters') };
    case 'maps': {
      const g = f.sub('maps');
      return {
        t: 'maps', frameId: f.int('frameId', 0, 2 ** 53), box: f.box('box'),
        maps: { size: g.int('size', 1, 1024), depth: g.typed('depth', Uint8Array), canonical: g.typed('canonical', Uint8Array), confidence: g.typed('confidence', Uint8Array), mask: g.typed('mask', Uint8Array) },
      };
    }
    default:
      throw new ProtocolError(`server message.t: expected hello, result, stats or maps, got ${describe(m.t)}`);
  }
}

export function decodeClientMessage(bytes: Uint8Array): ClientMessage {
  const m = unpack(bytes, 'client message');
  if (m.t === 'options') return { t: 'options', ...parseSessionOptions(m, 'options', false) };
  throw new ProtocolError(`client message.t: expected options, got ${describe(m.t)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  return typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

type TypedCtor<T> = { new (n: number): T; readonly name: string };

/** Field readers that name the path of what is wrong. */
class Fields {
  constructor(private readonly m: Record<string, unknown>, private readonly path: string) {}

  private fail(k: string, expected: string): never {
    throw new ProtocolError(`${this.path}.${k}: expected ${expected}, got ${describe(this.m[k])}`);
  }

  str(k: string): string {
    const v = this.m[k];
    return typeof v === 'string' && v.length <= 256 ? v : this.fail(k, 'a string (≤ 256 characters)');
  }

  bool(k: string): boolean {
    const v = this.m[k];
    return typeof v === 'boolean' ? v : this.fail(k, 'a boolean');
  }

  int(k: string, min: number, max: number): number {
    const v = this.m[k];
    return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : this.fail(k, `an integer ${min}..${max}`);
  }

  num(k: string, min: number, max: number): number {
    const v = this.m[k];
    return typeof v === 'number' && v >= min && v <= max ? v : this.fail(k, `a number ${min}..${max}`);
  }

  numOrNull(k: string): number | null {
    const v = this.m[k];
    return v === null || v === undefined ? null : typeof v === 'number' && Number.isFinite(v) ? v : this.fail(k, 'a number or null');
  }

  strings(k: string): string[] {
    const v = this.m[k];
    return Array.isArray(v) && v.length <= 1024 && v.every((s) => typeof s === 'string') ? (v as string[]) : this.fail(k, 'an array of strings');
  }

  numbers(k: string): Record<string, number> {
    const v = this.m[k];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.fail(k, 'a map of numbers');
    const out: Record<string, number> = {};
    for (const [key, x] of Object.entries(v)) {
      if (typeof x !== 'number') return this.fail(k, 'a map of numbers');
      out[key] = x;
    }
    return out;
  }

  sub(k: string): Fields {
    const v = this.m[k];
    if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return this.fail(k, 'a map');
    return new Fields(v as Record<string, unknown>, `${this.path}.${k}`);
  }

  box(k: string): CropBoxWire {
    const g = this.sub(k);
    const num = (n: string) => {
      const v = g.m[n];
      return typeof v === 'number' && Number.isFinite(v) ? v : g.fail(n, 'a finite number');
    };
    const side = num('side');
    if (!(side > 0)) g.fail('side', 'a positive number');
    if (g.m.angle === undefined) return { centerX: num('centerX'), centerY: num('centerY'), side };
    const angle = num('angle');
    if (!(Math.abs(angle) <= 2 * Math.PI)) g.fail('angle', 'radians within ±2π');
    return { centerX: num('centerX'), centerY: num('centerY'), side, angle };
  }

  typed<T extends ArrayBufferView>(k: string, ctor: TypedCtor<T>, length?: number): T {
    const v = this.m[k];
    if (!(v instanceof (ctor as unknown as typeof Uint8Array))) return this.fail(k, ctor.name);
    if (length !== undefined && (v as unknown as Uint8Array).length !== length) return this.fail(k, `${ctor.name} of ${length}`);
    return v as unknown as T;
  }
}
