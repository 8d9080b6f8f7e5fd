/** 16-bit greyscale PNG of a depth map in millimetres (0 = no surface), the format depth tools expect. */
import { PNG } from 'pngjs';

export function depthPng16(depthM: Float32Array, width: number, height: number, valid?: Uint8Array): Buffer {
  const png = new PNG({ width, height, bitDepth: 16, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  // pngjs takes 16-bit samples as a Uint16 array in its data buffer
  const samples = new Uint16Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const mm = Math.round(depthM[i] * 1000);
    samples[i] = valid && !valid[i] ? 0 : mm < 0 ? 0 : mm > 65535 ? 65535 : mm;
  }
  png.data = samples as unknown as Buffer;
  return PNG.sync.write(png, { bitDepth: 16, colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

/** Reads a 16-bit greyscale PNG back into millimetres. */
export function readDepthPng16(bytes: Buffer): { width: number; height: number; mm: Uint16Array } {
  const png = PNG.sync.read(bytes, { skipRescale: true });
  const mm = new Uint16Array(png.width * png.height);
  const data = png.data as unknown as Uint16Array;
  // pngjs decodes to RGBA; with skipRescale the 16-bit values are kept
  for (let i = 0; i < mm.length; i++) mm[i] = data[i * 4];
  return { width: png.width, height: png.height, mm };
}
