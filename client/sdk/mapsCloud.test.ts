import t from 'tap';
import { CropPlacement } from '../../shared/cropPlacement.js';
import { subsampleMaps } from '../../server/egress/resultEncoder.js';
import { PartId } from '../../shared/parts.js';
import { mapPixelToFrame, mapsToCloud } from './mapsCloud.js';

t.test('mapPixelToFrame places full and subsampled maps where the server cropped them', async (t) => {
  const box = { centerX: 310.5, centerY: 205.25, side: 240 }, S = 128;
  const placement = new CropPlacement(box, S);
  for (const [i, j] of [[0, 0], [17, 99], [127, 127]]) {
    const [u, v] = mapPixelToFrame(box, S, S, i, j);
    t.ok(Math.abs(u - placement.frameX(i, j)) < 1e-9 && Math.abs(v - placement.frameY(i, j)) < 1e-9, `crop pixel ${i},${j}`);
  }
  // a crop turned upright around a rolled face: its top-left corner is no longer the box's top-left
  const turned = { ...box, angle: 0.5 };
  const [u0, v0] = mapPixelToFrame(turned, S, S, 0, 0), r = (S - 1) / 2 * (240 / S);
  t.ok(Math.abs(u0 - (310.5 - r * Math.cos(0.5) + r * Math.sin(0.5))) < 1e-9 && Math.abs(v0 - (205.25 - r * Math.sin(0.5) - r * Math.cos(0.5))) < 1e-9, 'turned box: the corner turns with it');
  // each subsampled map pixel carries the index of the crop pixel the server took it from (depth = index)
  const n = S * S;
  const full = { size: S, depth: Float32Array.from({ length: n }, (_, k) => k), canonical: new Float32Array(3 * n), confidence: new Float32Array(n), mask: new Uint8Array(n) };
  for (const stride of [2, 3, 4, 5]) {
    const sub = subsampleMaps(full, stride);
    let worst = 0;
    for (const [i, j] of [[0, 0], [21, 13], [sub.size - 1, sub.size - 1]]) {
      const k = sub.depth[j * sub.size + i];
      const [u, v] = mapPixelToFrame(box, S, sub.size, i, j);
      worst = Math.max(worst, Math.abs(u - placement.frameX(k % S, Math.floor(k / S))), Math.abs(v - placement.frameY(k % S, Math.floor(k / S))));
    }
    t.ok(worst < 1e-9, `stride ${stride} (${sub.size} pixels a side): the frame pixel of the crop pixel the server took (off by ${worst})`);
  }
  t.throws(() => mapPixelToFrame(box, S, 100, 0, 0), /a map of 100 pixels a side is no subsampling of a 128-pixel crop/, 'a map size no stride gives is refused');
});

t.test('mapsToCloud back-projects face pixels through the intrinsics and colours them by canonical coordinate', async (t) => {
  const S = 4, n = S * S;
  const mask = new Uint8Array(n).fill(PartId.BACKGROUND);
  mask[5] = PartId.FACE_SKIN;
  mask[6] = PartId.FACE_SKIN;
  const depth = new Float32Array(n).fill(0.6);
  const canonical = new Float32Array(3 * n);
  canonical[5] = 0; canonical[n + 5] = -0.025; canonical[2 * n + 5] = 0.02; // the normalization centre: mid grey
  const box = { centerX: 100, centerY: 50, side: 40 };
  const c = mapsToCloud({ size: S, depth, canonical, confidence: new Float32Array(n), mask }, box, S, [500, 500, 80, 60]);
  t.equal(c.count, 2, 'only face pixels');
  const [u, v] = mapPixelToFrame(box, S, S, 1, 1);
  t.ok(Math.abs(c.positions[0] - ((u - 80) / 500) * 0.6) < 1e-6 && Math.abs(c.positions[1] - ((v - 60) / 500) * 0.6) < 1e-6 && Math.abs(c.positions[2] - 0.6) < 1e-6, 'pinhole back-projection');
  t.ok(Array.from(c.colors.subarray(0, 3)).every((x) => Math.abs(x - 127.5) <= 1), 'canonical centre is mid grey');
});
