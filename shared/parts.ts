/**
 * Part ids of the per-pixel mask (generator ground truth, model segmentation, engine mask). uint8.
 * Every consumer imports these names; the numbers are part of the on-disk format of `facelive synth`.
 */
export const PartId = Object.freeze({
  /** no surface */
  BACKGROUND: 0,
  /** facekit "face": forehead, brows, cheeks, nose, lips, chin */
  FACE_SKIN: 1,
  /** facekit "head_neck": scalp, ears, neck (skin outside the face area) */
  HEAD_SKIN: 2,
  /** eyeballs (sclera, iris, pupil) and the eye sockets' inner tissue */
  EYE: 3,
  /** mouth socket, gums and tongue */
  MOUTH_INTERIOR: 4,
  TEETH: 5,
  /** the generator's procedural hair shell (no canonical coordinate) */
  HAIR: 6,
  /** an object in front of the face (no canonical coordinate) */
  OCCLUDER: 7,
});
export type PartIdValue = (typeof PartId)[keyof typeof PartId];

export const PART_NAMES: readonly string[] = Object.freeze([
  'background', 'face_skin', 'head_skin', 'eye', 'mouth_interior', 'teeth', 'hair', 'occluder',
]);

/** True for part ids that lie on the template surface (and so have a canonical coordinate). */
export function hasCanonical(part: number): boolean {
  return part >= PartId.FACE_SKIN && part <= PartId.TEETH;
}

/**
 * The mask id of each facekit part; null for parts that are never rendered: the transparent overlays (tear film,
 * eye blend and occlusion shells) and the eyelash cards, which are alpha-textured in the original and would be
 * opaque bands here (the generator paints a lash line on the skin instead).
 */
export const FACEKIT_PART_MASK: Readonly<Record<string, PartIdValue | null>> = Object.freeze({
  face: PartId.FACE_SKIN,
  head_neck: PartId.HEAD_SKIN,
  mouth_socket: PartId.MOUTH_INTERIOR,
  eye_socket_left: PartId.EYE,
  eye_socket_right: PartId.EYE,
  gums_tongue: PartId.MOUTH_INTERIOR,
  teeth: PartId.TEETH,
  eyeball_left: PartId.EYE,
  eyeball_right: PartId.EYE,
  lacrimal_fluid_left: null,
  lacrimal_fluid_right: null,
  eye_blend_left: null,
  eye_blend_right: null,
  eye_occlusion_left: null,
  eye_occlusion_right: null,
  eyelashes_left: null,
  eyelashes_right: null,
});
