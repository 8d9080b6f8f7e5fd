/**
 * Frames from files for the offline command: a video (decoded by ffmpeg, a Debian package, in a child process),
 * a folder of PNG/JPEG images in name order, or one image. Every frame, in order, backpressured: the decoder
 * is paused while the engine works.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
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
  /** damage found while reading (a truncated file, corrupt packets): the frames read are whole, some are missing */
  readonly warnings: readonly string[];
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
  const isPng = extname(path).toLowerCase() === '.png';
  // the size is checked before decoding: a 400 KB PNG can say 20000x20000 and ask for gigabytes
  if (isPng && bytes.length >= 24 && bytes.toString('latin1', 12, 16) === 'IHDR' && bytes.readUInt32BE(16) * bytes.readUInt32BE(20) > MAX_PIXELS) {
    throw new InputError(`${path}: ${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)} is larger than 1920x1080`);
  }
  try {
    img = isPng ? PNG.sync.read(bytes) : jpeg.decode(bytes, { useTArray: true, maxMemoryUsageInMB: 512, maxResolutionInMP: MAX_PIXELS / 1e6 });
  } catch (e) {
    if (/maxResolutionInMP/.test((e as Error).message)) throw new InputError(`${path}: larger than 1920x1080`);
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
    kind: 'image', width: pixels.width, height: pixels.height, fps: null, frameCount: 1, warnings: [],
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
    kind: 'folder', width: first.width, height: first.height, fps: null, frameCount: files.length, warnings: [],
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
  const warnings: string[] = [];
  return {
    kind: 'video', width, height, fps, frameCount: Number.isInteger(count) && count > 0 ? count : null, warnings,
    async *frames() {
      warnings.length = 0;
      const format = i420 ? ['-vf', `crop=${width}:${height}:0:0`, '-pix_fmt', 'yuv420p'] : ['-pix_fmt', 'rgb24'];
      // warnings too: a corrupt packet is only a warning to ffmpeg, and a frame it drops would vanish unsaid
      const child = spawn('ffmpeg', ['-nostdin', '-v', 'warning', '-i', path, '-f', 'rawvideo', ...format, '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
        const damage = stderr.split('\n').filter((l) => /corrupt|invalid|truncat|error|missing|incomplete/i.test(l));
        if (code !== 0) warnings.push(`${path}: ffmpeg stopped with an error after ${index} frames: ${stderr.trim().split('\n').pop()}`);
        else if (damage.length) warnings.push(`${path}: damaged, frames may be missing (${damage.length} decoder complaints; first: ${damage[0].replace(/^\[[^\]]*\]\s*/, '')})`);
        const leftover = pending.length || y4mLeftover(path);
        if (leftover) warnings.push(`${path}: truncated: the last frame is incomplete (${leftover} bytes after frame ${index}), so it is left out`);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  };
}

/**
 * Bytes after the last whole frame of a .y4m file (0 when it ends on a frame; also 0 for a file this does not
 * understand): ffmpeg drops a truncated last frame without a word.
 */
function y4mLeftover(path: string): number {
  if (extname(path).toLowerCase() !== '.y4m') return 0;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return 0;
  }
  try {
    const size = fstatSync(fd).size;
    const line = Buffer.alloc(256);
    // a header or frame line: its text and where the bytes after it start
    const lineAt = (at: number) => {
      const n = readSync(fd, line, 0, line.length, at);
      const end = line.subarray(0, n).indexOf(0x0a);
      return end < 0 ? null : { text: line.subarray(0, end).toString('latin1'), next: at + end + 1 };
    };
    const header = lineAt(0);
    if (!header?.text.startsWith('YUV4MPEG2 ')) return 0;
    const fields = header.text.split(' ');
    const field = (k: string) => fields.find((x) => x.startsWith(k))?.slice(1);
    const w = Number(field('W')), h = Number(field('H')), chroma = field('C') ?? '420';
    const frameBytes = chroma.startsWith('420') ? w * h + 2 * Math.ceil(w / 2) * Math.ceil(h / 2)
      : chroma.startsWith('422') ? w * h + 2 * Math.ceil(w / 2) * h : chroma.startsWith('444') ? 3 * w * h : chroma.startsWith('mono') ? w * h : 0;
    if (!(w > 0 && h > 0 && frameBytes > 0)) return 0;
    for (let at = header.next; at < size;) {
      const frame = lineAt(at);
      if (!frame?.text.startsWith('FRAME') || frame.next + frameBytes > size) return size - at;
      at = frame.next + frameBytes;
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}

/** Opens a video file, a folder of images or one image; a clear InputError for anything else. */
export function openFrameSource(input: string, o: FrameSourceOptions = {}): FrameSource {
  if (!existsSync(input)) throw new InputError(`${input}: no such file or folder`);
  if (statSync(input).isDirectory()) return folderSource(input);
  if (IMAGE_EXT.has(extname(input).toLowerCase())) return imageSource(input);
  return videoSource(input, o);
}
