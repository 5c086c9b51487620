import { readFileSync } from 'node:fs';
import { initCaKey, loadCaKey } from '../../ca/ca-key.js';
import { CertificateSpecError, signCertificate, validityWindow } from '../../ca/certificate.js';
import { parseUserPublicKey } from '../../ca/user-key.js';
import { parseDuration } from '../../core/duration.js';
import { appendAudit } from '../../store/audit-log.js';
import { insertCertificateRow, setCertificateLine } from '../../store/certificates.js';
import { readSettings } from '../../settings.js';
import { UsageError, listOption, stringOption, type Command } from '../command.js';
import { cliActor, withRuntime } from '../runtime.js';

export const caInit: Command = {
  name: 'ca init',
  summary: 'generate the ed25519 CA key in KEYWAY_DATA_DIR (does nothing if one exists)',
  usage: 'keyway ca init [--type ed25519|ecdsa|rsa]',
  options: { type: { type: 'string', value: 'TYPE', description: 'the key type: ed25519 (default), ecdsa or rsa' } },
  run(args, io) {
    const type = stringOption(args, 'type') ?? 'ed25519';
    if (type !== 'ed25519' && type !== 'ecdsa' && type !== 'rsa') throw new UsageError('--type must be ed25519, ecdsa or rsa');
    if (io.env.SSH_CA_KEY_FILE || io.env.SSH_CA_KEY_BASE64) {
      io.out('SSH_CA_KEY_FILE or SSH_CA_KEY_BASE64 is set: Keyway uses that key, nothing to generate.');
      return;
    }
    const { caKey, path, created, warnings } = initCaKey(readSettings(io.env).dataDir, type);
    for (const w of warnings) io.err(`warning: ${w}`);
    io.out(created ? `Generated a new CA key in ${path} (mode 0600). Its public key, for TrustedUserCAKeys:` : `A CA key already exists in ${path}; kept it. Its public key:`);
    io.out(caKey.publicKeyLine);
  },
};

export const caPublicKey: Command = {
  name: 'ca public-key',
  summary: "print the CA's public key line for sshd's TrustedUserCAKeys",
  usage: 'keyway ca public-key',
  run(_args, io) {
    io.out(loadCaKey(io.env).caKey.publicKeyLine);
  },
};

export const caSign: Command = {
  name: 'ca sign',
  summary: 'sign a user certificate by hand (scripts, break-glass); audited',
  usage: 'keyway ca sign --key USER.pub --principal P [--principal P2] --ttl 1h [--key-id ID] [--serial N] [--source-address CIDR] [--extension permit-pty …]',
  options: {
    key: { type: 'string', value: 'FILE', description: "the user's public key file (USER.pub)" },
    principal: { type: 'string', multiple: true, value: 'NAME', description: 'a principal the certificate names' },
    ttl: { type: 'string', value: 'DURATION', description: 'how long it is valid, like 1h' },
    'key-id': { type: 'string', value: 'ID', description: "the certificate's key id, for sshd's log (default manual-SERIAL)" },
    serial: { type: 'string', value: 'N', description: 'a serial of your own (default: the next of Keyway\'s)' },
    'source-address': { type: 'string', multiple: true, value: 'CIDR', description: 'only from these addresses' },
    extension: { type: 'string', multiple: true, value: 'NAME', description: 'an extension such as permit-pty (default: the usual set)' },
    'force-command': { type: 'string', value: 'COMMAND', description: 'run only this command' },
  },
  run(args, io) {
    const keyFile = stringOption(args, 'key');
    const principals = listOption(args, 'principal');
    const ttl = stringOption(args, 'ttl');
    if (!keyFile) throw new UsageError('give the user public key with --key USER.pub');
    if (principals.length === 0) throw new UsageError('give at least one --principal (a certificate without principals is never issued)');
    if (!ttl) throw new UsageError('give the validity with --ttl, like 1h');
    const serialText = stringOption(args, 'serial');
    if (serialText !== undefined && !/^[1-9][0-9]{0,19}$/.test(serialText)) throw new UsageError('--serial must be a positive number');
    const publicKey = parseUserPublicKey(readFileSync(keyFile, 'utf8'));
    const { caKey } = loadCaKey(io.env);
    const window = validityWindow(new Date(), parseDuration(ttl));
    const extensions = listOption(args, 'extension');
    const sourceAddress = listOption(args, 'source-address');
    const givenKeyId = stringOption(args, 'key-id');
    const forceCommand = stringOption(args, 'force-command');
    const sign = (serial: bigint, keyId: string): string => {
      try {
        return signCertificate(caKey, {
          publicKey, serial, keyId, principals, ...window,
          extensions: extensions.length > 0 ? extensions : undefined,
          criticalOptions: sourceAddress.length > 0 || forceCommand
            ? { sourceAddress: sourceAddress.length > 0 ? sourceAddress : undefined, forceCommand }
            : undefined,
        }).line;
      } catch (error) {
        if (error instanceof CertificateSpecError) throw new UsageError(error.message);
        throw error;
      }
    };
    return withRuntime(io, (rt) => {
      const now = rt.now();
      const signed = rt.db.transaction(() => {
        // A serial given by hand is the caller's to track; otherwise the serial comes from the same table as
        // Keyway's own, and the row records the key id the certificate carries.
        if (serialText !== undefined) {
          const serial = BigInt(serialText);
          const keyId = givenKeyId ?? `manual-${serial}`;
          return { serial, keyId, line: sign(serial, keyId) };
        }
        const row = insertCertificateRow(rt.db, {
          requestId: null, keyId: givenKeyId ?? ((serial) => `manual-${serial}`), principals,
          keyFingerprint: publicKey.fingerprint, caFingerprint: caKey.fingerprint, ...window, issuedAt: now,
        });
        const line = sign(BigInt(row.serial), row.keyId);
        setCertificateLine(rt.db, row.serial, line);
        return { serial: BigInt(row.serial), keyId: row.keyId, line };
      }).immediate();
      const { serial, keyId } = signed;
      appendAudit(rt.db, { actor: cliActor(), action: 'certificate.signed_by_hand', subject: `serial:${serial}`, details: { keyId, principals, key: publicKey.fingerprint, validBefore: window.validBefore } }, now);
      io.out(signed.line);
    }, { config: false });
  },
};
