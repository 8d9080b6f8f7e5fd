import t from 'tap';
import { Reassembler } from '../../shared/wire/chunks.js';
import { ChannelSink, CHUNK_BYTES, MessageIds, type DataChannelLike } from './channelSink.js';

class FakeChannel implements DataChannelLike {
  readonly sent: Buffer[] = [];
  readyState = 'open';
  bufferedAmount = 0;
  failing = false;
  constructor(readonly label = 'results') {}
  send(data: Buffer): void {
    if (this.failing) throw new Error('channel closing');
    this.sent.push(Buffer.from(data));
  }
}

t.test('a message goes in chunks of at most 16 KiB that join back into it', async (t) => {
  const sink = new ChannelSink(1 << 20, new MessageIds());
  const ch = new FakeChannel();
  sink.attach(ch);
  const message = Uint8Array.from({ length: 50_000 }, (_, i) => i % 251);
  t.ok(sink.send(message));
  t.ok(ch.sent.length >= 4 && ch.sent.every((c) => c.length <= CHUNK_BYTES), `${ch.sent.length} chunks, each ≤ ${CHUNK_BYTES} bytes`);
  const reassembler = new Reassembler();
  const joined = ch.sent.map((c) => reassembler.push(new Uint8Array(c))).filter((m) => m !== null);
  t.same(joined, [message]);
  t.match(sink.stats(), { sent: 1, dropped: 0, failed: 0, bytes: 50_000 });
});

t.test('no channel, a channel not open, or a buffer above the limit: the message is dropped and counted', async (t) => {
  const sink = new ChannelSink(1000, new MessageIds());
  t.notOk(sink.send(Uint8Array.of(1)), 'no channel yet');
  const ch = new FakeChannel();
  sink.attach(ch);
  ch.readyState = 'connecting';
  t.notOk(sink.send(Uint8Array.of(1)), 'not open');
  ch.readyState = 'open';
  ch.bufferedAmount = 1001;
  t.notOk(sink.hasRoom());
  t.notOk(sink.send(Uint8Array.of(1)), 'buffer above the limit');
  ch.bufferedAmount = 1000;
  t.ok(sink.send(Uint8Array.of(1)), 'at the limit it goes');
  t.match(sink.stats(), { sent: 1, dropped: 3, failed: 0 });
});

t.test('a send that throws (a channel closing under us) is counted, never thrown', async (t) => {
  const sink = new ChannelSink(1000, new MessageIds());
  const ch = new FakeChannel();
  sink.attach(ch);
  ch.failing = true;
  t.notOk(sink.send(Uint8Array.of(1, 2, 3)));
  t.match(sink.stats(), { sent: 0, failed: 1 });
});

t.test('the channels of a session number their messages in one sequence', async (t) => {
  const ids = new MessageIds();
  const a = new ChannelSink(1000, ids), b = new ChannelSink(1000, ids);
  a.attach(new FakeChannel('results'));
  b.attach(new FakeChannel('maps'));
  a.send(Uint8Array.of(1));
  b.send(Uint8Array.of(2));
  t.equal(ids.take(), 2);
});
