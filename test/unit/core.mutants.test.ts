// The small pure rules of src/core at their edges: reserved user names, derived names, durations, lifecycles,
// lookups, retry and warning times, error kinds. Written for the mutants that survived `npm run mutate`.
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/core/backoff.js';
import { checkDuration, formatDuration, parseDuration } from '../../src/core/duration.js';
import { isOutage, isUserError, OutageError, UserError } from '../../src/core/errors.js';
import { expiryWarningAt } from '../../src/core/expiry-warning.js';
import {
  assertGrantTransition, assertRequestTransition, canMoveGrant, canMoveRequest, GRANT_STATES, GRANT_STATES_WITH_ACCESS, isTerminalRequest, REQUEST_STATES,
} from '../../src/core/lifecycle.js';
import { KEYWAY_GROUP_NAME, NEVER_GRANTED_GROUPS, PRIVILEGED_GROUPS, validateGrantableGroup, validateGroupName, validateLoginShell } from '../../src/core/linux-names.js';
import { findFlow, findIntegration, peopleOverrides, selectServers, serverNames, serversOfFlow } from '../../src/core/lookup.js';
import { DEFAULT_GROUP, DEFAULT_MAX_PENDING_REQUESTS, DEFAULT_ONCALL_CACHE_SECONDS, DEFAULT_ONCALL_TIMEOUT_SECONDS, needsSshPublicKey, ONCALL_PROVIDERS } from '../../src/core/model.js';
import { findUsernameCollisions, usernameForEmail, validateUsername } from '../../src/core/username.js';
import { accessConfig, flow, integration, server } from '../helpers/access-config.js';
import { userErrorOf } from '../helpers/user-error.js';

describe('user names', () => {
  // Every name Keyway must never hand to a person: system accounts, service accounts, and every group name that
  // useradd would turn into a privileged own group.
  const RESERVED = [
    'root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy', 'www-data',
    'backup', 'list', 'irc', 'gnats', 'nobody', 'nogroup', 'systemd-network', 'systemd-resolve', 'systemd-timesync',
    'messagebus', 'sshd', 'syslog', 'adm', 'admin', 'administrator', 'sudo', 'wheel', 'shadow', 'staff', 'users',
    'operator', 'halt', 'shutdown', 'ftp', 'postgres', 'mysql', 'redis', 'nginx', 'apache', 'docker', 'ubuntu',
    'debian', 'ec2-user', 'centos', 'fedora', 'keyway', 'keyway-users', 'polkitd', 'tss', 'uuidd',
    'tcpdump', 'landscape', 'lxd', 'dnsmasq', 'chrony', 'ntp', 'postfix', '_apt', 'avahi', 'cups', 'git',
    'lxc', 'incus-admin', 'libvirt', 'microk8s', 'disk', 'kmem', 'systemd-journal',
  ];

  it('refuses every reserved name, saying so', () => {
    for (const name of RESERVED) {
      const error = userErrorOf(() => validateUsername(name), name);
      expect(error.code).toBe('username_invalid');
      expect(error.message).toBe(`"${name}" is a system or reserved account name and is never granted: set another linux_user for this person.`);
    }
  });

  it('accepts 1 to 32 characters and says what a valid name is', () => {
    expect(validateUsername('a')).toBe('a');
    expect(validateUsername(`a${'b'.repeat(31)}`)).toHaveLength(32);
    expect(userErrorOf(() => validateUsername(`a${'b'.repeat(32)}`)).message).toBe(
      `"a${'b'.repeat(32)}" is not a valid Linux username: use 1 to 32 characters of a-z, 0-9, "_" and "-", starting with a letter or "_".`,
    );
    expect(() => validateUsername('ana!')).toThrow(UserError);
    expect(() => validateUsername('!ana')).toThrow(UserError);
  });

  it('derives a name from the trimmed, lower-cased local part, prefixing one that starts with a digit or "-"', () => {
    expect(usernameForEmail('  Ana.Maria+ops@Example.com ')).toBe('ana_maria_ops');
    expect(usernameForEmail('1ana@example.com')).toBe('_1ana');
    expect(usernameForEmail('-ana@example.com')).toBe('_-ana');
    expect(usernameForEmail(`${'a'.repeat(40)}@example.com`)).toBe('a'.repeat(32));
    expect(usernameForEmail('Ana@Example.com', new Map([['ana@example.com', 'ana2']]))).toBe('ana2');
  });

  it('refuses a local part with other characters, naming the e-mail as given', () => {
    const error = userErrorOf(() => usernameForEmail('añа@example.com'));
    expect(error.code).toBe('username_invalid');
    expect(error.message).toBe(
      'Cannot derive a Linux username from "añа@example.com": it has characters outside a-z, 0-9, ".", "_", "-". Ask an admin to set linux_user for this person under people: in the config.',
    );
    expect(() => usernameForEmail('@example.com')).toThrow(/Cannot derive a Linux username/);
    expect(() => usernameForEmail('ñana@example.com')).toThrow(/Cannot derive a Linux username/);
    expect(usernameForEmail('a1-b@example.com')).toBe('a1-b');
  });

  it('reports each later e-mail that lands on a taken name, but not the same e-mail twice or one that cannot be derived', () => {
    expect(findUsernameCollisions(['a.b@x.com', 'A_B@y.com', 'a.b@x.com', 'añ@x.com', 'a+b@z.com'])).toEqual([
      ['a.b@x.com', 'a_b@y.com', 'a_b'],
      ['a.b@x.com', 'a+b@z.com', 'a_b'],
    ]);
  });
});

