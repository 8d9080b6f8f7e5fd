import t from 'tap';
import { intFlag, numberFlag, parseFlags, tokenFlag } from './args.js';

t.test('numberFlag() takes decimals where a physical quantity is asked; intFlag() still wants integers', async (t) => {
  t.equal(numberFlag('x', { fov: '57.4' }, 'fov', 60, 20, 120), 57.4);
  t.equal(numberFlag('x', { fov: '88.665' }, 'fov', 60, 20, 120), 88.665);
  t.equal(numberFlag('x', {}, 'fov', 60, 20, 120), 60, 'the default when absent');
  t.throws(() => numberFlag('x', { fov: '57,4' }, 'fov', 60, 20, 120), /--fov: expected a number, got "57,4"/);
  t.throws(() => numberFlag('x', { fov: '1e2' }, 'fov', 60, 20, 120), /expected a number/);
  t.throws(() => numberFlag('x', { fov: '200' }, 'fov', 60, 20, 120), /--fov: must be between 20 and 120, got 200/);
  t.throws(() => intFlag('x', { frames: '2.5' }, 'frames', 1, 1, 10), /--frames: expected an integer/);
});

t.test('parseFlags() takes a negative value after a flag that takes one: --face-box -28,40,200', async (t) => {
  const spec = { 'face-box': { type: 'string' }, quiet: { type: 'boolean' } } as const;
  t.same(parseFlags('x', ['--face-box', '-28,40,200', '--quiet'], spec), { 'face-box': '-28,40,200', quiet: true });
  t.same(parseFlags('x', ['--face-box', '-.5,1,9'], spec), { 'face-box': '-.5,1,9' });
  t.throws(() => parseFlags('x', ['--quiet', '-28'], spec), { name: 'UsageError' }, 'a boolean flag takes no value');
  t.throws(() => parseFlags('x', ['--face-box', '--quiet'], spec), { name: 'UsageError' }, 'a flag is still not a value');
});

t.test('tokenFlag(): --token, else FACELIVE_TOKEN; short or spaced secrets refused', async (t) => {
  const saved = process.env.FACELIVE_TOKEN;
  t.teardown(() => (saved === undefined ? delete process.env.FACELIVE_TOKEN : (process.env.FACELIVE_TOKEN = saved)));
  delete process.env.FACELIVE_TOKEN;
  t.equal(tokenFlag('x', {}), undefined, 'none: no token');
  process.env.FACELIVE_TOKEN = 'from-the-environment-123';
  t.equal(tokenFlag('x', {}), 'from-the-environment-123');
  t.equal(tokenFlag('x', { token: 'from-the-command-line-1' }), 'from-the-command-line-1', 'the flag wins');
  t.throws(() => tokenFlag('x', { token: 'short' }), /16 to 256 printable characters/);
  t.throws(() => tokenFlag('x', { token: 'has a space in it, long enough' }), /16 to 256 printable characters/);
});
