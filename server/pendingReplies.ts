/** Requests posted to a worker thread, each waiting for the reply with its id. */
export class PendingReplies<T, Extra extends object = object> {
  private readonly pending = new Map<number, { resolve(v: T): void; reject(e: Error): void } & Extra>();
  private nextId = 1;

  /** Registers a request with what its reply will need (`extra`), and posts it with `send(id)`. */
  request(extra: Extra, send: (id: number) => void): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...extra });
      send(id);
    });
  }

  /** The request a reply answers, removed; undefined for an unknown or already answered id. */
  take(id: number): ({ resolve(v: T): void; reject(e: Error): void } & Extra) | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p;
  }

  /** Rejects every waiting request (close, a dead worker). */
  rejectAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
