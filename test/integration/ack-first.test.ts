import { describe, expect, it } from 'vitest';
import { acknowledgementsFirst } from '../../src/access/engine.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('acknowledgements first', () => {
  it('holds the work after an ack while another request waits for its answer, and lets it go once answered', async () => {
    const acks = acknowledgementsFirst({ maxWaitMs: 60_000 });
    const answered = acks.arrived();
    let worked = false;
    const work = acks.quiet().then(() => (worked = true));
    for (let i = 0; i < 5; i++) await turn();
    expect(worked).toBe(false);
    answered();
    answered(); // answering twice counts once
    await work;
    expect(worked).toBe(true);
  });

  it('holds the work while a burst keeps arriving, even when each request is answered at once', async () => {
    const acks = acknowledgementsFirst({ maxWaitMs: 60_000, settleMs: 40 });
    let worked = false;
    const work = acks.quiet().then(() => (worked = true));
    const started = performance.now();
    let lastArrival = started;
    while (performance.now() - started < 100) {
      acks.arrived()(); // answered as soon as it came
      lastArrival = performance.now();
      await new Promise<void>((resolve) => setTimeout(resolve, 5));
      expect(worked).toBe(false);
    }
    await work;
    expect(performance.now() - lastArrival).toBeGreaterThanOrEqual(35);
  });

  it('lets one piece of work go per turn of the event loop, in order', async () => {
    const acks = acknowledgementsFirst();
    const order: number[] = [];
    const all = [1, 2, 3].map((n) => acks.quiet().then(() => order.push(n)));
    await turn();
    expect(order.length).toBeLessThanOrEqual(1);
    await Promise.all(all);
    expect(order).toEqual([1, 2, 3]);
  });

  it('never starves the work under a steady stream of requests: it goes after the longest wait', async () => {
    const acks = acknowledgementsFirst({ maxWaitMs: 50 });
    acks.arrived(); // never answered
    const started = performance.now();
    await acks.quiet();
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });
});