describe('Linux group names and shells', () => {
  it('knows exactly which groups are never granted and which are root-equivalent', () => {
    expect([...NEVER_GRANTED_GROUPS.keys()]).toEqual(['root', 'keyway-users']);
    expect(KEYWAY_GROUP_NAME).toBe('keyway-users');
    expect([...PRIVILEGED_GROUPS.keys()].sort()).toEqual([
      'adm', 'admin', 'disk', 'docker', 'incus-admin', 'kmem', 'libvirt', 'lxc', 'lxd', 'microk8s', 'shadow', 'staff', 'sudo', 'systemd-journal', 'wheel',
    ]);
  });

  it('gives every root-equivalent group its own reason, in the refusal', () => {
    for (const [group, reason] of PRIVILEGED_GROUPS) {
      expect(reason.length, group).toBeGreaterThan(30);
      const error = userErrorOf(() => validateGrantableGroup(group, { allowPrivileged: false, integration: 'prod' }));
      expect(error.code).toBe('config_invalid');
      expect(error.message).toBe(
        `the group "${group}" is root-equivalent (${reason}): remove it, or set allow_privileged_groups: true on integration "prod" if everyone it grants may act as root.`,
      );
    }
  });

  it('says why a group is refused, and where to allow a root-equivalent one', () => {
    expect(userErrorOf(() => validateGrantableGroup('keyway-users', { allowPrivileged: true })).message).toBe(
      'the group "keyway-users" is never granted: Keyway puts every account it creates in it and manages it itself. Remove it.',
    );
    expect(userErrorOf(() => validateGrantableGroup('docker', { allowPrivileged: false })).message).toBe(
      'the group "docker" is root-equivalent (the Docker socket starts containers as root with the host\'s files mounted): remove it, or set allow_privileged_groups: true on the integration if everyone it grants may act as root.',
    );
    expect(userErrorOf(() => validateGroupName('Dev')).message).toBe(
      '"Dev" is not a valid Linux group name: use 1 to 32 characters of a-z, 0-9, "_" and "-", starting with a letter or "_".',
    );
    expect(validateGroupName(`g${'x'.repeat(31)}`)).toHaveLength(32);
    expect(() => validateGroupName(`g${'x'.repeat(32)}`)).toThrow(UserError);
  });

  it('takes login shells up to 255 characters', () => {
    const longest = `/${'a'.repeat(254)}`;
    expect(validateLoginShell(longest)).toBe(longest);
    expect(userErrorOf(() => validateLoginShell(`${longest}a`)).code).toBe('config_invalid');
    expect(userErrorOf(() => validateLoginShell('/bin/../sh')).message).toBe(
      'login_shell "/bin/../sh" must be a normalised absolute path such as /bin/bash: no "..", "." or empty parts, only letters, digits, "/", "_", "." and "-".',
    );
    expect(() => validateLoginShell('/bin//sh')).toThrow(UserError);
    expect(validateLoginShell('/usr/bin/my_shell-2.1')).toBe('/usr/bin/my_shell-2.1');
  });
});

