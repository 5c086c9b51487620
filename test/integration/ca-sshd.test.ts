// The proof that Keyway's certificates work: a real sshd accepts them, and refuses the ones it must.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sshpk from 'sshpk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caKeyFromPrivateKeyText, generateCaKey, type CaKey } from '../../src/ca/ca-key.js';
import { signCertificate, validityWindow, type CertificateSpec } from '../../src/ca/certificate.js';
import { parseUserPublicKey, type UserPublicKey } from '../../src/ca/user-key.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { generateUserKey, sshRun } from '../helpers/ssh-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

const skipReason = rootTestSkipReason();
const PRINCIPAL = 'keyway-req-1';
const SSHD_CONFIG = ['TrustedUserCAKeys /etc/ssh/keyway_ca.pub', 'AuthorizedPrincipalsFile /etc/ssh/principals/%u'].join('\n');

/** How sshd names a CA key type in its log. */
function caLogName(ca: CaKey): string {
  return ca.keyType === 'ssh-ed25519' ? 'ED25519' : ca.keyType === 'ssh-rsa' ? 'RSA' : 'ECDSA';
}

function pemCa(curve: 'P-384' | 'P-521'): CaKey {
  return caKeyFromPrivateKeyText(generateKeyPairSync('ec', { namedCurve: curve }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
}

describe.skipIf(skipReason !== undefined)(`Keyway certificates on a real sshd${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let host: TestHost;
  let temp: { dir: string; remove(): void };
  const userKeys = new Map<string, { keyPath: string; key: UserPublicKey }>();
  const caKeys = new Map<string, CaKey>();
  let trustedCa: CaKey;
  let serial = 1000n;
  let certCount = 0;

  async function hostExec(command: string): Promise<string> {
    const result = await host.exec(command);
    if (result.code !== 0) throw new Error(`host command failed (${result.code}): ${command}\n${result.stderr}`);
    return result.stdout;
  }

  async function trust(ca: CaKey): Promise<void> {
    // sshd reads TrustedUserCAKeys at each authentication, so no restart is needed.
    await hostExec(`printf '%s\\n' '${ca.publicKeyLine}' > /etc/ssh/keyway_ca.pub`);
    trustedCa = ca;
  }

  function certify(ca: CaKey, userKeyType: string, overrides: Partial<CertificateSpec> = {}): { keyPath: string; certPath: string; keyId: string; serial: bigint } {
    const user = userKeys.get(userKeyType)!;
    const spec: CertificateSpec = {
      publicKey: user.key,
      serial: ++serial,
      keyId: `${PRINCIPAL}:alice@example.com:${host.name}`,
      principals: [PRINCIPAL],
      ...validityWindow(new Date(), 600),
      ...overrides,
    };
    const certPath = join(temp.dir, `cert-${++certCount}.pub`);
    writeFileSync(certPath, `${signCertificate(ca, spec).line}\n`);
    return { keyPath: user.keyPath, certPath, keyId: spec.keyId, serial: spec.serial };
  }

  /** Logs in as alice; returns ssh's result and what sshd logged about this login. */
  async function login(cert: { keyPath: string; certPath: string }, command = 'id -un') {
    const logStart = host.sshdLog().length;
    const result = await sshRun(host, { user: 'alice', keyPath: cert.keyPath, certPath: cert.certPath, command });
    // sshd may still be writing this connection's lines when ssh returns: wait for its closing line.
    const closed = /Disconnected from user|Connection closed by authenticating user/;
    for (let waited = 0; waited < 5000 && !closed.test(host.sshdLog().slice(logStart)); waited += 25) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return { ...result, sshdLog: host.sshdLog().slice(logStart) };
  }

  beforeAll(async () => {
    temp = makeTempDir('keyway-ca-sshd-');
    host = await startTestHost({ name: 'ca-host', extraSshdConfig: SSHD_CONFIG });
    await hostExec([
      "useradd -m -s /bin/bash -p '*' alice",
      'install -d -m 0755 /etc/ssh/principals',
      `printf '%s\\n' ${PRINCIPAL} > /etc/ssh/principals/alice`,
      'chmod 0644 /etc/ssh/principals/alice',
    ].join(' && '));
    for (const type of ['ed25519', 'ecdsa', 'rsa'] as const) {
      const generated = await generateUserKey(temp.dir, type);
      userKeys.set(type, { keyPath: generated.privateKeyPath, key: parseUserPublicKey(generated.publicKeyLine) });
    }
    caKeys.set('ed25519', generateCaKey('ed25519').caKey);
    caKeys.set('ecdsa-p256', generateCaKey('ecdsa').caKey);
    caKeys.set('ecdsa-p384', pemCa('P-384'));
    caKeys.set('ecdsa-p521', pemCa('P-521'));
    caKeys.set('rsa-3072', generateCaKey('rsa').caKey);
    await trust(caKeys.get('ed25519')!);
  });

  afterAll(async () => {
    await host?.stop();
    temp?.remove();
  });

  for (const caKind of ['ed25519', 'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'rsa-3072']) {
    for (const userKeyType of ['ed25519', 'ecdsa', 'rsa']) {
      it(`accepts a ${userKeyType} key certified by a ${caKind} CA, logging the key ID and serial`, async () => {
        const ca = caKeys.get(caKind)!;
        await trust(ca);
        const cert = certify(ca, userKeyType);
        const result = await login(cert);
        expect(result.stderr).toBe('');
        expect(result).toMatchObject({ code: 0, stdout: 'alice\n' });
        expect(result.sshdLog).toContain(`Accepted certificate ID "${cert.keyId}" (serial ${cert.serial}) signed by`);
        expect(result.sshdLog).toContain(`CA ${caLogName(ca)} ${ca.fingerprint}`);
      });
    }
  }

  describe('refusals', () => {
    beforeAll(async () => {
      await trust(caKeys.get('ed25519')!);
    });

    async function expectRefused(cert: { keyPath: string; certPath: string }, logged: string): Promise<void> {
      const result = await login(cert);
      expect(result.code).toBe(255);
      expect(result.stderr).toMatch(/Permission denied/);
      expect(result.sshdLog).toContain(logged);
      expect(result.sshdLog).not.toContain('Accepted');
    }

    it('refuses an expired certificate', async () => {
      const now = Math.floor(Date.now() / 1000);
      await expectRefused(certify(trustedCa, 'ed25519', { validAfter: now - 7200, validBefore: now - 3600 }), 'Certificate invalid: expired');
    });

    it('refuses a certificate that is not valid yet', async () => {
      const now = Math.floor(Date.now() / 1000);
      await expectRefused(certify(trustedCa, 'ed25519', { validAfter: now + 3600, validBefore: now + 7200 }), 'Certificate invalid: not yet valid');
    });

    it('refuses a certificate for another request (principal not in the principals file)', async () => {
      await expectRefused(certify(trustedCa, 'ed25519', { principals: ['keyway-req-2'] }), 'Certificate does not contain an authorized principal');
    });

    it('refuses a certificate signed by another CA', async () => {
      const otherCa = generateCaKey('ed25519').caKey;
      // At LogLevel VERBOSE sshd says only that the certificate failed, naming its CA.
      await expectRefused(certify(otherCa, 'ed25519'), `CA ED25519 ${otherCa.fingerprint}`);
    });

    it('refuses a certificate whose source-address excludes the client', async () => {
      await expectRefused(
        certify(trustedCa, 'ed25519', { criticalOptions: { sourceAddress: ['10.9.9.9/32'] } }),
        'not from a permitted source address',
      );
    });

    it('accepts a certificate whose source-address includes the client, and runs its force-command', async () => {
      const cert = certify(trustedCa, 'ed25519', {
        criticalOptions: { sourceAddress: ['10.9.9.9/32', '127.0.0.0/8'], forceCommand: 'echo forced-for-$USER' },
      });
      const result = await login(cert, 'id -un');
      expect(result).toMatchObject({ code: 0, stdout: 'forced-for-alice\n' });
    });

    it('refuses what sshpk.createCertificate makes with an RSA CA (ssh-rsa SHA-1 signature) — why Keyway signs itself', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
      const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
      const sshpkCa = sshpk.parsePrivateKey(pem, 'pem');
      await trust(caKeyFromPrivateKeyText(pem));
      try {
        const user = userKeys.get('ed25519')!;
        const certificate = sshpk.createCertificate(
          sshpk.identityForUser(PRINCIPAL),
          sshpk.parseKey(user.key.line, 'ssh'),
          sshpk.identityForUser('keyway-ca'),
          sshpkCa,
          { lifetime: 600, serial: Buffer.from([0, 0, 0, 0, 0, 0, 0x30, 0x39]) },
        );
        const certPath = join(temp.dir, 'sshpk-rsa-cert.pub');
        writeFileSync(certPath, `${certificate.toString('openssh')}\n`);
        await expectRefused({ keyPath: user.keyPath, certPath }, 'certificate signature algorithm ssh-rsa: signature algorithm not supported');
      } finally {
        await trust(caKeys.get('ed25519')!);
      }
    });
  });
});
