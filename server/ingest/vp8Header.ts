/**
 * The picture size a VP8 keyframe announces in its first ten bytes (RFC 6386 §9.1), read before decoding: a
 * 44 KB keyframe can announce 16383x16383 and make libvpx allocate a gigabyte.
 */
export function vp8KeyframeSize(frame: Uint8Array): { width: number; height: number } | null {
  // frame tag: bit 0 clear on a keyframe, then the start code 9d 01 2a, then 14-bit width and height
  if (frame.length < 10 || (frame[0] & 1) !== 0 || frame[3] !== 0x9d || frame[4] !== 0x01 || frame[5] !== 0x2a) return null;
  return { width: (frame[6] | (frame[7] << 8)) & 0x3fff, height: (frame[8] | (frame[9] << 8)) & 0x3fff };
}
