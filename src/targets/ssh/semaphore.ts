// A counting semaphore: at most `limit` holders at once, the rest wait in order.
export class Semaphore {
  private holders = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a semaphore limit must be a positive integer, not ${limit}`);
  }

  /** Resolves with a release function once a slot is free; calling it more than once is harmless. */
  async acquire(): Promise<() => void> {
    if (this.holders < this.limit) this.holders++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve)); // the releaser hands its slot over
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.holders--;
    };
  }

  get inUse(): number {
    return this.holders;
  }
}
