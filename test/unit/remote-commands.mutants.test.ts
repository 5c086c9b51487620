// The edges of the command builder and its values (src/targets/ssh/remote-commands.ts, remote-values.ts): batch
// limits of every batch command, what each command says it is for, the exact argument words after the script, and
// the boundaries of UIDs, principals and CA key lines. Written for the mutants that survived `npm run mutate`.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  bootstrapCommand, checkBootstrapCommand, deleteAccountCommand, inspectAccountsCommand, MAX_BATCH_GRANTS,
  provisionBatchCommand, provisionPurpose, reconcileInspectCommand, revokeBatchCommand, revokePurpose, shellQuote, type RevokeSpec,
} from '../../src/targets/ssh/remote-commands.js';
import {
  caPublicKeyLine, FIRST_REGULAR_UID, grantableGroupIn, groupName, loginShell, managedUserName, principal, uid, type Uid,
} from '../../src/targets/ssh/remote-values.js';
import { userErrorOf } from '../helpers/user-error.js';

// Built inside the tests, not at import: a mutant that breaks them must fail a test, not the file's import (which
// Stryker does not count as a kill).
const CA_BASE64 = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
let user: ReturnType<typeof managedUserName>;
let ca: ReturnType<typeof caPublicKeyLine>;
beforeEach(() => {
  user = managedUserName('devhba');
  ca = caPublicKeyLine(`ssh-ed25519 ${CA_BASE64} keyway-ca`);
});

/** The words after the script: the $0 name, then each value single-quoted. */
function afterScript(text: string): string {
  return text.slice(text.lastIndexOf("' keyway-") + 2);
}

const provisionSpec = (n: number) => ({ user, uid: uid(60_000 + n), shell: loginShell('/bin/bash'), principal: principal(`keyway-req-${n}`), groups: [], recorded: false });
const revokeSpec = (n: number): RevokeSpec => ({ user, uid: uid(60_000 + n), principal: principal(`keyway-req-${n}`), groupsToRemove: [], endAccess: false });

describe('batch limits', () => {
  it('every batch command takes 1 to 40 and says so', () => {
    expect(MAX_BATCH_GRANTS).toBe(40);
    const range = { min: uid(60_000), max: uid(64_999) };
    expect(() => provisionBatchCommand([])).toThrow(new RangeError('a batch holds 1 to 40 grants, not 0'));
    expect(() => revokeBatchCommand([])).toThrow(new RangeError('a batch holds 1 to 40 grants, not 0'));
    expect(() => inspectAccountsCommand([], range)).toThrow(new RangeError('a batch holds 1 to 40 accounts, not 0'));
    const over = Array.from({ length: 41 }, (_, i) => i + 1);
    expect(() => provisionBatchCommand(over.map(provisionSpec))).toThrow(new RangeError('a batch holds 1 to 40 grants, not 41'));
    expect(() => revokeBatchCommand(over.map(revokeSpec))).toThrow(new RangeError('a batch holds 1 to 40 grants, not 41'));
    expect(() => inspectAccountsCommand(over.map(() => user), range)).toThrow(new RangeError('a batch holds 1 to 40 accounts, not 41'));
    const full = over.slice(0, 40);
    expect(provisionBatchCommand(full.map(provisionSpec)).purpose).toBe('provision 40 grants (keyway-req-1, keyway-req-2, …)');
    expect(inspectAccountsCommand(full.map(() => user), range).purpose).toBe('inspect 40 accounts (devhba, devhba, …)');
  });
});

describe('what a command says it is for', () => {
  it('names one, two and three grants or accounts, shortening only past two', () => {
    expect(provisionBatchCommand([provisionSpec(1)]).purpose).toBe('provision 1 grant (keyway-req-1)');
    expect(revokeBatchCommand([revokeSpec(1), revokeSpec(2)]).purpose).toBe('revoke 2 grants (keyway-req-1, keyway-req-2)');
    expect(revokeBatchCommand([revokeSpec(1), revokeSpec(2), revokeSpec(3)]).purpose).toBe('revoke 3 grants (keyway-req-1, keyway-req-2, …)');
    const range = { min: uid(60_000), max: uid(64_999) };
    const ana = managedUserName('ana');
    const bo = managedUserName('bo');
    expect(inspectAccountsCommand([user], range).purpose).toBe('inspect 1 account (devhba)');
    expect(inspectAccountsCommand([user, ana], range).purpose).toBe('inspect 2 accounts (devhba, ana)');
    expect(inspectAccountsCommand([user, ana, bo], range).purpose).toBe('inspect 3 accounts (devhba, ana, …)');
  });

  it('names the account, the grant or the task of each single command', () => {
    expect(deleteAccountCommand(user, uid(60_001)).purpose).toBe('delete the account devhba');
    expect(bootstrapCommand(ca).purpose).toBe('bootstrap Keyway (CA key, principals directory, sshd drop-in, group)');
    expect(checkBootstrapCommand(ca).purpose).toBe("check Keyway's settings");
    expect(reconcileInspectCommand().purpose).toBe("list Keyway's principals and managed accounts");
    expect(provisionPurpose({ user, principal: principal('keyway-req-7') })).toBe('provision devhba for keyway-req-7');
    expect(revokePurpose({ user, principal: principal('keyway-req-7') })).toBe('revoke keyway-req-7 from devhba');
  });
});

