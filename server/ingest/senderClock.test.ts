import t from 'tap';
import { SenderClock } from './senderClock.js';

const ntp = (unixMs: number) => {
  const s = Math.floor(unixMs / 1000) + 2_208_988_800;
  const frac = Math.round(((unixMs % 1000) / 1000) * 2 ** 32);
  return (BigInt(s) << 32n) | BigInt(frac);
};

t.test('SenderClock maps RTP timestamps to the sender wall clock through its last report', async (t) => {
  const c = new SenderClock();
  t.equal(c.captureTimeMs(1234), null, 'no report yet');
  const now = 1_764_000_000_250;
  c.onSenderReport(ntp(now), 90_000);
  t.ok(Math.abs(c.captureTimeMs(90_000)! - now) < 1e-3);
  t.ok(Math.abs(c.captureTimeMs(93_000)! - (now + 1000 / 30)) < 1e-3, 'a frame after the report');
  t.ok(Math.abs(c.captureTimeMs(87_000)! - (now - 1000 / 30)) < 1e-3, 'a frame before it');
  c.onSenderReport(ntp(now), 0xffff_ff00);
  t.ok(Math.abs(c.captureTimeMs(0x100)! - (now + 512 / 90)) < 1e-3, 'across the 32-bit wrap');
  c.onSenderReport(0n, 5);
  t.ok(Math.abs(c.captureTimeMs(0x100)! - (now + 512 / 90)) < 1e-3, 'an all-zero NTP time is ignored');
});
