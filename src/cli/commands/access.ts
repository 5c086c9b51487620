// keyway grant (break-glass), keyway revoke, keyway sweep: commands that change servers.
import { grantBreakGlass } from '../../access/break-glass.js';
import { handOutCredential } from '../../access/credential-view.js';
import { needsSshPublicKey } from '../../core/model.js';
import { findIntegration } from '../../core/lookup.js';
import { endAccess, provisionRequest } from '../../access/grant-runner.js';
import { sweepOnce } from '../../access/sweeper.js';
import { certificateOf } from '../../targets/ssh/certificates.js';
import { OutageError, UserError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { grantsOfRequest } from '../../store/grants.js';
import { getRequest } from '../../store/requests.js';
import { appendAudit } from '../../store/audit-log.js';
import { UsageError, flag, JSON_OPTION, positiveId, printJson, stringOption, type CliIO, type Command } from '../command.js';
import { cliActor, withGrantRunner, type CliRuntime } from '../runtime.js';
import type { GrantRunner } from '../../access/grant-runner.js';

export const grantCommand: Command = {
  name: 'grant',
  summary: 'break-glass: grant access now without an approval (audited); prints the certificate (Windows: the one-time password)',
  usage: 'keyway grant EMAIL SERVER… --for 1h --reason "INC-123: …" [--json]',
  args: [{ name: '<email>', description: 'the person to grant to' }, { name: '<servers...>', description: 'server names (or one comma-separated list)' }],
  options: {
    for: { type: 'string', value: 'DURATION', description: 'how long, like 1h (required)' },
    reason: { type: 'string', value: 'TEXT', description: 'why, for the audit log: an incident number and a few words' },
    ...JSON_OPTION,
  },
  run(args, io) {
    const [email, ...servers] = args.positionals;
    if (!email?.includes('@') || servers.length === 0) throw new UsageError('give the e-mail and at least one server');
    const duration = stringOption(args, 'for');
    if (!duration) throw new UsageError('say for how long with --for, like 1h');
    const seconds = parseDuration(duration);
    return withGrantRunner(io, async (rt, runner) => {
      const request = grantBreakGlass(rt, cliActor(), email, servers.flatMap((s) => s.split(',')).filter(Boolean), seconds, stringOption(args, 'reason') ?? '');
      const grants = await provisionRequest(runner, request.id);
      const integration = findIntegration(rt.config(), request.integration);
      if (integration && !needsSshPublicKey(integration)) return printPasswords(io, args, rt, runner, request.id);
      const certificate = certificateOf(rt, request.id);
      if (flag(args, 'json')) return printJson(io, { request: getRequest(rt.db, request.id), grants, certificate: certificate?.line ?? null });
      for (const g of grants) io.err(`${g.server}: ${g.state}${g.lastError ? ` (${g.lastError})` : ''}`);
      if (!certificate) throw new OutageError('host_unreachable', `No server could be prepared for request ${request.id}; the sweeper keeps retrying (keyway grants list).`);
      io.out(certificate.line);
      return grants.every((g) => g.state === 'active') ? 0 : 1;
    });
  },
};

/** A Windows grant's one-time password, made and set now: `credentials` in --json, else one block per target. */
async function printPasswords(io: CliIO, args: Parameters<Command['run']>[0], rt: CliRuntime, runner: GrantRunner, requestId: number): Promise<number> {
  const view = await handOutCredential(runner, requestId);
  const grants = grantsOfRequest(rt.db, requestId);
  const credentials = view?.secret ? view.targets.map((target) => ({
    target, username: view.account, password: view.secret!.text, validUntil: new Date(view.validUntil).toISOString(),
    connect: view.connect.find((c) => c.target === target)?.lines ?? view.connect.flatMap((c) => c.lines),
  })) : [];
  if (flag(args, 'json')) {
    printJson(io, { request: getRequest(rt.db, requestId), grants, credentials });
    return 0;
  }
  for (const g of grants) io.err(`${g.server}: ${g.state}${g.lastError ? ` (${g.lastError})` : ''}`);
  if (credentials.length === 0) throw new OutageError('host_unreachable', `No target could be prepared for request ${requestId}; the sweeper keeps retrying (keyway grants list).`);
  io.out(`username: ${view!.account}\npassword: ${view!.secret!.text}\n${view!.connect.flatMap((c) => c.lines).join('\n')}`);
  return grants.every((g) => g.state === 'active') ? 0 : 1;
}

export const revokeCommand: Command = {
  name: 'revoke',
  summary: "end a request's access on every server now",
  usage: 'keyway revoke REQUEST-ID [--reason "why"] [--json]',
  args: [{ name: '<id>', description: 'the request id (keyway requests list)' }],
  options: { reason: { type: 'string', value: 'TEXT', description: 'why, recorded in the audit log' }, ...JSON_OPTION },
  run(args, io) {
    const id = positiveId(args.positionals[0]);
    return withGrantRunner(io, async (rt, runner) => {
      const request = getRequest(rt.db, id);
      if (!request) throw new UserError('unknown_request', `There is no request ${id}: check the number (keyway requests list).`);
      const reason = stringOption(args, 'reason');
      // The reason goes to the audit log before anything changes, so a revoke that fails half-way still says why.
      if (reason) appendAudit(rt.db, { actor: cliActor(), action: 'request.revoke_requested', subject: `request:${id}`, details: { reason } }, rt.now());
      const grants = grantsOfRequest(rt.db, id).length > 0 ? await endAccess(runner, id, 'revoked', cliActor()) : [];
      if (flag(args, 'json')) return printJson(io, grants);
      if (grants.length === 0) {
        io.out(`Request ${id} has no grants.`);
        return 0;
      }
      for (const g of grants) io.out(`${g.server}: ${g.state}${g.lastError ? ` (${g.lastError}; the sweeper retries)` : ''}`);
      return grants.some((g) => g.state === 'revoke_failed') ? 1 : 0;
    }, { existing: true });
  },
};

export const sweepCommand: Command = {
  name: 'sweep',
  summary: 'run one sweeper pass (expire, revoke, retry, recover, clean up) and print what it did',
  usage: 'keyway sweep [--json]',
  options: JSON_OPTION,
  run(args, io) {
    return withGrantRunner(io, async (_rt, runner) => {
      const report = await sweepOnce(runner);
      if (flag(args, 'json')) return printJson(io, report);
      io.out(Object.entries(report).map(([k, v]) => `${k}=${v}`).join(' '));
      return report.failures > 0 ? 1 : 0;
    }, { existing: true });
  },
};
