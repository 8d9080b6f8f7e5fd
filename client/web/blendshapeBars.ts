/**
 * Bars of the strongest blendshape weights of the latest result, by their ARKit names (what avatar rigs use),
 * facekit's where a shape has no ARKit twin. Rebuilt in place: a fixed number of rows, no layout churn.
 */
import type { NamedBlendshapes } from '../sdk/namedBlendshapes.js';

export class BlendshapeBars {
  private readonly rows: { name: HTMLSpanElement; bar: HTMLDivElement; value: HTMLSpanElement }[] = [];

  constructor(private readonly root: HTMLElement, count = 8) {
    for (let i = 0; i < count; i++) {
      const row = document.createElement('div');
      row.className = 'bs-row';
      const name = document.createElement('span'), track = document.createElement('div'), bar = document.createElement('div'), value = document.createElement('span');
      track.className = 'bs-track';
      bar.className = 'bs-bar';
      track.append(bar);
      row.append(name, track, value);
      root.append(row);
      this.rows.push({ name, bar, value });
    }
  }

  /** Returns the names shown, strongest first. */
  show(named: NamedBlendshapes | null): string[] {
    const entries = named ? Object.entries(named.arkit ?? named.facekit).sort((a, b) => b[1] - a[1]) : [];
    this.rows.forEach((row, i) => {
      const [name, w] = entries[i] ?? ['', 0];
      row.name.textContent = name;
      row.bar.style.width = `${Math.round(Math.max(0, Math.min(1, w)) * 100)}%`;
      row.value.textContent = name ? w.toFixed(2) : '';
    });
    this.root.hidden = !named;
    return entries.slice(0, this.rows.length).map(([name]) => name);
  }
}
