// Certificates signed per second: Keyway's signer against sshpk.createCertificate, in the same process and run.
import { generateKeyPairSync } from 'node:crypto';
import sshpk from 'sshpk';
import { generateCaKey, type CaKeyAlgorithm } from '../src/ca/ca-key.js';
import { signCertificate, validityWindow } from '../src/ca/certificate.js';
import { sshPublicKeyBlob } from '../src/ca/ssh-public-key.js';
import { parseUserPublicKey, type UserPublicKey } from '../src/ca/user-key.js';

const TARGET_RATIO = 100;
const TARGET_ED25519_PER_SECOND = 5_000;

interface Rate {
  count: number;
  seconds: number;
  perSecond: number;
}

/** Runs `once` until `seconds` have passed or `maxCount` runs are done, after a short warm-up. */
function measure(once: (i: number) => void, seconds: number, maxCount = Number.POSITIVE_INFINITY): Rate {
  for (let i = 0; i < 3; i++) once(i);
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let count = 0;
  let now = start;
  while (now < deadline && count < maxCount) {
    once(count);
    count++;
    now = process.hrtime.bigint();
  }
  const elapsed = Number(now - start) / 1e9;
  return { count, seconds: elapsed, perSecond: count / elapsed };
}

function ed25519UserKey(): UserPublicKey {
  const blob = sshPublicKeyBlob(generateKeyPairSync('ed25519').publicKey);
  return parseUserPublicKey(`ssh-ed25519 ${blob.toString('base64')} bench@keyway`);
}

function keywayRate(caType: CaKeyAlgorithm, publicKey: UserPublicKey, seconds: number): Rate {
  const { caKey } = generateCaKey(caType);
  return measure((i) => {
    signCertificate(caKey, {
      publicKey,
      serial: BigInt(i + 1),
      keyId: `keyway-req-${i + 1}:bench@example.com:web-1,web-2`,
      principals: [`keyway-req-${i + 1}`],
      ...validityWindow(new Date(), 3600),
      extensions: ['permit-pty'],
    });
  }, seconds);
}

function sshpkRate(publicKey: UserPublicKey, seconds: number, maxCount: number): Rate {
  const caKey = sshpk.generatePrivateKey('ed25519');
  const subjectKey = sshpk.parseKey(publicKey.line, 'ssh');
  const issuer = sshpk.identityForUser('keyway-ca');
  return measure((i) => {
    const serial = Buffer.alloc(8);
    serial.writeBigUInt64BE(BigInt(i + 1));
    const certificate = sshpk.createCertificate(sshpk.identityForUser(`keyway-req-${i + 1}`), subjectKey, issuer, caKey, {
      lifetime: 3600,
      serial,
    });
    certificate.toString('openssh');
  }, seconds, maxCount);
}

function formatRate(label: string, rate: Rate): string {
  const perSecond = Math.round(rate.perSecond).toLocaleString('en-US').padStart(9);
  return `  ${label.padEnd(42)} ${perSecond} certs/s  (${rate.count.toLocaleString('en-US')} in ${rate.seconds.toFixed(2)} s)`;
}

function verdict(met: boolean): string {
  return met ? 'met' : 'NOT MET';
}

export async function benchCa(): Promise<string[]> {
  const publicKey = ed25519UserKey();
  const keyway = keywayRate('ed25519', publicKey, 2);
  const viaSshpk = sshpkRate(publicKey, 2, 500);
  const ecdsa = keywayRate('ecdsa', publicKey, 0.5);
  const rsa = keywayRate('rsa', publicKey, 0.5);
  const ratio = keyway.perSecond / viaSshpk.perSecond;
  return [
    'SSH certificate signing (ed25519 user key, one core):',
    formatRate('Keyway signCertificate, ed25519 CA', keyway),
    formatRate('sshpk.createCertificate, ed25519 CA', viaSshpk),
    `  ratio: ${ratio.toFixed(0)}x  (target >= ${TARGET_RATIO}x: ${verdict(ratio >= TARGET_RATIO)}; ` +
      `target >= ${TARGET_ED25519_PER_SECOND.toLocaleString('en-US')} ed25519 certs/s: ${verdict(keyway.perSecond >= TARGET_ED25519_PER_SECOND)})`,
    formatRate('Keyway signCertificate, ECDSA P-256 CA', ecdsa),
    formatRate('Keyway signCertificate, RSA 3072 CA', rsa),
  ];
}
