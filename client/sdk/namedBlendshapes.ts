/**
 * A result's blendshape weights under both namings: facekit's 57 (the server's order, named in its hello) and
 * ARKit's 52 (shared/blendshapeNames.ts), so that an avatar rigged for ARKit or MediaPipe's blendshapes (VRM/glTF
 * morph targets with those names) is driven without a table of its own.
 */
import { inFacekitOrder, toArkit, type ArkitBlendshapeName } from '../../shared/blendshapeNames.js';
import { gazeFromWeights, type EyeGaze } from '../../shared/gaze.js';
import type { HelloMessage, ResultMessage } from '../../shared/wire/schema.js';

export interface NamedBlendshapes {
  /** by the server's own names (facekit's), as many as it sent */
  readonly facekit: Readonly<Record<string, number>>;
  /** by ARKit's 52 names; null when the server's shapes are not facekit's 57 */
  readonly arkit: Readonly<Record<ArkitBlendshapeName, number>> | null;
  /** each eye's gaze in degrees from the eyeLook weights (shared/gaze.ts); null when the shapes are not facekit's */
  readonly gaze: { readonly left: EyeGaze; readonly right: EyeGaze } | null;
}

/** Null for a result without weights (no face, no pose) or a server that named a different number of shapes. */
export function namedBlendshapes(result: ResultMessage, hello: Pick<HelloMessage, 'expressionNames'> | null): NamedBlendshapes | null {
  if (!result.face || !result.blendshapes || !hello || hello.expressionNames.length !== result.blendshapes.length) return null;
  const w = result.blendshapes;
  const facekit = Object.fromEntries(hello.expressionNames.map((n, i) => [n, w[i]]));
  const isFacekit = inFacekitOrder(hello.expressionNames);
  return { facekit, arkit: isFacekit ? toArkit(w) : null, gaze: isFacekit ? gazeFromWeights(w) : null };
}
