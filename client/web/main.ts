/**
 * The page: camera → FaceClient (client/sdk) → the two views and the panel. Everything it shows comes from the
 * SDK's events; `window.faceLive` holds the recent results for the console and for automation (the Chromium test).
 * URL parameters: autostart=1, width, height, fps, mesh=1.
 */
import { FaceClient, type ResultEvent } from '../sdk/faceClient.js';
import { connectWithRetry } from '../sdk/retry.js';
import { mapsToCloud, type CloudPoints } from '../sdk/mapsCloud.js';
import type { DecodedMapsEvent } from '../sdk/resultStream.js';
import type { SessionOptionsWire } from '../../shared/signaling.js';
import type { HelloMessage, ResultMessage, StatsMessage } from '../../shared/wire/schema.js';
import { FrameView, type Overlay } from './frameView.js';
import { SceneView, type MeshSnapshot } from './sceneView.js';
import { LiveStats } from './liveStats.js';
import { BlendshapeBars } from './blendshapeBars.js';
import { DEFAULT_SESSION_OPTIONS, PAGE_MESH_EVERY, SESSION_OPTION_LIMITS } from '../../shared/sessionOptions.js';

type FaceResultMessage = Extract<ResultMessage, { face: true }>;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const video = $<HTMLVideoElement>('video');
/** Without WebGL2 (some headless or locked-down browsers) the stream, the panel and window.faceLive still work. */
function makeViews(): { frameView: FrameView; sceneView: SceneView } | null {
  try {
    return { frameView: new FrameView($<HTMLCanvasElement>('frame')), sceneView: new SceneView($<HTMLCanvasElement>('scene')) };
  } catch (e) {
    webglError = (e as Error).message;
    return null;
  }
}
let webglError = '';
const views = makeViews();
const checked = (id: string) => $<HTMLInputElement>(id).checked;
const statusLine = $('status');

/** What automation reads: recent results, decoded maps and latencies (bounded). */
const shared = {
  state: 'idle' as 'idle' | 'connecting' | 'live' | 'reconnecting' | 'closed' | 'error',
  /** sessions opened again after one was lost (a replica stopped or drained, the network broke) */
  reconnects: 0,
  error: '',
  hello: null as unknown,
  results: [] as { frameId: number; face: boolean; captureTimeMs: number | null; drawnLatencyMs: number | null; frameWidth?: number; frameHeight?: number; box?: unknown; landmarks?: number[]; intrinsics?: number[]; timings?: Record<string, number> }[],
  maps: [] as { frameId: number; frameWidth: number; size: number; box: unknown; depth: number[]; mask: number[] }[],
  stats: null as StatsMessage | null,
  panel: {} as Record<string, string>,
  /** the names on the blendshape bars of the latest face result, strongest first */
  blendshapeBars: [] as string[],
};
(window as unknown as { faceLive: typeof shared }).faceLive = shared;

const stats = new LiveStats();
const bars = new BlendshapeBars($('blendshapes'));
let client: FaceClient | null = null;
let stream: MediaStream | null = null;
let last: FaceResultMessage | null = null;
/** the latest face results by frame id, for maps that arrive after their result */
const recent = new Map<number, FaceResultMessage>();
let lastArrival: ResultEvent | null = null;
let drawnFrameId = -1;
let mesh: MeshSnapshot | null = null;
let cloud: CloudPoints | null = null;
const sampler = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!;

/** Maps with every result; the mesh (135 KB) every 10th, re-posed in between with each frame's head pose. */
function sessionOptions(): SessionOptionsWire {
  const fov = Number($<HTMLInputElement>('fov').value);
  const [low, high] = SESSION_OPTION_LIMITS.fovDeg;
  return { mapsEvery: DEFAULT_SESSION_OPTIONS.mapsEvery, meshEvery: checked('showMesh') ? PAGE_MESH_EVERY : 0, mapsStride: Number($<HTMLSelectElement>('mapsStride').value), fovDeg: fov >= low && fov <= high ? fov : DEFAULT_SESSION_OPTIONS.fovDeg };
}

