/**
 * Headless browsers for the page tests and the browser bench: Chromium (Debian's chromium) with loopback WebRTC
 * and a fake camera that plays a .y4m file; Firefox (Debian's firefox-esr) with its own fake camera (a test
 * pattern, no face). Fresh profiles.
 */
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';

export async function launchChromium(profileDir: string, cameraY4m: string): Promise<Browser> {
  try {
    return await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: join(profileDir, 'profile'),
      args: [
        '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        // WebRTC over 127.0.0.1 with plain host candidates (no mDNS names: werift cannot resolve them)
        '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
        '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${cameraY4m}`,
        // WebGL in software
        '--enable-unsafe-swiftshader', '--window-size=1280,720',
      ],
    });
  } catch (e) {
    throw new Error(`cannot start ${CHROMIUM} (Debian package chromium; or set CHROMIUM): ${(e as Error).message}`);
  }
}

/** Firefox, with loopback candidates allowed (a server with --loopback on 127.0.0.1). */
export async function launchFirefox(profileDir: string): Promise<Browser> {
  try {
    return await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      userDataDir: join(profileDir, 'firefox-profile'),
      extraPrefsFirefox: {
        'media.navigator.streams.fake': true,
        'media.navigator.permission.disabled': true,
        'media.peerconnection.ice.loopback': true,
        // headless Firefox turns WebGL off without a GPU
        'webgl.force-enabled': true,
      },
    });
  } catch (e) {
    throw new Error(`cannot start ${FIREFOX} (Debian package firefox-esr; or set FIREFOX): ${(e as Error).message}`);
  }
}

/** What the page exposes as window.faceLive (client/web/main.ts). */
export interface PageState {
  state: string;
  error: string;
  /** sessions opened again after one was lost */
  reconnects: number;
  results: { frameId: number; face: boolean; captureTimeMs: number | null; drawnLatencyMs: number | null; frameWidth?: number; frameHeight?: number; box?: { centerX: number; centerY: number; side: number }; landmarks?: number[]; intrinsics?: number[]; timings?: Record<string, number> }[];
  maps: { frameId: number; frameWidth: number; size: number; box: { centerX: number; centerY: number; side: number }; depth: number[]; mask: number[] }[];
  panel: Record<string, string>;
  blendshapeBars: string[];
  hello: { model: { cropSize: number } } | null;
}

/** The page's window.faceLive, copied out of the browser. */
export function readPageState(page: Page): Promise<PageState> {
  return page.evaluate(() => (window as unknown as { faceLive: unknown }).faceLive) as Promise<PageState>;
}