describe('durations', () => {
  it('reads each unit once, largest first, case and spaces aside', () => {
    expect(parseDuration(' 1D2H3M4S ')).toBe(86_400 + 7200 + 180 + 4);
    expect(parseDuration('90m')).toBe(5400);
    for (const text of ['1h1h', '30m1h', '1s1m']) {
      expect(userErrorOf(() => parseDuration(text)).message).toBe(`"${text}" is not a duration: give each unit once, largest first, like 1h30m.`);
    }
    for (const text of ['0s', '0h0m']) {
      expect(userErrorOf(() => parseDuration(text)).message).toBe(`"${text}" is not a usable duration: it must be more than zero.`);
    }
    expect(userErrorOf(() => parseDuration('99999999999999999d')).message).toMatch(/is not a usable duration/);
    for (const text of ['1x', 'h', '1 h', 'x1h', '1hx']) {
      const error = userErrorOf(() => parseDuration(text));
      expect(error.code).toBe('duration_invalid');
      expect(error.message).toBe(`"${text}" is not a duration: use a number and a unit, like 45s, 30m, 2h, 1d or 1h30m.`);
    }
  });

  it('writes the largest units first and drops empty ones', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(-5)).toBe('0s');
    expect(formatDuration(1)).toBe('1s');
    expect(formatDuration(90_061.9)).toBe('1d1h1m1s');
    expect(formatDuration(7200)).toBe('2h');
  });

  it('refuses a duration over the maximum, in the words of the caller', () => {
    expect(checkDuration(3600, 3600)).toBe(3600);
    expect(userErrorOf(() => checkDuration(3601, 3600)).message).toBe('1h1s is longer than this flow allows (1h at most): ask for 1h or less.');
    expect(userErrorOf(() => checkDuration(7200, 3600, 'the flow x allows')).message).toBe('2h is longer than the flow x allows (1h at most): ask for 1h or less.');
    expect(userErrorOf(() => checkDuration(7200, 3600, 'This Flow')).message).toMatch(/^2h is longer than this flow allows/);
  });
});

describe('lifecycles', () => {
  it('moves requests only out of pending, and grants only along their table', () => {
    for (const from of REQUEST_STATES) {
      for (const to of REQUEST_STATES) expect(canMoveRequest(from, to), `${from} → ${to}`).toBe(from === 'pending' && to !== 'pending');
      expect(isTerminalRequest(from)).toBe(from !== 'pending');
    }
    const allowed = new Set([
      'provisioning>active', 'provisioning>provision_failed', 'provisioning>revoking', 'provision_failed>provisioning', 'provision_failed>revoking',
      'active>revoking', 'revoking>revoked', 'revoking>revoke_failed', 'revoke_failed>revoking', 'revoked>cleaned',
    ]);
    for (const from of GRANT_STATES) for (const to of GRANT_STATES) expect(canMoveGrant(from, to), `${from} → ${to}`).toBe(allowed.has(`${from}>${to}`));
    expect(GRANT_STATES_WITH_ACCESS).toEqual(['provisioning', 'provision_failed', 'active', 'revoking', 'revoke_failed']);
  });

  it('says why a move is refused', () => {
    const pending = userErrorOf(() => assertRequestTransition(3, 'pending', 'pending'));
    expect(pending.code).toBe('invalid_transition');
    expect(pending.message).toBe('Request 3 cannot go from pending to pending.');
    const decided = userErrorOf(() => assertRequestTransition(3, 'denied', 'approved'));
    expect(decided.code).toBe('already_decided');
    expect(decided.message).toBe('Request 3 is already denied; it cannot become approved.');
    expect(() => assertRequestTransition(3, 'pending', 'approved')).not.toThrow();
    const grant = userErrorOf(() => assertGrantTransition(5, 'revoked', 'active'));
    expect(grant.code).toBe('invalid_transition');
    expect(grant.message).toBe('Grant 5 cannot go from revoked to active.');
    expect(() => assertGrantTransition(5, 'active', 'revoking')).not.toThrow();
  });
});