/**
 * The server's token, from the page's address (`#token=SECRET`): a fragment never travels to the server in the
 * request or to other sites in a Referer; asked for once when the server wants one and the address has none.
 */
function pageToken(): string | undefined {
  const fromAddress = new URLSearchParams(location.hash.slice(1)).get('token');
  return fromAddress || sessionStorage.getItem('faceliveToken') || undefined;
}

function setStatus(text: string, error = false): void {
  statusLine.textContent = text;
  statusLine.className = error ? 'error' : '';
}

async function start(): Promise<void> {
  const [width, height] = (params.get('width') && params.get('height') ? `${params.get('width')}x${params.get('height')}` : $<HTMLSelectElement>('resolution').value).split('x').map(Number);
  const fps = Number(params.get('fps') ?? $<HTMLSelectElement>('fps').value);
  $<HTMLButtonElement>('start').disabled = true;
  shared.state = 'connecting';
  try {
    setStatus('opening the camera…');
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('this page needs a secure origin for the camera: open it as http://localhost or over https');
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: fps } }, audio: false });
    video.srcObject = stream;
    await video.play();
    setStatus('connecting to the server…');
    const signalUrl = new URL('signal', location.href);
    signalUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const open = (media: MediaStream) => FaceClient.connect(signalUrl.href, { stream: media, session: sessionOptions(), token: pageToken() });
    attach(await open(stream), open);
    $<HTMLButtonElement>('stop').disabled = false;
  } catch (e) {
    shared.state = 'error';
    shared.error = (e as Error).message;
    setStatus(`could not start: ${(e as Error).message}`, true);
    if (/unauthorized/.test((e as Error).message)) {
      const token = window.prompt('This server needs a token (ask its operator):');
      if (token) {
        sessionStorage.setItem('faceliveToken', token.trim());
        setStatus('token kept for this tab: press Start again');
      }
    }
    stop();
  }
}

/** Shows a session; one that is lost (not stopped here) is opened again with backoff, the camera kept running. */
function attach(c: FaceClient, open: (media: MediaStream) => Promise<FaceClient>): void {
  client = c;
  const onHello = (h: HelloMessage) => {
    shared.hello = { sessionId: h.sessionId, model: h.model, expressionNames: h.expressionNames };
    views?.sceneView.setTriangles(h.meshTriangles);
  };
  if (client.hello) onHello(client.hello);
  client.on('hello', onHello);
  client.on('result', onResult);
  client.on('maps', onMaps);
  client.on('stats', (s) => {
    shared.stats = s;
    stats.serverStats(s);
  });
  client.on('close', (reason) => {
    if (client !== c || !stream) return; // stopped here
    client = null;
    shared.state = 'reconnecting';
    const media = stream;
    connectWithRetry(() => open(media), {}, reason, (n) => {
      setStatus(`connection lost (${n.reason}): connecting again in ${(n.delayMs / 1000).toFixed(1)} s, try ${n.attempt} of ${n.tries}`, true);
    }, () => stream !== media).then((next) => {
      if (stream !== media) return next.close();
      shared.reconnects++;
      attach(next, open);
    }, (e: Error) => {
      if (stream !== media) return;
      shared.state = 'closed';
      shared.error = e.message;
      setStatus(`disconnected: ${e.message}`, true);
      stop();
    });
  });
  shared.state = 'live';
  const track = stream!.getVideoTracks()[0].getSettings();
  const live = () => setStatus(`live: ${track.width}×${track.height} at ${track.frameRate ?? '?'} fps, model ${c.hello?.model.name ?? '…'}${shared.reconnects ? ` (${shared.reconnects} reconnects)` : ''}${webglError ? ` (no 3D views: ${webglError})` : ''}`, webglError !== '');
  live();
  client.on('hello', live);
}

