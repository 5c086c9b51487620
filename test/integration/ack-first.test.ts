import { describe, expect, it } from 'vitest';
import { acknowledgementsFirst } from '../../src/access/engine.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('acknowledgements first', () => {
  it('holds the work after an ack while another request waits for its answer, and lets it go once answered', async () => {
    const acks = acknowledgementsFirst(60_000);
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
    const acks = acknowledgementsFirst(50);
    acks.arrived(); // never answered
    const started = performance.now();
    await acks.quiet();
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });
});
