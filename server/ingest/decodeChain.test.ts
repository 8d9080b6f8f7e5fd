import t from 'tap';
import { InvalidStateError, ProtocolError } from '../../shared/errors.js';
import type { I420Frame } from '../../node/media/vp8Codec.js';
import { DecodeChain, type DecodedPicture, type PictureDecoder } from './decodeChain.js';

/** A decoder whose answers the test scripts: frame bytes [w, h] → a w x h picture; [0] → none; [255] → corrupt. */
class ScriptedDecoder implements PictureDecoder {
  readonly order: number[] = [];
  closed = false;

  async decode(data: Uint8Array): Promise<I420Frame | null> {
    // answers arrive out of the order of the calls' durations: the chain must still keep its order
    await new Promise((r) => setTimeout(r, data[2] ?? 0));
    this.order.push(data[3] ?? -1);
    if (this.closed) throw new InvalidStateError('closed');
    if (data[0] === 255) throw new ProtocolError('corrupt frame');
    if (data[0] === 0) return null;
    return { width: data[0], height: data[1], data: new Uint8Array(data[0] * data[1] * 1.5) };
  }
}

function chain(maxFramePixels = 100 * 100) {
  const decoder = new ScriptedDecoder();
  const pictures: DecodedPicture[] = [], tooLarge: number[][] = [];
  const c = new DecodeChain(decoder, { maxFramePixels, onPicture: (p) => pictures.push(p), onTooLarge: (w, h, id) => tooLarge.push([w, h, id]) });
  return { c, decoder, pictures, tooLarge };
}

t.test('frames are decoded one at a time in the order pushed, with their ids and decode times', async (t) => {
  const { c, decoder, pictures } = chain();
  c.push(Uint8Array.of(16, 16, 30, 0), 1000);
  c.push(Uint8Array.of(16, 16, 0, 1), 2000);
  c.push(Uint8Array.of(16, 16, 10, 2), 3000);
  t.equal(c.backlog, 3);
  await c.drained();
  t.same(decoder.order, [0, 1, 2]);
  t.same(pictures.map((p) => p.frameId), [1000, 2000, 3000]);
  t.ok(pictures[0].decodeMs >= 25, `the slow frame's decode time: ${pictures[0].decodeMs.toFixed(1)} ms`);
  t.match(c.stats(), { decoded: 3, decodeErrors: 0, backlog: 0 });
});

t.test('a frame the decoder rejects is counted and the chain goes on; a picture of none is not a picture', async (t) => {
  const { c, pictures } = chain();
  c.push(Uint8Array.of(255), 1);
  c.push(Uint8Array.of(0), 2);
  c.push(Uint8Array.of(8, 8), 3);
  await c.drained();
  t.same(pictures.map((p) => p.frameId), [3]);
  t.match(c.stats(), { decoded: 1, decodeErrors: 1 });
});

t.test('a decoded picture above the size limit goes to onTooLarge, not on', async (t) => {
  const { c, pictures, tooLarge } = chain(100 * 100);
  c.push(Uint8Array.of(200, 100), 7);
  await c.drained();
  t.same(tooLarge, [[200, 100, 7]]);
  t.equal(pictures.length, 0);
  t.match(c.stats(), { decoded: 1, tooLarge: 1 });
});

t.test('a closing decoder (InvalidStateError) is not a decode error, and a closed chain hands nothing on', async (t) => {
  const { c, decoder, pictures } = chain();
  decoder.closed = true;
  c.push(Uint8Array.of(8, 8), 1);
  await c.drained();
  c.close();
  c.push(Uint8Array.of(8, 8), 2);
  await c.drained();
  t.equal(pictures.length, 0);
  t.match(c.stats(), { decoded: 0, decodeErrors: 0, backlog: 0 });
});