describe('the words after the script', () => {
  it('inspect never looks below the first regular UID, whatever range it is given', () => {
    expect(afterScript(inspectAccountsCommand([user], { min: uid(60_000), max: uid(64_999) }).text)).toBe("keyway-inspect-batch '60000' '64999' 'devhba'");
    expect(afterScript(inspectAccountsCommand([user], { min: 500 as Uid, max: uid(64_999) }).text)).toBe("keyway-inspect-batch '1000' '64999' 'devhba'");
  });

  it('delete, bootstrap, check and reconcile carry exactly their values', () => {
    expect(afterScript(deleteAccountCommand(user, uid(60_001)).text)).toBe("keyway-delete 'devhba' '60001'");
    expect(afterScript(bootstrapCommand(ca).text)).toBe(`keyway-bootstrap 'ssh-ed25519 ${CA_BASE64} keyway-ca'`);
    expect(afterScript(checkBootstrapCommand(ca).text)).toBe(`keyway-check 'ssh-ed25519 ${CA_BASE64} keyway-ca'`);
    expect(afterScript(checkBootstrapCommand(undefined).text)).toBe("keyway-check ''");
    expect(reconcileInspectCommand().text.endsWith("' keyway-reconcile-inspect")).toBe(true);
  });

  it('every command starts with sudo -n sh -c and the quoted script', () => {
    expect(deleteAccountCommand(user, uid(60_001)).text.startsWith("sudo -n sh -c '")).toBe(true);
  });

  it('a NUL byte is refused with the reason', () => {
    expect(() => shellQuote('a\0b')).toThrow(new RangeError('a shell argument cannot contain a NUL byte'));
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});

describe('remote values at their edges', () => {
  it('UIDs from 1000 to 2^31-2, except nobody, with the range in the refusal', () => {
    expect(FIRST_REGULAR_UID).toBe(1000);
    expect(uid(1000)).toBe(1000);
    expect(uid(2 ** 31 - 2)).toBe(2 ** 31 - 2);
    expect(uid(65_533)).toBe(65_533);
    expect(uid(65_535)).toBe(65_535);
    expect(() => uid(2 ** 31 - 1)).toThrow(new RangeError('UID 2147483647 is not one Keyway creates accounts with (1000-2147483646, not 65534)'));
    expect(() => uid(999)).toThrow(new RangeError('UID 999 is not one Keyway creates accounts with (1000-2147483646, not 65534)'));
    expect(() => uid(2 ** 53)).toThrow(RangeError);
  });

  it('principals of 1 to 64 characters, refused with what to use', () => {
    expect(principal('a')).toBe('a');
    expect(principal(`a${'b'.repeat(63)}`)).toHaveLength(64);
    const error = userErrorOf(() => principal('-x'));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toBe('"-x" is not a principal Keyway writes: use 1 to 64 characters of a-z, 0-9, ".", "_", "@" and "-".');
    expect(() => principal('keyway-req-1 ')).toThrow();
  });

  it('CA key lines of each type, with or without a comment, and the refusal', () => {
    for (const type of ['ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521']) {
      expect(caPublicKeyLine(`${type} ${CA_BASE64}`)).toBe(`${type} ${CA_BASE64}`);
    }
    expect(caPublicKeyLine(`ssh-ed25519 ${'A'.repeat(16)}==`)).toBe(`ssh-ed25519 ${'A'.repeat(16)}==`);
    expect(caPublicKeyLine(`ssh-ed25519 ${CA_BASE64} ${'c'.repeat(64)}`)).toContain('c'.repeat(64));
    for (const bad of [`ssh-ed25519 ${'A'.repeat(15)}`, `ssh-ed25519 ${CA_BASE64} ${'c'.repeat(65)}`, `ssh-ed25519 ${CA_BASE64}===`, `xssh-ed25519 ${CA_BASE64}`,
      `ssh-ed25519 ${CA_BASE64} ca x`, `ecdsa-sha2-nistp512 ${CA_BASE64}`]) {
      const error = userErrorOf(() => caPublicKeyLine(bad));
      expect(error.code).toBe('ca_key_invalid');
      expect(error.message).toBe('The CA public key is not one OpenSSH public key line (type, base64, optional comment).');
    }
  });

  it('root-equivalent groups only where the integration allows them, naming it', () => {
    expect(() => grantableGroupIn({ name: 'prod', allowPrivilegedGroups: false })('docker')).toThrow(/allow_privileged_groups: true on integration "prod"/);
    expect(grantableGroupIn({ name: 'prod', allowPrivilegedGroups: true })('docker')).toBe('docker');
    expect(groupName('_a-1')).toBe('_a-1');
  });
});