function stop(): void {
  // cleared first: the session's close event must not read as a lost session to connect again
  const c = client;
  client = null;
  c?.close();
  for (const t of stream?.getTracks() ?? []) t.stop();
  stream = null;
  $<HTMLButtonElement>('start').disabled = false;
  $<HTMLButtonElement>('stop').disabled = true;
}

function onResult(e: ResultEvent): void {
  const r = e.result;
  stats.result(e, client?.bytesIn ?? 0);
  if (e.blendshapes) shared.blendshapeBars = bars.show(e.blendshapes);
  const summary: (typeof shared.results)[number] = { frameId: r.frameId, face: r.face, captureTimeMs: r.captureTimeMs, drawnLatencyMs: null };
  if (r.face) {
    last = r;
    recent.set(r.frameId, r);
    if (recent.size > 30) recent.delete(recent.keys().next().value!);
    lastArrival = e;
    Object.assign(summary, { frameWidth: r.frameWidth, frameHeight: r.frameHeight, box: r.box, landmarks: Array.from(r.landmarks), intrinsics: Array.from(r.intrinsics), timings: r.timings });
    if (r.mesh && r.pose) {
      mesh = { vertices: r.mesh, rotation: r.pose.rotation, translationM: r.pose.translationM };
      views?.sceneView.setMeshVertices(r.mesh);
    }
  } else last = null;
  markDirty();
  shared.results.push(summary);
  if (shared.results.length > 300) shared.results.shift();
}

function onMaps(m: DecodedMapsEvent): void {
  const cropSize = client?.hello?.model.cropSize ?? m.maps.size;
  // the maps' own result (the two channels race; the frame size can change with the browser's adaptation)
  const own = recent.get(m.frameId) ?? last;
  if (!own) return;
  const intrinsics = own.intrinsics;
  try {
    cloud = mapsToCloud(m.maps, m.box, cropSize, intrinsics);
  } catch (e) {
    // maps the page cannot place (a size no stride of the crop gives): say so, keep the last cloud
    setStatus(`maps of frame ${m.frameId} skipped: ${(e as Error).message}`, true);
    return;
  }
  if ($<HTMLSelectElement>('cloudColour').value === 'camera' && video.videoWidth) colourFromCamera(cloud, video.videoWidth / own.frameWidth, video.videoHeight / own.frameHeight);
  views?.sceneView.setCloud(cloud.positions, cloud.colors, cloud.count);
  markDirty();
  shared.maps.push({ frameId: m.frameId, frameWidth: own.frameWidth, size: m.maps.size, box: m.box, depth: Array.from(m.maps.depth), mask: Array.from(m.maps.mask) });
  if (shared.maps.length > 5) shared.maps.shift();
}

function colourFromCamera(c: CloudPoints, sx: number, sy: number): void {
  const W = video.videoWidth, H = video.videoHeight;
  if (sampler.canvas.width !== W || sampler.canvas.height !== H) Object.assign(sampler.canvas, { width: W, height: H });
  sampler.drawImage(video, 0, 0);
  const px = sampler.getImageData(0, 0, W, H).data;
  for (let k = 0; k < c.count; k++) {
    const x = Math.min(W - 1, Math.max(0, Math.round(c.framePixels[k * 2] * sx))), y = Math.min(H - 1, Math.max(0, Math.round(c.framePixels[k * 2 + 1] * sy)));
    c.colors.set(px.subarray((y * W + x) * 4, (y * W + x) * 4 + 3), k * 3);
  }
}

const POINT_RGB: Record<number, [number, number, number]> = { 0: [0.9, 0.25, 0.25], 1: [0.95, 0.8, 0.2], 2: [0.2, 0.9, 0.45] };

