/**
 * Blendshape names: facekit's 57 expression shapes (the order of every `blendshapes` array this project produces)
 * and Apple ARKit's 52 (the names MediaPipe's Face Landmarker and most VRM/glTF avatars use for their morph
 * targets), with the mapping between them. Browser-safe.
 *
 * Both name sides from the subject's own point of view: facekit's `_L` moves the subject's left side (+x in the
 * canonical frame), as ARKit's `Left` does. 49 facekit shapes have an ARKit twin of the same meaning
 * (`eyeBlink_L` → `eyeBlinkLeft`); two ARKit shapes are one facekit pair each (`browInnerUp`, `cheekPuff`: the
 * mean of the pair); `PupilDilate_L/R` and `cheekRaiser_L/R` have no ARKit twin, and ARKit's `tongueOut` has no
 * facekit shape (always 0 here).
 */

export const FACEKIT_EXPRESSION_NAMES = [
  'browDown_L', 'browDown_R', 'browInnerUp_L', 'browInnerUp_R', 'browOuterUp_L', 'browOuterUp_R', 'cheekPuff_L',
  'cheekPuff_R', 'cheekSquint_L', 'cheekSquint_R', 'eyeBlink_L', 'eyeBlink_R', 'eyeLookDown_L', 'eyeLookDown_R',
  'eyeLookIn_L', 'eyeLookIn_R', 'eyeLookOut_L', 'eyeLookOut_R', 'eyeLookUp_L', 'eyeLookUp_R', 'eyeSquint_L',
  'eyeSquint_R', 'eyeWide_L', 'eyeWide_R', 'jawForward', 'jawLeft', 'jawOpen', 'jawRight', 'mouthClose',
  'mouthDimple_L', 'mouthDimple_R', 'mouthFrown_L', 'mouthFrown_R', 'mouthFunnel', 'mouthLeft', 'mouthLowerDown_L',
  'mouthLowerDown_R', 'mouthPress_L', 'mouthPress_R', 'mouthPucker', 'mouthRight', 'mouthRollLower',
  'mouthRollUpper', 'mouthShrugLower', 'mouthShrugUpper', 'mouthSmile_L', 'mouthSmile_R', 'mouthStretch_L',
  'mouthStretch_R', 'mouthUpperUp_L', 'mouthUpperUp_R', 'noseSneer_L', 'noseSneer_R', 'PupilDilate_L',
  'PupilDilate_R', 'cheekRaiser_L', 'cheekRaiser_R',
] as const;
export type FacekitExpressionName = (typeof FACEKIT_EXPRESSION_NAMES)[number];

export const ARKIT_BLENDSHAPE_NAMES = [
  'browDownLeft', 'browDownRight', 'browInnerUp', 'browOuterUpLeft', 'browOuterUpRight', 'cheekPuff', 'cheekSquintLeft',
  'cheekSquintRight', 'eyeBlinkLeft', 'eyeBlinkRight', 'eyeLookDownLeft', 'eyeLookDownRight', 'eyeLookInLeft',
  'eyeLookInRight', 'eyeLookOutLeft', 'eyeLookOutRight', 'eyeLookUpLeft', 'eyeLookUpRight', 'eyeSquintLeft',
  'eyeSquintRight', 'eyeWideLeft', 'eyeWideRight', 'jawForward', 'jawLeft', 'jawOpen', 'jawRight', 'mouthClose',
  'mouthDimpleLeft', 'mouthDimpleRight', 'mouthFrownLeft', 'mouthFrownRight', 'mouthFunnel', 'mouthLeft',
  'mouthLowerDownLeft', 'mouthLowerDownRight', 'mouthPressLeft', 'mouthPressRight', 'mouthPucker', 'mouthRight',
  'mouthRollLower', 'mouthRollUpper', 'mouthShrugLower', 'mouthShrugUpper', 'mouthSmileLeft', 'mouthSmileRight',
  'mouthStretchLeft', 'mouthStretchRight', 'mouthUpperUpLeft', 'mouthUpperUpRight', 'noseSneerLeft', 'noseSneerRight',
  'tongueOut',
] as const;
export type ArkitBlendshapeName = (typeof ARKIT_BLENDSHAPE_NAMES)[number];

