/**
 * Short-lived TURN credentials in the form coturn checks with `use-auth-secret` (the "TURN REST API" of
 * draft-uberti-behave-turn-rest): username = "<expiry, Unix seconds>:<label>", password = base64(HMAC-SHA1(secret,
 * username)). The server and coturn share the secret; a page only ever sees a credential that stops working after
 * `ttlSeconds`, never the secret or a static password.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { IceServerWire } from '../../shared/signaling.js';

export interface TurnConfig {
  /** turn:/turns: URLs as a client reaches them, e.g. turn:turn.example.com:3478?transport=udp */
  readonly urls: readonly string[];
  /** coturn's static-auth-secret */
  readonly secret: string;
  /** how long a credential works (default 3600 s: longer than a typical call would break it at the hour) */
  readonly ttlSeconds: number;
}

export interface TurnCredential {
  readonly username: string;
  readonly credential: string;
  /** Unix seconds */
  readonly expires: number;
}

export function turnCredential(secret: string, ttlSeconds: number, nowMs = Date.now(), label = randomUUID().slice(0, 8)): TurnCredential {
  const expires = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expires}:${label}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64'), expires };
}

/** The ICE servers a client is handed: the TURN URLs with a fresh credential, or none without TURN. */
export function iceServersFor(turn: TurnConfig | undefined, nowMs = Date.now()): IceServerWire[] {
  if (!turn || turn.urls.length === 0) return [];
  const c = turnCredential(turn.secret, turn.ttlSeconds, nowMs);
  return [{ urls: [...turn.urls], username: c.username, credential: c.credential }];
}
