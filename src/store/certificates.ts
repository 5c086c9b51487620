// The certificates Keyway signed (table certificates). A row is written before signing, so its serial is the
// certificate's serial and a crash between signing and delivery leaves a record that recovery finds; the
// certificate line is added once signed.
import type { Database } from 'better-sqlite3';
import { statement } from './statements.js';

export interface NewCertificateRow {
  /** The request it was issued for; null for a certificate signed by hand (keyway ca sign). */
  requestId: number | null;
  /**
   * The key id the certificate carries, exactly. A key id that names the serial (ca sign's `manual-<serial>`)
   * is given as a function of the serial the row gets.
   */
  keyId: string | ((serial: number) => string);
  principals: readonly string[];
  keyFingerprint: string;
  caFingerprint: string;
  /** Unix seconds, as in the certificate. */
  validAfter: number;
  validBefore: number;
  issuedAt: number;
}

export interface StoredCertificate {
  serial: number;
  line: string;
  validAfter: number;
  validBefore: number;
}

/** Records a certificate about to be signed; returns its serial and the key id recorded. */
export function insertCertificateRow(db: Database, row: NewCertificateRow): { serial: number; keyId: string } {
  return db.transaction(() => {
    const fixedKeyId = typeof row.keyId === 'string' ? row.keyId : '';
    const serial = Number(statement(db, `INSERT INTO certificates (request_id, key_id, principals, key_fingerprint, ca_fingerprint, valid_after, valid_before, issued_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(row.requestId, fixedKeyId, JSON.stringify(row.principals), row.keyFingerprint, row.caFingerprint, row.validAfter, row.validBefore, row.issuedAt).lastInsertRowid);
    if (typeof row.keyId === 'string') return { serial, keyId: fixedKeyId };
    const keyId = row.keyId(serial);
    statement(db, 'UPDATE certificates SET key_id = ? WHERE serial = ?').run(keyId, serial);
    return { serial, keyId };
  })();
}

/** Stores the signed certificate line on its row. */
export function setCertificateLine(db: Database, serial: number, line: string): void {
  statement(db, 'UPDATE certificates SET certificate = ? WHERE serial = ?').run(line, serial);
}

/** The request's latest signed certificate (after an extension, the re-issued one). */
export function latestCertificateOf(db: Database, requestId: number): StoredCertificate | undefined {
  const row = statement(db, 'SELECT serial, certificate, valid_after, valid_before FROM certificates WHERE request_id = ? AND certificate IS NOT NULL ORDER BY serial DESC LIMIT 1')
    .get(requestId) as { serial: number; certificate: string; valid_after: number; valid_before: number } | undefined;
  return row && { serial: row.serial, line: row.certificate, validAfter: row.valid_after, validBefore: row.valid_before };
}