/** The same names in the same order. */
export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/** Weights named this way are facekit's 57 in facekit's order: they map to ARKit's names and to a gaze. */
export function inFacekitOrder(names: readonly string[]): boolean {
  return sameNames(names, FACEKIT_EXPRESSION_NAMES);
}

/** The ARKit name of a facekit shape: `_L`/`_R` become `Left`/`Right`; the two merged pairs lose their side. */
function arkitTwin(name: FacekitExpressionName): ArkitBlendshapeName | null {
  if (name.startsWith('PupilDilate') || name.startsWith('cheekRaiser')) return null;
  if (name.startsWith('browInnerUp')) return 'browInnerUp';
  if (name.startsWith('cheekPuff_')) return 'cheekPuff';
  return name.replace(/_L$/, 'Left').replace(/_R$/, 'Right') as ArkitBlendshapeName;
}

/** For each ARKit name, the facekit shapes (indices) whose mean it is; empty for tongueOut. */
export const ARKIT_SOURCES: Readonly<Record<ArkitBlendshapeName, readonly number[]>> = (() => {
  const sources = Object.fromEntries(ARKIT_BLENDSHAPE_NAMES.map((n) => [n, [] as number[]])) as Record<ArkitBlendshapeName, number[]>;
  FACEKIT_EXPRESSION_NAMES.forEach((name, i) => {
    const twin = arkitTwin(name);
    if (twin) sources[twin].push(i);
  });
  return Object.freeze(sources);
})();

/** The facekit shapes with no ARKit twin. */
export const WITHOUT_ARKIT_TWIN: readonly FacekitExpressionName[] = FACEKIT_EXPRESSION_NAMES.filter((n) => arkitTwin(n) === null);

/** facekit-ordered weights (57) as ARKit-named weights (52; tongueOut 0). */
export function toArkit(weights: ArrayLike<number>): Record<ArkitBlendshapeName, number> {
  if (weights.length !== FACEKIT_EXPRESSION_NAMES.length) throw new RangeError(`toArkit: expected ${FACEKIT_EXPRESSION_NAMES.length} facekit weights, got ${weights.length}`);
  const out = {} as Record<ArkitBlendshapeName, number>;
  for (const name of ARKIT_BLENDSHAPE_NAMES) {
    const from = ARKIT_SOURCES[name];
    let sum = 0;
    for (const i of from) sum += weights[i];
    out[name] = from.length ? sum / from.length : 0;
  }
  return out;
}

/** facekit-ordered weights (57) as ARKit weights in ARKIT_BLENDSHAPE_NAMES order (52). */
export function toArkitArray(weights: ArrayLike<number>): Float32Array {
  const named = toArkit(weights);
  return Float32Array.from(ARKIT_BLENDSHAPE_NAMES, (n) => named[n]);
}

/** ARKit-named weights as facekit-ordered ones: a merged ARKit shape drives both halves; shapes without a twin 0. */
export function fromArkit(arkit: Partial<Record<ArkitBlendshapeName, number>>): Float32Array {
  const out = new Float32Array(FACEKIT_EXPRESSION_NAMES.length);
  for (const name of ARKIT_BLENDSHAPE_NAMES) for (const i of ARKIT_SOURCES[name]) out[i] = arkit[name] ?? 0;
  return out;
}

/** Weights by facekit name. */
export function byFacekitName(weights: ArrayLike<number>): Record<FacekitExpressionName, number> {
  return Object.fromEntries(FACEKIT_EXPRESSION_NAMES.map((n, i) => [n, weights[i]])) as Record<FacekitExpressionName, number>;
}
