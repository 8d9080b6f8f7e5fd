/**
 * The client's half of signaling (shared/signaling.ts), for the page's browser peer and the Node client's peers
 * alike: send the offer, hold back the local candidates found before it (the server takes the offer first),
 * apply the server's answer and candidates, and turn an error reply into a rejection. Browser-safe.
 */
import { ProtocolError } from '../../shared/errors.js';
import { DEFAULT_SESSION_OPTIONS, parseServerSignal, type ClientSignal, type IceCandidateWire, type SessionOptionsWire } from '../../shared/signaling.js';

/** What the exchange needs from the peer connection. */
export interface AnsweredPeer {
  setAnswer(sdp: string): Promise<void>;
  addCandidate(c: IceCandidateWire): Promise<void>;
}

export class OfferExchange {
  /** the session id from the server's answer, once the answer is applied; rejects on an error reply */
  readonly answered: Promise<string>;
  private early: ClientSignal[] | null = [];
  private settle!: { resolve: (id: string) => void; reject: (e: unknown) => void };

  constructor(private readonly send: (text: string) => void, private readonly peer: AnsweredPeer) {
    this.answered = new Promise<string>((resolve, reject) => (this.settle = { resolve, reject }));
    this.answered.catch(() => undefined); // awaited by the caller; a refusal before that is not unhandled
  }

  /** A local ICE candidate (null: none, e.g. the end of gathering). */
  localCandidate(candidate: IceCandidateWire | null): void {
    if (!candidate) return;
    const m: ClientSignal = { type: 'candidate', candidate };
    if (this.early) this.early.push(m);
    else this.send(JSON.stringify(m));
  }

  /** Sends the offer, then the candidates that waited for it. */
  offer(sdp: string, session: Partial<SessionOptionsWire> = {}, token?: string): void {
    this.send(JSON.stringify({ type: 'offer', sdp, options: { ...DEFAULT_SESSION_OPTIONS, ...session }, ...(token ? { token } : {}) } satisfies ClientSignal));
    for (const m of this.early ?? []) this.send(JSON.stringify(m));
    this.early = null;
  }

  /** A text message from the server's socket. */
  async receive(text: string): Promise<void> {
    try {
      const m = parseServerSignal(text);
      if (m.type === 'answer') {
        await this.peer.setAnswer(m.sdp);
        this.settle.resolve(m.sessionId);
      } else if (m.type === 'candidate') {
        await this.peer.addCandidate(m.candidate);
      } else {
        this.settle.reject(new ProtocolError(`server: ${m.code}: ${m.message}`));
      }
    } catch (e) {
      this.settle.reject(e);
    }
  }
}
