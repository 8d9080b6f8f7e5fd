import t from 'tap';
import { intFlag, numberFlag } from './args.js';

t.test('numberFlag() takes decimals where a physical quantity is asked; intFlag() still wants integers', async (t) => {
  t.equal(numberFlag('x', { fov: '57.4' }, 'fov', 60, 20, 120), 57.4);
  t.equal(numberFlag('x', { fov: '88.665' }, 'fov', 60, 20, 120), 88.665);
  t.equal(numberFlag('x', {}, 'fov', 60, 20, 120), 60, 'the default when absent');
  t.throws(() => numberFlag('x', { fov: '57,4' }, 'fov', 60, 20, 120), /--fov: expected a number, got "57,4"/);
  t.throws(() => numberFlag('x', { fov: '1e2' }, 'fov', 60, 20, 120), /expected a number/);
  t.throws(() => numberFlag('x', { fov: '200' }, 'fov', 60, 20, 120), /--fov: must be between 20 and 120, got 200/);
  t.throws(() => intFlag('x', { frames: '2.5' }, 'frames', 1, 1, 10), /--frames: expected an integer/);
});
