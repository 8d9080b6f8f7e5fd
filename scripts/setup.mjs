#!/usr/bin/env node
// Installs the Debian packages a job needs when they are missing (as root), or names them exactly.
//   node scripts/setup.mjs          what `npm start` needs
//   node scripts/setup.mjs --test   what `npm test` needs
// Plain Node only: it runs before anything is built.
import { spawnSync } from 'node:child_process';

const forTests = process.argv.includes('--test');
/** package → why; `required` packages stop the job when they cannot be installed */
const needs = [
  // tests read the generator's .npy files with numpy, as a user's Python code would
  ...(forTests ? [{ pkg: 'python3-numpy', why: 'tests read .npy files with numpy', required: true }] : []),
  // the model's training pipeline is tested end to end (PyTorch trains, exports ONNX; the BLAS makes it fast)
  ...(forTests
    ? ['python3-torch', 'python3-onnx', 'python3-pil', 'python3-matplotlib', 'libopenblas0-pthread'].map((pkg) => ({
        pkg, why: 'the tiny end-to-end training test', required: true,
      }))
    : []),
  // a public-domain portrait (Grace Hopper, US Navy) that matplotlib ships as sample data: the detector's real photo
  ...(forTests ? [{ pkg: 'python-matplotlib-data', why: 'a real photograph for the face detector test', required: true }] : []),
  // videos are decoded by ffmpeg (the offline command's sources are tested on a generator video)
  ...(forTests ? [{ pkg: 'ffmpeg', why: 'video decoding in the offline sources test', required: true }] : []),
  // the live page is tested in a headless Chromium with a fake camera
  ...(forTests ? ['chromium', 'firefox-esr'].map((pkg) => ({ pkg, why: 'the live page tests (headless browsers, fake cameras)', required: true })) : []),
  // the deployment of docker-compose.yml is tested as processes: the proxy, TURN, a certificate; compose checks its file
  ...(forTests
    ? ['haproxy', 'coturn', 'openssl', 'docker-compose'].map((pkg) => ({ pkg, why: 'the deploy topology test (docker-compose.yml as processes)', required: true }))
    : []),
  // photographs for backgrounds (GPL-2+ nature photos, read at run time, never copied into the project)
  ...(!forTests ? [{ pkg: 'mate-backgrounds', why: 'background photographs for the generator', required: false }] : []),
];

const installed = (pkg) => {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
};

const missing = needs.filter((n) => !installed(n.pkg));
if (missing.length === 0) process.exit(0);
const names = missing.map((n) => n.pkg);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;

if (isRoot && hasApt) {
  console.error(`setup: installing Debian packages: ${names.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = update.status === 0 && spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...names], { stdio: 'inherit', env });
  if (install && install.status === 0) process.exit(0);
}
const required = missing.filter((n) => n.required);
for (const n of missing) {
  console.error(`setup: missing Debian package ${n.pkg} (${n.why}). Install it with: sudo apt-get install ${n.pkg}`);
}
process.exit(required.length ? 1 : 0);