describe('lookups', () => {
  const config = accessConfig({
    integrations: [
      integration('a', [server('web-1', { tags: { env: 'prod', tier: 'web' } }), server('web-2', { tags: { env: 'dev', tier: 'web' } })]),
      integration('b', [server('db-1', { tags: { env: 'prod' } })]),
    ],
    flows: [flow('one', 'a'), flow('two', 'b')],
    people: [{ email: 'ana@example.com', linuxUser: 'ana' }],
  });

  it('finds integrations, flows and servers by exact name', () => {
    expect(findIntegration(config, 'b')?.name).toBe('b');
    expect(findIntegration(config, 'B')).toBeUndefined();
    expect(findFlow(config, 'two')?.name).toBe('two');
    expect(findFlow(config, 'three')).toBeUndefined();
    expect(serverNames(config)).toEqual(['web-1', 'web-2', 'db-1']);
    expect(peopleOverrides(config)).toEqual(new Map([['ana@example.com', 'ana']]));
  });

  it('selects named servers plus those matching every tag, in inventory order; nothing for an empty selector', () => {
    const a = config.integrations[0]!;
    expect(selectServers(a, { integration: 'a', servers: ['web-2'], tags: { env: 'prod', tier: 'web' } }).map((s) => s.name)).toEqual(['web-1', 'web-2']);
    expect(selectServers(a, { integration: 'a', servers: [], tags: { env: 'prod', tier: 'db' } })).toEqual([]);
    expect(selectServers(a, { integration: 'a', servers: [], tags: {} })).toEqual([]);
    expect(serversOfFlow(config, flow('gone', 'nowhere'))).toEqual([]);
    expect(serversOfFlow(config, flow('two', 'b')).map((ref) => [ref.integration.name, ref.server.name])).toEqual([['b', 'db-1']]);
  });
});

describe('model constants and kinds', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_GROUP).toBe('Default');
    expect(DEFAULT_MAX_PENDING_REQUESTS).toBe(5);
    expect(DEFAULT_ONCALL_CACHE_SECONDS).toBe(60);
    expect(DEFAULT_ONCALL_TIMEOUT_SECONDS).toBe(5);
    expect(ONCALL_PROVIDERS).toEqual(['pagerduty', 'opsgenie']);
  });

  it('needs an SSH public key for kinds that log in with an OpenSSH certificate only', () => {
    for (const type of ['ssh', 'aws-ec2', 'azure-vm']) expect(needsSshPublicKey({ type } as never)).toBe(true);
    for (const type of ['rdp', 'windows-dc']) expect(needsSshPublicKey({ type } as never)).toBe(false);
  });
});

describe('retry and warning times', () => {
  it('doubles from the base and stops at the cap', () => {
    expect(retryDelayMs(0)).toBe(15_000);
    expect(retryDelayMs(1)).toBe(15_000);
    expect(retryDelayMs(2)).toBe(30_000);
    expect(retryDelayMs(7)).toBe(900_000);
    expect(retryDelayMs(8)).toBe(900_000);
    expect(retryDelayMs(3, 100, 250)).toBe(250);
  });

  it('warns a quarter before the end, at most ten minutes before', () => {
    expect(expiryWarningAt(0, 4000)).toBe(3000);
    expect(expiryWarningAt(0, 3 * 3600_000)).toBe(3 * 3600_000 - 600_000);
    expect(expiryWarningAt(0, 40 * 60_000)).toBe(30 * 60_000);
    expect(expiryWarningAt(0, 7)).toBe(6);
  });
});

describe('error kinds', () => {
  it('tells refusals from outages', () => {
    const refusal = new UserError('not_allowed', 'no');
    const outage = new OutageError('host_unreachable', 'down');
    expect([refusal.name, refusal.kind, refusal.code, refusal.message]).toEqual(['UserError', 'refusal', 'not_allowed', 'no']);
    expect([outage.name, outage.kind]).toEqual(['OutageError', 'outage']);
    expect([isOutage(refusal), isOutage(outage), isOutage(new Error('x')), isUserError(outage), isUserError(new Error('x'))]).toEqual([false, true, false, true, false]);
  });
});
