/**
 * The client's half of signaling (shared/signaling.ts), for the page's browser peer and the Node client's peers
 * alike: ask which ICE servers to use (TURN with short-lived credentials, where the server has one), send the
 * offer, hold back the local candidates found before it (the server takes the offer first), apply the server's
 * answer and candidates, and turn an error reply into a rejection. Browser-safe.
 */
import { ProtocolError } from '../../shared/errors.js';
import { DEFAULT_SESSION_OPTIONS, parseServerSignal, type ClientSignal, type IceCandidateWire, type IceServerWire, type SessionOptionsWire } from '../../shared/signaling.js';

/** What the exchange needs from the peer connection. */
export interface AnsweredPeer {
  setAnswer(sdp: string): Promise<void>;
  addCandidate(c: IceCandidateWire): Promise<void>;
}

/** The server said no (its `error` reply); `code` tells whether another try may do better. */
export class ServerRefusal extends ProtocolError {
  override readonly name: string = 'ServerRefusal';

  constructor(readonly code: string, message: string) {
    super(`server: ${code}: ${message}`);
  }

  /** busy, draining, or an error of the server's own: another try (elsewhere, or later) may be answered */
  get retryable(): boolean {
    return this.code === 'busy' || this.code === 'draining' || this.code === 'internal';
  }
}

export class OfferExchange {
  /** the session id from the server's answer, once the answer is applied; rejects on an error reply */
  readonly answered: Promise<string>;
  private early: ClientSignal[] | null = [];
  private settle!: { resolve: (id: string) => void; reject: (e: unknown) => void };
  private ice: { resolve: (s: IceServerWire[]) => void; reject: (e: unknown) => void } | null = null;
  private peer: AnsweredPeer | null = null;

  constructor(private readonly send: (text: string) => void) {
    this.answered = new Promise<string>((resolve, reject) => (this.settle = { resolve, reject }));
    this.answered.catch(() => undefined); // awaited by the caller; a refusal before that is not unhandled
  }

  /** The ICE servers the server hands out (none: it is reached directly); ask before making the peer connection. */
  iceServers(token?: string): Promise<IceServerWire[]> {
    return new Promise<IceServerWire[]>((resolve, reject) => {
      this.ice = { resolve, reject };
      this.send(JSON.stringify({ type: 'ice', ...(token ? { token } : {}) } satisfies ClientSignal));
    });
  }

  /** A local ICE candidate (null: none, e.g. the end of gathering). */
  localCandidate(candidate: IceCandidateWire | null): void {
    if (!candidate) return;
    const m: ClientSignal = { type: 'candidate', candidate };
    if (this.early) this.early.push(m);
    else this.send(JSON.stringify(m));
  }

  /** Sends the offer of `peer`, then the candidates that waited for it. */
  offer(peer: AnsweredPeer, sdp: string, session: Partial<SessionOptionsWire> = {}, token?: string): void {
    this.peer = peer;
    this.send(JSON.stringify({ type: 'offer', sdp, options: { ...DEFAULT_SESSION_OPTIONS, ...session }, ...(token ? { token } : {}) } satisfies ClientSignal));
    for (const m of this.early ?? []) this.send(JSON.stringify(m));
    this.early = null;
  }

  /** The socket closed: whatever still waits for the server fails. */
  socketClosed(): void {
    const e = new ServerRefusal('closed', 'the signaling socket closed');
    this.ice?.reject(e);
    this.settle.reject(e);
  }

  /** A text message from the server's socket. */
  async receive(text: string): Promise<void> {
    try {
      const m = parseServerSignal(text);
      if (m.type === 'ice') {
        this.ice?.resolve([...m.iceServers]);
        this.ice = null;
      } else if (m.type === 'answer') {
        if (!this.peer) throw new ProtocolError('server: an answer before the offer');
        await this.peer.setAnswer(m.sdp);
        this.settle.resolve(m.sessionId);
      } else if (m.type === 'candidate') {
        if (!this.peer) throw new ProtocolError('server: a candidate before the offer');
        await this.peer.addCandidate(m.candidate);
      } else {
        const refusal = new ServerRefusal(m.code, m.message);
        this.ice?.reject(refusal);
        this.settle.reject(refusal);
      }
    } catch (e) {
      this.ice?.reject(e);
      this.settle.reject(e);
    }
  }
}
