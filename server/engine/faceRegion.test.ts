import t from 'tap';
import { CropPlacement } from '../../shared/cropPlacement.js';
import { PartId } from '../../shared/parts.js';
import { boxFromMask, FACE_REGION_DEFAULTS, faceCertainty, followBox, smoothBox, wholeFrameBox } from './faceRegion.js';

const S = 64;

/** A crop mask with face skin over [x0, x1) x [y0, y1), hair above it. */
function mask(x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const m = new Uint8Array(S * S);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    if (x >= x0 && x < x1 && y >= y0 && y < y1) m[y * S + x] = PartId.FACE_SKIN;
    else if (x >= x0 && x < x1 && y < y0) m[y * S + x] = PartId.HAIR;
  }
  return m;
}

t.test('faceCertainty() averages the logit margin over face pixels only', async (t) => {
  const m = mask(10, 10, 20, 20);
  const margin = new Float32Array(S * S).fill(5);
  for (let i = 0; i < m.length; i++) if (m[i] === PartId.FACE_SKIN) margin[i] = 1.5;
  t.equal(faceCertainty(m, margin), 1.5, 'hair and background do not count');
  t.equal(faceCertainty(new Uint8Array(S * S), margin), 0, 'no face pixels: 0');
});

t.test('boxFromMask() frames the face pixels as training did, in frame pixels; too few pixels: no face', async (t) => {
  const placement = new CropPlacement({ centerX: 320, centerY: 240, side: 128 }, S); // 2 frame pixels per crop pixel
  const box = boxFromMask(mask(16, 20, 48, 52), placement)!;
  t.ok(Math.abs(box.centerX - placement.frameX(31.5, 35.5)) < 1e-9 && Math.abs(box.centerY - placement.frameY(31.5, 35.5)) < 1e-9, 'centred on the face pixels (not the hair)');
  t.ok(Math.abs(box.side - (32 * 2) / FACE_REGION_DEFAULTS.fill) < 1e-9, `side: the face's height over the fill (${box.side.toFixed(1)} px)`);
  t.equal(boxFromMask(mask(0, 0, 5, 5), placement), null, '25 face pixels are not a face');
  const turned = boxFromMask(mask(16, 20, 48, 52), new CropPlacement({ centerX: 320, centerY: 240, side: 128, angle: 0.3 }, S))!;
  t.equal(turned.angle, 0.3, 'a turned crop keeps its turn');
  t.equal(boxFromMask(mask(30, 30, 38, 38), placement, { ...FACE_REGION_DEFAULTS, minFacePixels: 10 })!.side, FACE_REGION_DEFAULTS.minSidePx, 'never below the smallest side');
});

t.test('smoothBox() moves part of the way; followBox() holds still through detector noise and follows a real move at once', async (t) => {
  const prev = { centerX: 100, centerY: 100, side: 200 };
  t.same(smoothBox(null, prev), prev, 'no previous box: the new one');
  t.same(smoothBox(prev, { centerX: 110, centerY: 100, side: 200 }, { ...FACE_REGION_DEFAULTS, smoothing: 0.5 }), { centerX: 105, centerY: 100, side: 200 });
  const jitter = followBox(prev, { centerX: 101, centerY: 100, side: 200 });
  t.ok(Math.abs(jitter.centerX - 100.25) < 1e-9, `a 0.5 % move is mostly averaged away (${jitter.centerX})`);
  t.same(followBox(prev, { centerX: 120, centerY: 100, side: 200 }), { centerX: 120, centerY: 100, side: 200 }, 'a 10 % move is taken at once: no lag');
  const spun = followBox({ ...prev, angle: 3.1 }, { ...prev, angle: -3.1 });
  t.ok(Math.abs(Math.abs(spun.angle!) - Math.PI) < 0.1, `across ±π the box turns the short way (${spun.angle!.toFixed(3)})`);
});

t.test('wholeFrameBox() letterboxes the frame', async (t) => {
  t.same(wholeFrameBox(640, 480), { centerX: 319.5, centerY: 239.5, side: 640 });
});
