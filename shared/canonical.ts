/**
 * The canonical space, defined once for the whole project (generator, model, engine, clients).
 *
 * The canonical coordinate of a surface point is where that same point lies on the neutral template: facekit's
 * neutral mesh (mean identity, all expression weights zero), in metres, in the template's own frame:
 *   - right-handed; +x towards the face's left (the subject's left ear), +y up, +z out of the face (towards a
 *     camera that looks at the face frontally);
 *   - origin on the mid-sagittal plane (x = 0) inside the head: 13.07 cm behind the nose tip, 0.41 cm below it,
 *     i.e. the nose tip is at (0, 0.0041, 0.1307) and the outer eye corners at (±0.0446, 0.0343, 0.0860).
 * Because it is attached to the template's surface by vertex correspondence, a point's canonical coordinate is the
 * same for every person (identity weights), expression, head pose and camera. Pixels that see no template surface
 * (background, hair, occluders) have no canonical coordinate: stored as (0, 0, 0) with a mask id saying why.
 *
 * For networks, coordinates are normalized to about [-1, 1] with CANONICAL_NORMALIZATION (the whole head and neck
 * of the template fit inside): normalized = (metres - centerM) / halfExtentM. The exported model takes and gives
 * metres (models/train/export_onnx.py applies it), so the runtime never converts.
 */

export interface CanonicalNormalization {
  /** template-frame point mapped to 0, metres */
  readonly centerM: readonly [number, number, number];
  /** metres mapped to 1 */
  readonly halfExtentM: number;
}

export const CANONICAL_NORMALIZATION: CanonicalNormalization = Object.freeze({
  centerM: Object.freeze([0, -0.025, 0.02]) as readonly [number, number, number],
  halfExtentM: 0.17,
});
