/**
 * The split scheme: which identities, appearances, lightings, backgrounds and performances (motion + expression
 * script) belong to train, val and test.
 *
 * Every such thing is an *asset*: a kind and an index k in [0, ASSET_POOL). Its parameters are a pure function of
 * (kind, k) (an Rng keyed `${kind}:${k}`), and its split is a pure function of (kind, k) too:
 *   hash32(`split:${kind}:${k}`) % 100  → [0, 10): test, [10, 20): val, [20, 100): train.
 * A sequence draws its assets with an Rng keyed by (seed, split, sequence number) and keeps drawing until the
 * index belongs to its split. So no test identity, appearance, lighting, background or performance can ever be
 * used by a train sequence, whatever the seeds; the same seed with another split gives other assets.
 * Background photographs are few (a dozen), so they are split by hash32(`split:photo:${fileName}`) % 6:
 * 0 → test, 1 → val, else train (for Debian's mate-backgrounds nature set: 2 test, 2 val, 8 train).
 */
import { hash32, Rng } from './random.js';

export type Split = 'train' | 'val' | 'test';
export const SPLITS: readonly Split[] = ['train', 'val', 'test'];

export type AssetKind = 'identity' | 'appearance' | 'lighting' | 'background' | 'performance';

export const ASSET_POOL = 1 << 24;

/** The split an asset belongs to. */
export function assetSplit(kind: AssetKind | 'photo', key: string | number): Split {
  if (kind === 'photo') {
    const h = hash32(`split:photo:${key}`) % 6;
    return h === 0 ? 'test' : h === 1 ? 'val' : 'train';
  }
  const h = hash32(`split:${kind}:${key}`) % 100;
  return h < 10 ? 'test' : h < 20 ? 'val' : 'train';
}

/** Draws an asset index of `kind` that belongs to `split`. */
export function drawAsset(rng: Rng, kind: AssetKind, split: Split): number {
  for (;;) {
    const k = rng.int(0, ASSET_POOL - 1);
    if (assetSplit(kind, k) === split) return k;
  }
}

/** The Rng that defines an asset's parameters. */
export function assetRng(kind: AssetKind, k: number, purpose = ''): Rng {
  return new Rng(`${kind}:${k}${purpose ? `:${purpose}` : ''}`);
}
