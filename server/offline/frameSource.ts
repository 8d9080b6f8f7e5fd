/**
 * Frames from files for the offline command: a video (decoded by ffmpeg, a Debian package, in a child process),
 * a folder of PNG/JPEG images in name order, or one image. Every frame, in order, backpressured: the decoder
 * is paused while the engine works.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { InputError } from '../../shared/errors.js';
import type { FramePixels } from '../engine/crop.js';

export interface SourceFrame {
  readonly index: number;
  readonly name: string;
  readonly pixels: FramePixels;
}

export interface FrameSource {
  readonly kind: 'video' | 'folder' | 'image';
  readonly width: number;
  readonly height: number;
  /** frames per second where the source has a rate */
  readonly fps: number | null;
  /** number of frames when known in advance */
  readonly frameCount: number | null;
  frames(): AsyncIterable<SourceFrame>;
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);
const MAX_PIXELS = 1920 * 1080;

export function decodeImage(path: string): FramePixels {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(`${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = extname(path).toLowerCase() === '.png' ? PNG.sync.read(bytes) : jpeg.decode(bytes, { useTArray: true, maxMemoryUsageInMB: 512 });
  } catch (e) {
    throw new InputError(`${path}: not a readable ${extname(path).slice(1).toUpperCase()} image (${(e as Error).message})`);
  }
  if (img.width * img.height > MAX_PIXELS) throw new InputError(`${path}: ${img.width}x${img.height} is larger than 1920x1080`);
  const data = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++) {
    data[i * 3] = img.data[i * 4];
    data[i * 3 + 1] = img.data[i * 4 + 1];
    data[i * 3 + 2] = img.data[i * 4 + 2];
  }
  return { format: 'rgb', width: img.width, height: img.height, data };
}

function imageSource(path: string): FrameSource {
  const pixels = decodeImage(path);
  return {
    kind: 'image', width: pixels.width, height: pixels.height, fps: null, frameCount: 1,
    async *frames() {
      yield { index: 0, name: path, pixels };
    },
  };
}

function folderSource(dir: string): FrameSource {
  const files = readdirSync(dir).filter((f) => IMAGE_EXT.has(extname(f).toLowerCase())).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (files.length === 0) throw new InputError(`${dir}: no .png, .jpg or .jpeg images in this folder`);
  const first = decodeImage(join(dir, files[0]));
  return {
    kind: 'folder', width: first.width, height: first.height, fps: null, frameCount: files.length,
    async *frames() {
      for (let i = 0; i < files.length; i++) {
        const pixels = i === 0 ? first : decodeImage(join(dir, files[i]));
        if (pixels.width !== first.width || pixels.height !== first.height) {
          throw new InputError(`${join(dir, files[i])}: ${pixels.width}x${pixels.height}, but the sequence started at ${first.width}x${first.height}`);
        }
        yield { index: i, name: files[i], pixels };
      }
    },
  };
}

function requireFfmpeg(): void {
  for (const tool of ['ffmpeg', 'ffprobe']) {
    const r = spawnSync(tool, ['-version'], { stdio: 'ignore' });
    if (r.error || r.status !== 0) throw new InputError(`${tool} not found: videos are decoded by ffmpeg; install it with: sudo apt-get install ffmpeg`);
  }
}

export interface FrameSourceOptions {
  /**
   * 'i420': a video is decoded straight to I420 (what a VP8 encoder takes), cropped to even sizes, saving the RGB
   * conversion; images still come as RGB. Default 'rgb'.
   */
  readonly videoFormat?: 'rgb' | 'i420';
}

function videoSource(path: string, o: FrameSourceOptions): FrameSource {
  requireFfmpeg();
  const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,avg_frame_rate,nb_frames', '-of', 'json', path], { encoding: 'utf8' });
  let stream: { width?: number; height?: number; avg_frame_rate?: string; nb_frames?: string } | undefined;
  try {
    stream = JSON.parse(probe.stdout).streams?.[0];
  } catch {
    stream = undefined;
  }
  if (probe.status !== 0 || !stream?.width || !stream.height) throw new InputError(`${path}: not a video ffmpeg can read${probe.stderr ? ` (${probe.stderr.trim().split('\n').pop()})` : ''}`);
  const i420 = o.videoFormat === 'i420';
  const { width: fullWidth, height: fullHeight } = stream as { width: number; height: number };
  const width = i420 ? fullWidth & ~1 : fullWidth, height = i420 ? fullHeight & ~1 : fullHeight;
  if (width * height > MAX_PIXELS) throw new InputError(`${path}: ${width}x${height} is larger than 1920x1080`);
  const [num, den] = (stream.avg_frame_rate ?? '0/1').split('/').map(Number);
  const fps = den > 0 && num > 0 ? num / den : null;
  const count = Number(stream.nb_frames);
  return {
    kind: 'video', width, height, fps, frameCount: Number.isInteger(count) && count > 0 ? count : null,
    async *frames() {
      const format = i420 ? ['-vf', `crop=${width}:${height}:0:0`, '-pix_fmt', 'yuv420p'] : ['-pix_fmt', 'rgb24'];
      const child = spawn('ffmpeg', ['-v', 'error', '-i', path, '-f', 'rawvideo', ...format, '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()).length > 4000 && (stderr = stderr.slice(-4000)));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const size = i420 ? width * height + 2 * (width >> 1) * (height >> 1) : width * height * 3;
      let pending: Buffer = Buffer.alloc(0), index = 0;
      try {
        for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
          pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
          while (pending.length >= size) {
            const data = new Uint8Array(pending.subarray(0, size));
            pending = pending.subarray(size);
            yield { index, name: `frame ${index}`, pixels: { format: i420 ? 'i420' : 'rgb', width, height, data } };
            index++;
          }
        }
        const code = await exited;
        if (code !== 0 && index === 0) throw new InputError(`${path}: ffmpeg could not decode it: ${stderr.trim().split('\n').pop()}`);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  };
}

/** Opens a video file, a folder of images or one image; a clear InputError for anything else. */
export function openFrameSource(input: string, o: FrameSourceOptions = {}): FrameSource {
  if (!existsSync(input)) throw new InputError(`${input}: no such file or folder`);
  if (statSync(input).isDirectory()) return folderSource(input);
  if (IMAGE_EXT.has(extname(input).toLowerCase())) return imageSource(input);
  return videoSource(input, o);
}
