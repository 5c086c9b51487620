// The server side of NTLMv2 for the WinRM stand-in (MS-NLMP 3.2.5): a CHALLENGE with target info and a timestamp,
// and the check of an AUTHENTICATE against the admin's password. NTLMv1 and LM answers are refused, as a server
// with "Send NTLMv2 response only. Refuse LM & NTLM" does. With a server certificate, the channel binding must match.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  AV, channelBindingHash, checkSignature, decodeAvPairs, encodeAvPairs, NTLM_FLAGS, ntowfv2, ntProof, readField,
} from '../../src/targets/windows/rdp/ntlm.js';

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

export interface IssuedChallenge {
  serverChallenge: Buffer;
  message: Buffer;
}

function utf16(text: string): Buffer {
  return Buffer.from(text, 'utf16le');
}

export function challengeFor(negotiate: Buffer, computerName: string, domainName: string, now = new Date()): IssuedChallenge {
  checkSignature(negotiate, 1);
  const serverChallenge = randomBytes(8);
  const time = Buffer.alloc(8);
  time.writeBigUInt64LE((BigInt(now.getTime()) + 11_644_473_600_000n) * 10_000n);
  const targetName = utf16(computerName);
  const targetInfo = encodeAvPairs([
    { id: AV.nbDomainName, value: utf16(domainName) },
    { id: AV.nbComputerName, value: utf16(computerName) },
    { id: AV.dnsComputerName, value: utf16(computerName.toLowerCase()) },
    { id: AV.timestamp, value: time },
  ]);
  const header = Buffer.alloc(56);
  SIGNATURE.copy(header);
  header.writeUInt32LE(2, 8);
  header.writeUInt16LE(targetName.length, 12);
  header.writeUInt16LE(targetName.length, 14);
  header.writeUInt32LE(56, 16);
  const flags = NTLM_FLAGS.unicode | NTLM_FLAGS.requestTarget | NTLM_FLAGS.ntlm | NTLM_FLAGS.alwaysSign
    | NTLM_FLAGS.extendedSessionSecurity | NTLM_FLAGS.targetInfo | NTLM_FLAGS.bits128 | NTLM_FLAGS.bits56;
  header.writeUInt32LE(flags >>> 0, 20);
  serverChallenge.copy(header, 24);
  header.writeUInt16LE(targetInfo.length, 40);
  header.writeUInt16LE(targetInfo.length, 42);
  header.writeUInt32LE(56 + targetName.length, 44);
  return { serverChallenge, message: Buffer.concat([header, targetName, targetInfo]) };
}

export type NtlmVerdict = { ok: true; user: string; domain: string } | { ok: false; reason: string };

export function verifyAuthenticate(message: Buffer, challenge: IssuedChallenge, admin: { user: string; password: string },
  serverCertificateDer: Buffer | undefined): NtlmVerdict {
  checkSignature(message, 3);
  const ntResponse = readField(message, 20);
  const domain = readField(message, 28).toString('utf16le');
  const user = readField(message, 36).toString('utf16le');
  if (ntResponse.length <= 24) return { ok: false, reason: 'an NTLMv1 or LM response (refused: NTLMv2 only)' };
  if (user.toLowerCase() !== admin.user.toLowerCase()) return { ok: false, reason: `unknown user ${user}` };
  const proof = ntResponse.subarray(0, 16);
  const temp = ntResponse.subarray(16);
  const expected = ntProof(ntowfv2(admin.password, user, domain), challenge.serverChallenge, temp);
  if (!timingSafeEqual(proof, expected)) return { ok: false, reason: 'wrong password' };
  if (serverCertificateDer) {
    const pairs = decodeAvPairs(temp.subarray(28));
    const binding = pairs.find((p) => p.id === AV.channelBindings)?.value;
    if (!binding || !binding.equals(channelBindingHash(serverCertificateDer))) return { ok: false, reason: 'missing or wrong channel binding' };
  }
  return { ok: true, user, domain };
}
