/** An image and its per-pixel maps on one grid: the generator's ground truth, or what the engine reconstructed. */
export interface MapsImage {
  readonly width: number;
  readonly height: number;
  /** [H*W*3] sRGB */
  readonly rgb: Uint8Array;
  /** [H*W] metres along the camera's z axis; 0 where no surface */
  readonly depth: Float32Array;
  /** [H*W*3] canonical coordinates, metres (shared/canonical.ts); 0 where the mask has no canonical */
  readonly canonical: Float32Array;
  /** [H*W] PartId */
  readonly mask: Uint8Array;
  /** [68*3] x, y (pixels, centres at integers), visible (1 or 0) */
  readonly landmarks: Float32Array;
}
