import t from 'tap';
import { iceServersFor, turnCredential } from './turnCredentials.js';

t.test('a TURN credential is coturn\'s use-auth-secret form: expiry:label, base64 HMAC-SHA1 of it', async (t) => {
  // the password as `printf %s 1800000000:abc | openssl dgst -sha1 -hmac SECRET -binary | base64` gives it
  const c = turnCredential('s3cret-shared-with-coturn', 600, 1_799_999_400_000, 'abc');
  t.same(c, { username: '1800000000:abc', credential: 'oG1W+7YWKDiXi3VHD0rzDqXuqvg=', expires: 1_800_000_000 });
  t.not(turnCredential('another-secret-of-16+', 600, 1_799_999_400_000, 'abc').credential, c.credential, 'another secret, another password');
});

t.test('clients get the URLs with a fresh credential per request, or no server without TURN', async (t) => {
  t.same(iceServersFor(undefined), []);
  t.same(iceServersFor({ urls: [], secret: 'x'.repeat(16), ttlSeconds: 60 }), []);
  const turn = { urls: ['turn:turn.example:3478?transport=udp', 'turns:turn.example:5349?transport=tcp'], secret: 'x'.repeat(16), ttlSeconds: 3600 };
  const [a] = iceServersFor(turn, 1_000_000);
  const [b] = iceServersFor(turn, 1_000_000);
  t.same(a.urls, turn.urls);
  t.match(a.username, /^4600:[0-9a-f]{8}$/, 'expires ttlSeconds after now');
  t.not(a.username, b.username, 'each client its own label');
  t.notMatch(JSON.stringify(a), /x{16}/, 'the secret itself is never handed out');
});
