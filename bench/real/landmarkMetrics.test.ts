import t from 'tap';
import { centroid, frameMotion, interOcular, lagFrames, nme68 } from './landmarkMetrics.js';

/** 68 points on a circle, eye corners 36 and 45 100 px apart. */
function face(dx = 0, dy = 0, stride = 2): Float32Array {
  const p = new Float32Array(68 * stride);
  for (let l = 0; l < 68; l++) {
    p[l * stride] = 200 + 60 * Math.cos(l) + dx;
    p[l * stride + 1] = 200 + 60 * Math.sin(l) + dy;
    if (stride === 3) p[l * stride + 2] = 1;
  }
  p[36 * stride] = 150 + dx;
  p[36 * stride + 1] = 180 + dy;
  p[45 * stride] = 250 + dx;
  p[45 * stride + 1] = 180 + dy;
  return p;
}

t.test('nme68(): a shift of every point by 5 px over 100 px between the outer eye corners is 0.05 in every region', async (t) => {
  const ref = face(), ours = face(3, 4, 3);
  t.equal(interOcular(ref), 100);
  const e = nme68(ours, ref);
  t.ok(Math.abs(e.all - 0.05) < 1e-6, `all ${e.all}`);
  for (const [k, v] of Object.entries(e.regions)) t.ok(Math.abs(v - 0.05) < 1e-6, `${k} ${v}`);
  t.equal(nme68(face(0, 0, 3), ref).all, 0, 'identical points: 0');
});

t.test('frameMotion() is the mean displacement per frame over the eye distance, skipping frames without a face', async (t) => {
  const track = [face(0, 0), face(2, 0), null, face(2, 0), face(2, 1)];
  const m = frameMotion(track, track);
  t.same(m.map((x) => Math.round(x * 1e6) / 1e6), [0.02, 0.01], 'the two consecutive pairs with both frames');
});

t.test('lagFrames() finds the delay of a track that follows another', async (t) => {
  const motion = (f: number): [number, number] => [100 + 30 * Math.sin(f / 4) + 10 * Math.sin(f / 1.7), 100 + 20 * Math.cos(f / 3)];
  const lead = Array.from({ length: 80 }, (_, f) => motion(f));
  const late = Array.from({ length: 80 }, (_, f) => motion(f - 2));
  t.same(lagFrames(late, lead).lag, 2, 'two frames behind');
  t.same(lagFrames(lead, lead).lag, 0, 'none');
  t.same(centroid(face(), 2).map(Math.round), centroid(face(0, 0, 3), 3).map(Math.round), 'centroid reads either stride');
});
