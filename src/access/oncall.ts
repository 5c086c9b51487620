// The access side of shifts: who is on call now, asked of the providers (through src/oncall's port, cached) before
// any transaction, and handed to core's policy as plain data (Requester.onCall, the approvers on call now). A
// provider that fails answers "nobody", with the reason, so nothing is ever granted on a guess.
import type { AccessConfig, OncallConfig, OncallProviderName } from '../core/model.js';
import { ONCALL_PROVIDERS } from '../core/model.js';
import type { OnCallShift, Requester } from '../core/policy.js';
import { cachedProvider } from '../oncall/cached.js';
import { makeProvider } from '../oncall/providers.js';
import type { OncallProvider, Shift } from '../oncall/port.js';
import { readToken } from '../oncall/token.js';
import type { AccessContext } from './context.js';

/** One schedule's answer: who is on call now, or why nobody counts (the provider failed). */
export interface ScheduleAnswer {
  schedule: string;
  shifts: Shift[];
  failure?: string;
}

export interface OncallResolver {
  whoIsOnCall(schedules: readonly string[]): Promise<ScheduleAnswer[]>;
}

export interface OncallResolverOptions {
  config: () => AccessConfig;
  env: NodeJS.ProcessEnv;
  now: () => number;
  fetch?: typeof fetch;
}

export function createOncallResolver(options: OncallResolverOptions): OncallResolver {
  // One cached client per provider per loaded `oncall:` section (a reload with new settings starts afresh).
  const clients = new WeakMap<OncallConfig, Map<OncallProviderName, OncallProvider>>();
  const clientFor = (oncall: OncallConfig, name: OncallProviderName): OncallProvider | Error => {
    let byName = clients.get(oncall);
    if (!byName) clients.set(oncall, (byName = new Map()));
    let client: OncallProvider | undefined = byName.get(name);
    if (!client) {
      const settings = oncall.providers[name]!;
      try {
        const provider = makeProvider(name, settings, readToken(settings.secret, options.env), oncall.timeoutSeconds * 1000, options.fetch);
        client = cachedProvider(provider, oncall.cacheSeconds * 1000, options.now);
      } catch (error) {
        return error as Error; // not kept: a token put in place later counts at the next request
      }
      byName.set(name, client);
    }
    return client;
  };

  async function answer(schedule: string): Promise<ScheduleAnswer> {
    const oncall = options.config().oncall;
    const at = schedule.indexOf(':');
    const name = schedule.slice(0, at) as OncallProviderName;
    if (!oncall || !ONCALL_PROVIDERS.includes(name) || !oncall.providers[name]) {
      return { schedule, shifts: [], failure: `no ${name || 'on-call'} provider is configured under oncall:` };
    }
    const client = clientFor(oncall, name);
    if (client instanceof Error) return { schedule, shifts: [], failure: client.message };
    try {
      return { schedule, shifts: await client.whoIsOnCall(schedule.slice(at + 1), options.now()) };
    } catch (error) {
      return { schedule, shifts: [], failure: (error as Error).message };
    }
  }

  return { whoIsOnCall: (schedules) => Promise.all([...new Set(schedules)].map(answer)) };
}

const attached = new WeakMap<AccessContext, OncallResolver>();

/** Sets the resolver the access functions of this context use (the composition root, tests with their own fetch). */
export function attachOncall(ctx: AccessContext, resolver: OncallResolver): void {
  attached.set(ctx, resolver);
}

/** The context's resolver; by default one over its live config and the process environment. */
export function oncallOf(ctx: AccessContext): OncallResolver {
  let resolver = attached.get(ctx);
  if (!resolver) attached.set(ctx, (resolver = createOncallResolver({ config: ctx.config, env: process.env, now: ctx.now })));
  return resolver;
}

/** What a request needs to know about shifts, resolved before its transaction. */
export interface ShiftFacts {
  /** The requester's shifts now. */
  onCall: OnCallShift[];
  /** schedule → e-mails on call in it now (whom to ask among on-call approvers). */
  onCallNow: Map<string, string[]>;
  /** Why some schedules could not be asked ("PagerDuty answered HTTP 401 …"), for the request to say. */
  failures: Array<{ schedule: string; why: string }>;
}

export const NO_SHIFTS: ShiftFacts = { onCall: [], onCallNow: new Map(), failures: [] };

/** Asks about `schedules` (nothing at all when there are none: the feature stays inert without `oncall:`). */
export async function shiftFacts(ctx: AccessContext, email: string, schedules: readonly string[]): Promise<ShiftFacts> {
  if (schedules.length === 0) return NO_SHIFTS;
  const answers = await oncallOf(ctx).whoIsOnCall(schedules);
  const me = email.toLowerCase();
  const facts: ShiftFacts = { onCall: [], onCallNow: new Map(), failures: [] };
  for (const a of answers) {
    if (a.failure !== undefined) {
      facts.failures.push({ schedule: a.schedule, why: a.failure });
      ctx.logger.warn({ schedule: a.schedule, why: a.failure }, 'on-call provider failed: nobody counts as on call in this schedule');
      continue;
    }
    facts.onCallNow.set(a.schedule, [...new Set(a.shifts.map((s) => s.email))]);
    for (const shift of a.shifts.filter((s) => s.email === me)) facts.onCall.push({ schedule: a.schedule, ...(shift.endsAt !== undefined && { endsAt: shift.endsAt }) });
  }
  return facts;
}

/** The person with the shifts they are on now in `schedules`. */
export async function withShifts(ctx: AccessContext, person: Requester, schedules: readonly string[]): Promise<Requester> {
  if (schedules.length === 0) return person;
  const facts = await shiftFacts(ctx, person.email, schedules);
  return { ...person, onCall: facts.onCall };
}
