// Small helpers for delivery work that both chat adapters share.

/** Runs every piece of work to the end, then throws the first failure (the outbox retries the whole event). */
export async function settleAll(work: Array<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Runs work for the same key one after another, so that updates of one message (a vote, then the decision)
 * land in order: each renders the state it reads when it runs, and the last one shows the truth.
 */
export function serialPerKey<K>(): (key: K, work: () => Promise<void>) => Promise<void> {
  const chains = new Map<K, Promise<void>>();
  return (key, work) => {
    const run = (chains.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
    chains.set(key, run);
    void run.catch(() => undefined).finally(() => {
      if (chains.get(key) === run) chains.delete(key);
    });
    return run;
  };
}
