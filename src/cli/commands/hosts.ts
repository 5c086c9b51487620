// keyway hosts bootstrap | check | trust | reconcile: preparing servers for Keyway, checking them, re-pinning a host
// key, and taking back access the database does not know (after a restore).
import { createInterface } from 'node:readline/promises';
import { loadCaKey } from '../../ca/ca-key.js';
import { isUserError, UserError } from '../../core/errors.js';
import { needsSshPublicKey, type AccessConfig, type ServerRef } from '../../core/model.js';
import { findServer } from '../../core/lookup.js';
import { bootstrapServer, describeBootstrap, type BootstrapResult } from '../../targets/ssh/bootstrap.js';
import { checkServer, describeHostCheck, type HostCheck } from '../../targets/ssh/check.js';
import { checkRdpServer, describeRdpCheck, type RdpServerCheck } from '../../targets/windows/rdp/rdp-check.js';
import { findUnknown, inspectServer, removeUnknown, type Finding, type FindingOutcome, type ServerInventory } from '../../targets/ssh/reconcile.js';
import { validateFingerprint } from '../../targets/ssh/host-key-fingerprint.js';
import { openConnectionPool } from '../../targets/ssh/open-pool.js';
import { appendAudit } from '../../store/audit-log.js';
import { getPinnedHostKey, pinHostKey } from '../../store/host-keys.js';
import { liveAccessOnServer } from '../../store/reconcile.js';
import { flag, JSON_OPTION, printJson, stringOption, UsageError, type CliIO, type Command, type Options, type ParsedArgs } from '../command.js';
import { cliActor, withRuntime, type CliRuntime } from '../runtime.js';

const SERVER_OPTIONS: Options = { all: { type: 'boolean', description: 'every server in the configuration' }, ...JSON_OPTION };
const SERVER_ARGS = [{ name: '[servers...]', description: 'server names from the configuration (or --all)' }];

function selectedServers(config: AccessConfig, args: ParsedArgs): ServerRef[] {
  const all = flag(args, 'all');
  if (all && args.positionals.length > 0) throw new UsageError('give server names or --all, not both');
  if (all) return config.integrations.flatMap((integration) => integration.servers.map((server) => ({ integration, server })));
  if (args.positionals.length === 0) throw new UsageError('give one or more server names, or --all');
  return [...new Set(args.positionals)].map((name) => {
    const ref = findServer(config, name);
    if (!ref) throw new UserError('unknown_server', `There is no server named "${name}" in the configuration: see keyway config check for the list.`);
    return ref;
  });
}

/** The Linux servers among `refs`; each other one (rdp, windows-dc) gets a line on stderr saying it was skipped. */
function sshServersOnly(refs: ServerRef[], io: CliIO, what: string): ServerRef[] {
  for (const ref of refs.filter((r) => !needsSshPublicKey(r.integration))) {
    io.err(`${ref.server.name}: skipped: hosts ${what} is for Linux servers over SSH; ${ref.server.name} is a ${ref.integration.type} resource of integration ${ref.integration.name}`);
  }
  return refs.filter((r) => needsSshPublicKey(r.integration));
}

function openPool(rt: CliRuntime, io: CliIO) {
  return openConnectionPool({ db: rt.db, env: io.env, now: rt.now, logger: rt.logger });
}

type Outcome<T> = { ref: ServerRef; result: T; error?: undefined } | { ref: ServerRef; result?: undefined; error: UserError };

async function eachServer<T>(refs: ServerRef[], work: (ref: ServerRef) => Promise<T>): Promise<Array<Outcome<T>>> {
  return Promise.all(refs.map(async (ref): Promise<Outcome<T>> => {
    try {
      return { ref, result: await work(ref) };
    } catch (error) {
      if (!isUserError(error)) throw error;
      return { ref, error };
    }
  }));
}

export const hostsBootstrap: Command = {
  name: 'hosts bootstrap',
  summary: "put Keyway's CA key, principals directory, sshd drop-in and group on servers",
  usage: 'keyway hosts bootstrap (SERVER… | --all) [--json]',
  args: SERVER_ARGS,
  options: SERVER_OPTIONS,
  run(args, io) {
    const { caKey, warnings } = loadCaKey(io.env);
    for (const warning of warnings) io.err(`warning: ${warning}`);
    return withRuntime(io, async (rt) => {
      const refs = sshServersOnly(selectedServers(rt.config(), args), io, 'bootstrap');
      const pool = openPool(rt, io);
      let outcomes: Array<Outcome<BootstrapResult>>;
      try {
        outcomes = await eachServer(refs, (ref) => bootstrapServer(pool, ref, caKey.publicKeyLine));
      } finally {
        await pool.close();
      }
      for (const { ref, result, error } of outcomes) {
        appendAudit(rt.db, {
          actor: cliActor(), action: error ? 'host.bootstrap_failed' : 'host.bootstrapped', subject: `server:${ref.server.name}`,
          details: error ? { integration: ref.integration.name, error: error.message } : { integration: ref.integration.name, changes: result.changes, caFingerprint: caKey.fingerprint },
        }, rt.now());
      }
      if (flag(args, 'json')) {
        printJson(io, outcomes.map(({ ref, result, error }) => (error ? { server: ref.server.name, status: 'failed', code: error.code, error: error.message } : result)));
      } else {
        for (const { ref, result, error } of outcomes) io.out(`${ref.server.name}: ${error ? `FAILED: ${error.message}` : describeBootstrap(result)}`);
      }
      return outcomes.some((o) => o.error) ? 1 : 0;
    });
  },
};

