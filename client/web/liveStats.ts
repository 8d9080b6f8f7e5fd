/** The panel's numbers: rates over the last second or two, latency percentiles over the last 120 drawn results. */
import type { ResultEvent } from '../sdk/faceClient.js';
import type { StatsMessage } from '../../shared/wire/schema.js';

const WINDOW_MS = 2000;

export class LiveStats {
  private camera: number[] = [];
  private results: { t: number; bytes: number }[] = [];
  private latencies: number[] = [];
  private model: number[] = [];
  private server: StatsMessage | null = null;
  private serverPrev: { t: number; framesIn: number } | null = null;
  private serverFps = 0;

  cameraFrame(): void {
    this.camera.push(performance.now());
  }

  result(e: ResultEvent, bytesIn: number): void {
    this.results.push({ t: performance.now(), bytes: bytesIn });
    if (e.result.face && e.result.timings.model !== undefined) {
      this.model.push(e.result.timings.model);
      if (this.model.length > 60) this.model.shift();
    }
  }

  drawn(latencyMs: number): void {
    this.latencies.push(latencyMs);
    if (this.latencies.length > 120) this.latencies.shift();
  }

  serverStats(s: StatsMessage): void {
    const t = performance.now();
    if (this.serverPrev) this.serverFps = ((s.framesIn - this.serverPrev.framesIn) * 1000) / (t - this.serverPrev.t);
    this.serverPrev = { t, framesIn: s.framesIn };
    this.server = s;
  }

  panel(): Record<string, string> {
    const now = performance.now();
    this.camera = this.camera.filter((t) => now - t < WINDOW_MS);
    this.results = this.results.filter((r) => now - r.t < WINDOW_MS);
    const span = (xs: number[]) => (xs.length > 1 ? (xs[xs.length - 1] - xs[0]) / 1000 : 0);
    const rate = (xs: number[]) => (span(xs) > 0 ? ((xs.length - 1) / span(xs)).toFixed(1) : '–');
    const r = this.results;
    const down = r.length > 1 ? ((r[r.length - 1].bytes - r[0].bytes) * 8) / span(r.map((x) => x.t)) / 1000 : NaN;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const pct = (p: number) => (sorted.length ? `${Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))])}` : '–');
    const mean = (xs: number[]) => (xs.length ? (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1) : '–');
    return {
      'camera fps': rate(this.camera),
      'server in fps': this.server ? this.serverFps.toFixed(1) : '–',
      'results fps': rate(r.map((x) => x.t)),
      'latency p50 ms': pct(0.5),
      'latency p95 ms': pct(0.95),
      'down kbit/s': Number.isFinite(down) ? down.toFixed(0) : '–',
      'model ms': mean(this.model),
      'dropped frames': this.server ? String(this.server.framesDropped) : '–',
      'dropped maps': this.server ? String(this.server.mapsDropped) : '–',
    };
  }
}
