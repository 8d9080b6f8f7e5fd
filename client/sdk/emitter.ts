/** A typed event emitter that runs in browsers and Node alike (node:events does not bundle for the page). */
type Handler = (...args: never[]) => void;

export class Emitter<Events extends { [K in keyof Events]: unknown[] }> {
  private readonly handlers = new Map<keyof Events, Set<Handler>>();

  /** Returns the function that removes the handler. */
  on<K extends keyof Events>(event: K, handler: (...args: Events[K]) => void): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    const h = handler as unknown as Handler;
    set.add(h);
    return () => void set.delete(h);
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    for (const h of this.handlers.get(event) ?? []) (h as unknown as (...a: Events[K]) => void)(...args);
  }
}