export const hostsCheck: Command = {
  name: 'hosts check',
  summary: 'check that Keyway can reach servers, run sudo and finds its settings in place (one line each)',
  usage: 'keyway hosts check (SERVER… | --all) [--json]',
  args: SERVER_ARGS,
  options: SERVER_OPTIONS,
  run(args, io) {
    let caPublicKey: string | undefined;
    try {
      caPublicKey = loadCaKey(io.env).caKey.publicKeyLine;
    } catch (error) {
      if (!isUserError(error)) throw error;
      io.err(`note: the CA key on servers is not compared with Keyway's: ${error.message}`);
    }
    return withRuntime(io, async (rt) => {
      const refs = selectedServers(rt.config(), args);
      const pool = openPool(rt, io);
      try {
        const checks = await Promise.all(refs.map((ref): Promise<HostCheck | RdpServerCheck | NotChecked> => {
          const { integration, server } = ref;
          if (integration.type === 'rdp') return checkRdpServer(integration, integration.servers.find((s) => s.name === server.name)!, io.env);
          if (!needsSshPublicKey(integration)) return Promise.resolve(notChecked(ref));
          return checkServer(pool, ref, { caPublicKey, pinnedHostKey: () => getPinnedHostKey(rt.db, integration.name, server.name)?.fingerprint });
        }));
        if (flag(args, 'json')) printJson(io, checks);
        else for (const check of checks) io.out(!('kind' in check) ? describeHostCheck(check) : 'line' in check ? check.line : describeRdpCheck(check));
        return checks.every((c) => c.ok) ? 0 : 1;
      } finally {
        await pool.close();
      }
    });
  },
};

/** A resource that is no server Keyway logs in to (an Active Directory group): said so, and not a failure. */
interface NotChecked {
  server: string;
  kind: string;
  ok: true;
  line: string;
}

function notChecked(ref: ServerRef): NotChecked {
  const line = `${ref.server.name}: skipped: a ${ref.integration.type} resource of integration ${ref.integration.name}, not a server Keyway logs in to (hosts check covers SSH and rdp servers)`;
  return { server: ref.server.name, kind: ref.integration.type, ok: true, line };
}

export const hostsTrust: Command = {
  name: 'hosts trust',
  summary: "pin a server's current host key (after a reinstall changed it)",
  usage: 'keyway hosts trust SERVER [--fingerprint SHA256:…] [--json]',
  args: [{ name: '<server>', description: 'the server name' }],
  options: { fingerprint: { type: 'string', value: 'SHA256:…', description: 'pin only if the server presents this key' }, ...JSON_OPTION },
  run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError('give exactly one server name');
    const fingerprintText = stringOption(args, 'fingerprint');
    const expected = fingerprintText === undefined ? undefined : validateFingerprint(fingerprintText);
    return withRuntime(io, async (rt) => {
      const [ref] = selectedServers(rt.config(), args) as [ServerRef];
      const previous = getPinnedHostKey(rt.db, ref.integration.name, ref.server.name)?.fingerprint;
      const pool = openPool(rt, io);
      let presented: string;
      try {
        presented = await pool.presentedHostKey(ref, expected);
      } finally {
        await pool.close();
      }
      const { integration, server } = ref;
      rt.db.transaction(() => {
        pinHostKey(rt.db, { integration: integration.name, server: server.name, host: server.host, port: server.port }, presented, rt.now());
        appendAudit(rt.db, {
          actor: cliActor(), action: 'host.key_trusted', subject: `server:${server.name}`,
          details: { integration: integration.name, fingerprint: presented, previous: previous ?? null, confirmedFingerprint: expected !== undefined },
        }, rt.now());
      })();
      if (flag(args, 'json')) return printJson(io, { server: server.name, fingerprint: presented, previous: previous ?? null });
      const was = previous === undefined ? 'nothing was pinned before' : previous === presented ? 'unchanged' : `was ${previous}`;
      io.out(`Pinned the host key of ${server.name}: ${presented} (${was}).`);
      if (expected === undefined && previous !== presented) {
        io.out(`Check it on the server with: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub (next time, pass --fingerprint to pin only that key).`);
      }
    });
  },
};

function describeFinding(finding: Finding): string {
  if (finding.kind === 'principal') return `principal ${finding.principal} for ${finding.user}: no live grant`;
  const recorded = finding.recordedUid === undefined ? '' : ` (it recorded UID ${finding.recordedUid})`;
  return `account ${finding.user} (UID ${finding.uid}) marked keyway-managed, unknown to this database${recorded}`;
}

