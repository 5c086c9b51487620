import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { dispatchOutbox, type PlatformStatus } from '../../src/access/outbox-dispatcher.js';
import type { ChatPlatform } from '../../src/access/chat-port.js';
import type { Notifier } from '../../src/access/notifier.js';
import type { AccessEvent } from '../../src/core/events.js';
import { enqueueEvent, undeliveredCount } from '../../src/store/outbox.js';
import { createEngine } from '../../src/access/engine.js';
import { createGrantRunner } from '../helpers/grant-runner.js';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { accessConfig } from '../helpers/access-config.js';
import { testContext, type TestContext } from '../helpers/access-context.js';

let ctx: TestContext;
afterEach(() => ctx?.close());

type FakePlatform = ChatPlatform & { got: AccessEvent[]; down: boolean; deliver(event: AccessEvent): Promise<void> };

function platform(name: 'slack' | 'teams'): FakePlatform {
  const p = {
    name, reach: 'directory', got: [] as AccessEvent[], down: false,
    approversOf: async () => [], send: async () => undefined, update: async () => undefined,
    async deliver(event: AccessEvent) {
      if (p.down) throw new Error(`${name} is unreachable`);
      p.got.push(event);
    },
  } satisfies FakePlatform;
  return p;
}

/** Watches the dispatching alone: each platform takes the whole event. */
const notifier: Notifier = {
  deliver: (p, event) => (p as FakePlatform).deliver(event),
  refreshApprovals: async () => undefined,
};

describe('outbox delivery', () => {
  it('keeps what a platform that is down is owed, without resending to the one that took it, and delivers when it is back', async () => {
    ctx = testContext(accessConfig());
    const slack = platform('slack');
    const teams = platform('teams');
    teams.down = true;
    enqueueEvent(ctx.db, { kind: 'revoke_failing', grantId: 1, attempts: 1, error: 'x' }, ctx.now());
    const status: PlatformStatus = {};
    const logger = pino({ level: 'silent' });

    expect(await dispatchOutbox(ctx.db, [slack, teams], notifier, ctx.now, logger, status)).toEqual({ delivered: 0, failed: 1, more: false });
    expect(status).toMatchObject({ slack: { ok: true }, teams: { ok: false, error: 'teams is unreachable' } });
    expect(undeliveredCount(ctx.db)).toBe(1);

    teams.down = false;
    expect(await dispatchOutbox(ctx.db, [slack, teams], notifier, ctx.now, logger, status)).toEqual({ delivered: 0, failed: 0, more: false }); // retry time not yet come
    ctx.clock.now += 60_000;
    expect(await dispatchOutbox(ctx.db, [slack, teams], notifier, ctx.now, logger, status)).toEqual({ delivered: 1, failed: 0, more: false });
    expect(slack.got).toHaveLength(1);
    expect(teams.got).toHaveLength(1);
    expect(status.teams).toMatchObject({ ok: true });
    expect(undeliveredCount(ctx.db)).toBe(0);
  });

  it('one kick delivers everything due, past one batch', async () => {
    ctx = testContext(accessConfig());
    const slack = platform('slack');
    for (let i = 0; i < 120; i++) enqueueEvent(ctx.db, { kind: 'revoke_failing', grantId: i, attempts: 1, error: 'x' }, ctx.now());
    const unused = { provision: () => Promise.reject(new Error('unused')), revoke: () => Promise.reject(new Error('unused')), cleanup: () => Promise.reject(new Error('unused')) };
    const engine = createEngine(createGrantRunner(ctx, unused, generateCaKey().caKey), [slack], { notifier });
    engine.kick();
    await engine.idle();
    expect(slack.got).toHaveLength(120);
    expect(undeliveredCount(ctx.db)).toBe(0);
  });
});