function overlays(r: FaceResultMessage): Overlay[] {
  const out: Overlay[] = [];
  // frame pixels of the decoded frame → pixels of the video shown (smaller when the browser adapts to load)
  const sx = video.videoWidth / r.frameWidth, sy = video.videoHeight / r.frameHeight;
  if (checked('showPoints')) {
    const n = r.pointIds.length, xy = new Float32Array(n * 2), rgb = new Float32Array(n * 3);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const vis = r.points[i * 3 + 2];
      if (vis === 0) continue; // occluded: drawn nowhere rather than somewhere wrong
      xy[k * 2] = r.points[i * 3] * sx;
      xy[k * 2 + 1] = r.points[i * 3 + 1] * sy;
      rgb.set(POINT_RGB[vis] ?? POINT_RGB[1], k * 3);
      k++;
    }
    out.push({ xy, rgb, count: k, sizePx: 4 });
  }
  if (checked('showLandmarks')) {
    const xy = new Float32Array(68 * 2), rgb = new Float32Array(68 * 3);
    for (let i = 0; i < 68; i++) {
      xy[i * 2] = r.landmarks[i * 3] * sx;
      xy[i * 2 + 1] = r.landmarks[i * 3 + 1] * sy;
      rgb.set(r.landmarks[i * 3 + 2] ? [0.3, 0.75, 1] : [0.4, 0.4, 0.5], i * 3);
    }
    out.push({ xy, rgb, count: 68, sizePx: 6 });
  }
  return out;
}

/** Something to draw: a camera frame, a result, maps, or the user turned the view. Drawing only then keeps the
 * page light on machines that render WebGL in software. */
let dirty = true;
const markDirty = () => void (dirty = true);

function frame(): void {
  requestAnimationFrame(frame);
  if (!stream || !dirty) return;
  dirty = false;
  const r = last;
  if (views) {
    if (!views.frameView.draw(video, r ? overlays(r) : [], checked('showVideo'))) return;
    const meshModel = mesh && r?.pose ? SceneView.repose(mesh, r.pose.rotation, r.pose.translationM) : null;
    views.sceneView.draw({ cloud: checked('showCloud'), mesh: checked('showMesh'), meshModel, pointSize: 3 });
  }
  // capture → drawn, once per result, on the sender's clock (the server maps RTP time to it)
  if (r && lastArrival && r.frameId !== drawnFrameId) {
    drawnFrameId = r.frameId;
    if (r.captureTimeMs !== null) {
      const latency = Date.now() - r.captureTimeMs;
      stats.drawn(latency);
      for (let i = shared.results.length - 1; i >= 0; i--) {
        if (shared.results[i].frameId !== r.frameId) continue;
        shared.results[i].drawnLatencyMs = latency;
        break;
      }
    }
  }
}

setInterval(() => {
  shared.panel = stats.panel();
  $('panel').innerHTML = Object.entries(shared.panel).map(([k, v]) => `<div>${k} <span>${v}</span></div>`).join('');
}, 500);

$('start').addEventListener('click', () => void start());
$('stop').addEventListener('click', () => {
  stop();
  shared.state = 'closed';
  setStatus('stopped');
});
for (const id of ['showMesh', 'mapsStride', 'fov']) $(id).addEventListener('change', () => client?.setOptions(sessionOptions()));
if (params.get('mesh') === '1') $<HTMLInputElement>('showMesh').checked = true;
if (params.get('fov')) $<HTMLInputElement>('fov').value = params.get('fov')!;
video.requestVideoFrameCallback?.(function counted() {
  stats.cameraFrame();
  markDirty();
  video.requestVideoFrameCallback(counted);
});
if (!('requestVideoFrameCallback' in HTMLVideoElement.prototype)) setInterval(markDirty, 1000 / 30); // Firefox < 132
for (const ev of ['pointermove', 'wheel', 'dblclick']) $('scene').addEventListener(ev, markDirty);
for (const id of ['showVideo', 'showPoints', 'showLandmarks', 'showCloud', 'showMesh']) $(id).addEventListener('change', markDirty);
requestAnimationFrame(frame);
if (params.get('autostart') === '1') void start();