function plannedAction(finding: Finding): string {
  if (finding.manual) return `Keyway will not remove it: ${finding.manual}`;
  return finding.kind === 'principal' ? 'would remove' : 'would lock and end its processes';
}

function describeOutcome(outcome: FindingOutcome): string {
  if (!outcome.ok) return `${outcome.done === 'removed' ? 'removed, but ' : ''}FAILED: ${outcome.error ?? 'unknown error'}`;
  if (outcome.done === 'locked') return 'locked, processes ended';
  return `${outcome.done ?? 'removed'}${outcome.note ? ` (${outcome.note})` : ''}`;
}

async function askYes(io: CliIO, question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    io.err('no answer: nothing removed');
    return false;
  } finally {
    rl.close();
  }
}

interface Inspected { ref: ServerRef; inventory: ServerInventory; findings: Finding[] }

export const hostsReconcile: Command = {
  name: 'hosts reconcile',
  summary: 'list, and with confirmation remove, principals and Keyway accounts on servers that the database does not know (after a restore)',
  usage: 'keyway hosts reconcile (SERVER… | --all) [--dry-run] [--yes]',
  args: SERVER_ARGS,
  options: {
    all: SERVER_OPTIONS.all!,
    'dry-run': { type: 'boolean', description: 'only print what would be removed' },
    yes: { type: 'boolean', short: 'y', description: 'remove without asking (without it, Keyway asks on a terminal and otherwise only prints the plan)' },
  },
  run(args, io) {
    const dryRun = flag(args, 'dry-run');
    const yes = flag(args, 'yes');
    if (dryRun && yes) throw new UsageError('give --dry-run or --yes, not both');
    return withRuntime(io, async (rt) => {
      const refs = sshServersOnly(selectedServers(rt.config(), args), io, 'reconcile');
      const pool = openPool(rt, io);
      try {
        const ctx = { pool };
        // The server is read before the database: whatever Keyway provisions meanwhile is recorded before it reaches a
        // server, so it is never taken for unknown.
        const outcomes = await eachServer(refs, (ref) => inspectServer(ctx, ref));
        const inspected: Inspected[] = [];
        let failed = false;
        for (const { ref, result, error } of outcomes) {
          if (error) {
            failed = true;
            io.out(`${ref.server.name}: FAILED: could not look at the server: ${error.message}`);
            continue;
          }
          const findings = findUnknown(ref, result, liveAccessOnServer(rt.db, ref.integration.name, ref.server.name));
          inspected.push({ ref, inventory: result, findings });
          if (findings.length === 0) io.out(`${ref.server.name}: nothing unknown to this database`);
          for (const finding of findings) io.out(`${ref.server.name}: ${describeFinding(finding)} → ${plannedAction(finding)}`);
        }
        const total = inspected.reduce((n, s) => n + s.findings.length, 0);
        if (total === 0) return failed ? 1 : 0;
        const note = 'Reconcile never deletes accounts or homes: cleanup is for accounts the database knows; delete a locked account by hand (userdel) once you have looked at it.';
        if (dryRun) {
          io.out(`Dry run: nothing changed (${total} finding${total === 1 ? '' : 's'}). Run again with --yes to remove them. ${note}`);
          return failed ? 1 : 0;
        }
        if (!yes) {
          if (!process.stdin.isTTY) {
            io.out(`Nothing changed: stdin is not a terminal, so Keyway did not ask. Run again with --yes to remove them. ${note}`);
            return 1;
          }
          if (!(await askYes(io, `Remove these ${total} finding${total === 1 ? '' : 's'} on ${inspected.filter((s) => s.findings.length > 0).length} server(s)? [y/N] `))) {
            io.out('Nothing changed.');
            return 1;
          }
        }
        let left = false;
        for (const { ref, inventory } of inspected) {
          // Judged again against the database as it is now: a grant recorded meanwhile is never taken for unknown.
          const live = liveAccessOnServer(rt.db, ref.integration.name, ref.server.name);
          const findings = findUnknown(ref, inventory, live);
          if (findings.length === 0) continue;
          const results = await removeUnknown(ctx, ref, inventory, live, findings);
          for (const outcome of results) {
            const { finding } = outcome;
            if (!outcome.ok) left = true;
            io.out(`${ref.server.name}: ${describeFinding(finding)} → ${describeOutcome(outcome)}`);
            const removedPrincipal = finding.kind === 'principal' && outcome.done === 'removed';
            const locked = finding.kind === 'account' && outcome.ok;
            if (!removedPrincipal && !locked) continue;
            appendAudit(rt.db, {
              actor: cliActor(), action: removedPrincipal ? 'reconcile.principal_removed' : 'reconcile.account_locked', subject: `server:${ref.server.name}`,
              details: finding.kind === 'principal'
                ? { integration: ref.integration.name, linuxUser: finding.user, principal: finding.principal }
                : { integration: ref.integration.name, linuxUser: finding.user, uid: finding.uid },
            }, rt.now());
          }
        }
        io.out(note);
        return failed || left ? 1 : 0;
      } finally {
        await pool.close();
      }
    });
  },
};
