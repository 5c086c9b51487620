// NTLMv2 for WinRM's HTTP authentication (MS-NLMP): the NEGOTIATE message, reading the server's CHALLENGE, and the
// AUTHENTICATE message. NTLMv2 only: a server that offers no target info (NTLMv1 only) is refused, never answered
// with an LM or NTLMv1 response. Over TLS the AUTHENTICATE carries a channel binding (MS-NLMP 2.2.2.1,
// MsvAvChannelBindings; RFC 5929 tls-server-end-point), so a login cannot be relayed to another server.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { md4 } from './md4.js';

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

export const NTLM_FLAGS = {
  unicode: 0x00000001,
  requestTarget: 0x00000004,
  ntlm: 0x00000200,
  alwaysSign: 0x00008000,
  extendedSessionSecurity: 0x00080000,
  targetInfo: 0x00800000,
  bits128: 0x20000000,
  bits56: 0x80000000,
} as const;

const CLIENT_FLAGS = (NTLM_FLAGS.unicode | NTLM_FLAGS.requestTarget | NTLM_FLAGS.ntlm | NTLM_FLAGS.alwaysSign
  | NTLM_FLAGS.extendedSessionSecurity | NTLM_FLAGS.targetInfo | NTLM_FLAGS.bits128 | NTLM_FLAGS.bits56) >>> 0;

/** AV_PAIR ids (MS-NLMP 2.2.2.1) that Keyway reads or writes. */
export const AV = { eol: 0, nbComputerName: 1, nbDomainName: 2, dnsComputerName: 3, timestamp: 7, channelBindings: 10 } as const;

export interface AvPair {
  id: number;
  value: Buffer;
}

export function encodeAvPairs(pairs: readonly AvPair[]): Buffer {
  const parts = pairs.filter((p) => p.id !== AV.eol).flatMap((p) => {
    const header = Buffer.alloc(4);
    header.writeUInt16LE(p.id, 0);
    header.writeUInt16LE(p.value.length, 2);
    return [header, p.value];
  });
  return Buffer.concat([...parts, Buffer.alloc(4)]);
}

export function decodeAvPairs(buffer: Buffer): AvPair[] {
  const pairs: AvPair[] = [];
  let at = 0;
  while (at + 4 <= buffer.length) {
    const id = buffer.readUInt16LE(at);
    const length = buffer.readUInt16LE(at + 2);
    if (id === AV.eol) return pairs;
    if (at + 4 + length > buffer.length) break;
    pairs.push({ id, value: buffer.subarray(at + 4, at + 4 + length) });
    at += 4 + length;
  }
  throw new Error('NTLM target info is malformed (no end-of-list entry)');
}

/** A (length, max length, offset) field of an NTLM message, bounds-checked. */
export function readField(message: Buffer, at: number): Buffer {
  if (at + 8 > message.length) throw new Error('NTLM message is too short');
  const length = message.readUInt16LE(at);
  const offset = message.readUInt32LE(at + 4);
  if (length === 0) return Buffer.alloc(0);
  if (offset + length > message.length) throw new Error('NTLM message field points past its end');
  return message.subarray(offset, offset + length);
}

export function checkSignature(message: Buffer, type: number): void {
  if (message.length < 12 || !message.subarray(0, 8).equals(SIGNATURE) || message.readUInt32LE(8) !== type) {
    throw new Error(`not an NTLM type ${type} message`);
  }
}

export function negotiateMessage(): Buffer {
  const message = Buffer.alloc(32);
  SIGNATURE.copy(message);
  message.writeUInt32LE(1, 8);
  message.writeUInt32LE(CLIENT_FLAGS, 12);
  return message; // domain and workstation fields stay empty (offset 0)
}

export interface Challenge {
  flags: number;
  serverChallenge: Buffer;
  targetInfo: Buffer;
}

export function parseChallenge(message: Buffer): Challenge {
  checkSignature(message, 2);
  if (message.length < 48) throw new Error('NTLM challenge is too short');
  const flags = message.readUInt32LE(20);
  const targetInfo = (flags & NTLM_FLAGS.targetInfo) ? readField(message, 40) : Buffer.alloc(0);
  if (targetInfo.length === 0) {
    throw new Error('the server offers only NTLMv1 (its challenge has no target info); Keyway speaks NTLMv2 only');
  }
  decodeAvPairs(targetInfo);
  return { flags, serverChallenge: Buffer.from(message.subarray(24, 32)), targetInfo };
}

