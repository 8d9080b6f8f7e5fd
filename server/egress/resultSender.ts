/**
 * A session's results on their way out: the maps every `mapsEvery`-th result and the tracked mesh every
 * `meshEvery`-th (the client's options), encoded (resultEncoder.ts) and sent on the "results" and "maps" sinks.
 * Maps that the channel has no room for are not even coded (coding is ~2 ms per 128² frame).
 */
import type { SessionOptionsWire } from '../../shared/sessionOptions.js';
import { encodeMessage } from '../../shared/wire/schema.js';
import type { FaceResult } from '../engine/types.js';
import type { SessionMesh } from '../engine/trackedMesh.js';
import type { ChannelSink } from './channelSink.js';
import { encodeResult } from './resultEncoder.js';

export interface ResultSenderStats {
  results: number;
  withMaps: number;
  withMesh: number;
  /** maps due but not coded: the maps channel had no room */
  mapsSkipped: number;
}

export class ResultSender {
  private sinceMaps = 0;
  private sinceMesh = 0;
  private readonly counters: ResultSenderStats = { results: 0, withMaps: 0, withMesh: 0, mapsSkipped: 0 };

  constructor(private readonly results: ChannelSink, private readonly maps: ChannelSink, private readonly mesh: SessionMesh) {}

  send(r: FaceResult, frame: { width: number; height: number }, options: SessionOptionsWire, liveTimings: Readonly<Record<string, number>>): void {
    let withMaps = options.mapsEvery > 0 && ++this.sinceMaps >= options.mapsEvery;
    const withMesh = options.meshEvery > 0 && ++this.sinceMesh >= options.meshEvery;
    if (withMaps) this.sinceMaps = 0;
    if (withMesh) this.sinceMesh = 0;
    if (withMaps && !this.maps.hasRoom()) {
      this.counters.mapsSkipped++;
      this.maps.countDropped();
      withMaps = false;
    }
    const encoded = encodeResult(r, { frameWidth: frame.width, frameHeight: frame.height, withMaps, withMesh, mesh: this.mesh, mapsStride: options.mapsStride, extraTimings: liveTimings });
    this.counters.results++;
    if (encoded.result.face && encoded.result.mesh) this.counters.withMesh++;
    this.results.send(encodeMessage(encoded.result));
    if (encoded.maps) {
      this.counters.withMaps++;
      this.maps.send(encodeMessage(encoded.maps));
    }
  }

  stats(): Readonly<ResultSenderStats> {
    return { ...this.counters };
  }
}
