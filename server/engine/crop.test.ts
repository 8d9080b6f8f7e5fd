import t from 'tap';
import { CropPlacement } from '../../shared/cropPlacement.js';
import { cropToModelInput, type FramePixels } from './crop.js';

function gradientFrame(W: number, H: number): FramePixels {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set([x % 256, y % 256, (x + y) % 256], (y * W + x) * 3);
  return { format: 'rgb', width: W, height: H, data };
}

t.test('cropToModelInput() of a box covering the frame at its own size returns the frame', async (t) => {
  const f = gradientFrame(32, 32);
  const p = new CropPlacement({ centerX: 15.5, centerY: 15.5, side: 32 }, 32);
  const out = cropToModelInput(f, p);
  let worst = 0;
  for (let i = 0; i < 32 * 32; i++) for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(out[k * 1024 + i] * 255 - f.data[i * 3 + k]));
  t.ok(worst < 1e-3, `worst ${worst}`);
});

t.test('CropPlacement maps crop pixels to frame pixels and back, and scales the focal length', async (t) => {
  const p = new CropPlacement({ centerX: 320, centerY: 200, side: 256 }, 128);
  t.equal(p.scale, 2);
  t.equal(p.frameX(63.5, 63.5), 320, 'crop centre is the box centre');
  t.equal(p.frameY(63.5, 0), 200 - 63.5 * 2);
  t.equal(p.cropX(p.frameX(17.25, 40), p.frameY(17.25, 40)), 17.25);
  t.equal(p.focalPx(600), 300);
  // turned a quarter clockwise: the crop's x axis runs down the frame, its y axis to the frame's left
  const q = new CropPlacement({ centerX: 320, centerY: 200, side: 256, angle: Math.PI / 2 }, 128);
  t.ok(Math.abs(q.frameX(73.5, 63.5) - 320) < 1e-9 && Math.abs(q.frameY(73.5, 63.5) - 220) < 1e-9, 'crop x + 10 is frame y + 20');
  t.ok(Math.abs(q.frameX(63.5, 73.5) - 300) < 1e-9 && Math.abs(q.frameY(63.5, 73.5) - 200) < 1e-9, 'crop y + 10 is frame x - 20');
  const [x, y] = [q.frameX(5, 100), q.frameY(5, 100)];
  t.ok(Math.abs(q.cropX(x, y) - 5) < 1e-9 && Math.abs(q.cropY(x, y) - 100) < 1e-9, 'and back');
  // a gradient along x sampled by a 2x crop: neighbouring crop pixels differ by 2 frame pixels
  const out = cropToModelInput(gradientFrame(640, 400), p);
  t.ok(Math.abs((out[1] - out[0]) * 255 - 2) < 1e-3);
});

t.test('cropToModelInput() of an I420 grey frame gives grey RGB', async (t) => {
  const W = 16, H = 16;
  const data = new Uint8Array(W * H * 3 / 2).fill(128);
  data.fill(126, 0, W * H); // luma 126 (limited range) is about RGB 128
  const out = cropToModelInput({ format: 'i420', width: W, height: H, data }, new CropPlacement({ centerX: 7.5, centerY: 7.5, side: 8 }, 8));
  t.ok(out.every((v) => Math.abs(v * 255 - 128) < 1), 'grey');
});

t.test('cropToModelInput() of a frame with the wrong byte count throws InputError', async (t) => {
  t.throws(() => cropToModelInput({ format: 'rgb', width: 4, height: 4, data: new Uint8Array(47) }, new CropPlacement({ centerX: 1, centerY: 1, side: 2 }, 2)), { name: 'InputError' });
  t.throws(() => new CropPlacement({ centerX: 1, centerY: 1, side: 0 }, 2), { name: 'InputError' });
});