/** NTOWFv2 (MS-NLMP 3.3.2): HMAC-MD5 keyed with the NT hash over the upper-cased user and the domain, UTF-16LE. */
export function ntowfv2(password: string, user: string, domain: string): Buffer {
  const ntHash = md4(Buffer.from(password, 'utf16le'));
  return createHmac('md5', ntHash).update(Buffer.from(user.toUpperCase() + domain, 'utf16le')).digest();
}

/** NTProofStr: HMAC-MD5(ResponseKeyNT, ServerChallenge ‖ temp); the NT response is NTProofStr ‖ temp. */
export function ntProof(responseKey: Buffer, serverChallenge: Buffer, temp: Buffer): Buffer {
  return createHmac('md5', responseKey).update(Buffer.concat([serverChallenge, temp])).digest();
}

/** The NTLMv2 client blob `temp` (MS-NLMP 3.3.2) around the target info the client sends back. */
export function clientBlob(time: Buffer, clientChallenge: Buffer, targetInfo: Buffer): Buffer {
  return Buffer.concat([Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]), time, clientChallenge, Buffer.alloc(4), targetInfo, Buffer.alloc(4)]);
}

/** MD5 of gss_channel_bindings_struct with only application data: "tls-server-end-point:" ‖ SHA-256(server cert DER). */
export function channelBindingHash(serverCertificateDer: Buffer): Buffer {
  const applicationData = Buffer.concat([Buffer.from('tls-server-end-point:', 'latin1'), createHash('sha256').update(serverCertificateDer).digest()]);
  const header = Buffer.alloc(20);
  header.writeUInt32LE(applicationData.length, 16);
  return createHash('md5').update(Buffer.concat([header, applicationData])).digest();
}

/** Windows FILETIME (100 ns since 1601-01-01) as 8 little-endian bytes. */
function fileTime(now: Date): Buffer {
  const time = Buffer.alloc(8);
  time.writeBigUInt64LE((BigInt(now.getTime()) + 11_644_473_600_000n) * 10_000n);
  return time;
}

export interface Identity {
  user: string;
  domain: string;
  password: string;
}

/** Splits `DOMAIN\user` (or a bare local `user`) for NTLM; `user@domain` is sent whole with an empty domain, as Windows accepts. */
export function ntlmIdentity(login: string, password: string): Identity {
  const slash = login.indexOf('\\');
  return slash < 0 ? { user: login, domain: '', password } : { user: login.slice(slash + 1), domain: login.slice(0, slash), password };
}

export function authenticateMessage(challenge: Challenge, identity: Identity, serverCertificateDer?: Buffer, now = new Date()): Buffer {
  const serverPairs = decodeAvPairs(challenge.targetInfo);
  const serverTime = serverPairs.find((p) => p.id === AV.timestamp)?.value;
  const pairs = serverPairs.filter((p) => p.id !== AV.channelBindings);
  if (serverCertificateDer) pairs.push({ id: AV.channelBindings, value: channelBindingHash(serverCertificateDer) });
  const clientChallenge = randomBytes(8);
  const responseKey = ntowfv2(identity.password, identity.user, identity.domain);
  const temp = clientBlob(serverTime ?? fileTime(now), clientChallenge, encodeAvPairs(pairs));
  const ntResponse = Buffer.concat([ntProof(responseKey, challenge.serverChallenge, temp), temp]);
  // With a server timestamp the LMv2 response must be zeros (MS-NLMP 3.1.5.1.2).
  const lmResponse = serverTime ? Buffer.alloc(24)
    : Buffer.concat([createHmac('md5', responseKey).update(Buffer.concat([challenge.serverChallenge, clientChallenge])).digest(), clientChallenge]);

  const payload = [lmResponse, ntResponse, Buffer.from(identity.domain, 'utf16le'), Buffer.from(identity.user, 'utf16le'), Buffer.alloc(0), Buffer.alloc(0)];
  const header = Buffer.alloc(64);
  SIGNATURE.copy(header);
  header.writeUInt32LE(3, 8);
  let offset = header.length;
  payload.forEach((field, i) => {
    const at = 12 + i * 8; // Lm, Nt, Domain, User, Workstation, EncryptedRandomSessionKey
    header.writeUInt16LE(field.length, at);
    header.writeUInt16LE(field.length, at + 2);
    header.writeUInt32LE(offset, at + 4);
    offset += field.length;
  });
  header.writeUInt32LE((CLIENT_FLAGS & ~NTLM_FLAGS.requestTarget) >>> 0, 60);
  return Buffer.concat([header, ...payload]);
}
