// The certificate Keyway would issue for a request (its only principal names the request), signed by a test CA for
// the person's key and written to DIR/cert-<id>.pub: what host-level tests log in with, without the access layer.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaKey } from '../../src/ca/ca-key.js';
import { signCertificate, validityWindow } from '../../src/ca/certificate.js';
import { parseUserPublicKey } from '../../src/ca/user-key.js';

export interface RequestCertificate {
  ca: CaKey;
  publicKeyLine: string;
  /** For the key id, as Keyway writes it: keyway-req-<id>_<person>. */
  person: string;
  requestId: number;
  serial: bigint;
  dir: string;
}

/** Returns the path of the written certificate. */
export function writeRequestCertificate(c: RequestCertificate): string {
  const signed = signCertificate(c.ca, {
    publicKey: parseUserPublicKey(c.publicKeyLine), serial: c.serial, keyId: `keyway-req-${c.requestId}_${c.person}`,
    principals: [`keyway-req-${c.requestId}`], ...validityWindow(new Date(), 3600),
  });
  const path = join(c.dir, `cert-${c.requestId}.pub`);
  writeFileSync(path, `${signed.line}\n`);
  return path;
}
