import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { md4 } from '../../src/targets/windows/rdp/md4.js';
import {
  authenticateMessage, AV, clientBlob, encodeAvPairs, negotiateMessage, ntlmIdentity, ntowfv2, ntProof, parseChallenge,
} from '../../src/targets/windows/rdp/ntlm.js';
import { challengeFor, verifyAuthenticate } from '../helpers/fake-winrm-ntlm.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('MD4 (RFC 1320 test suite)', () => {
  it.each([
    ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
    ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
    ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
    ['message digest', 'd9130a8164549fe818874806e1c7014b'],
    ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
    ['1234567890'.repeat(8), 'e33b4ddc9c38f2199c3e7b164fcc0536'],
  ])('md4(%j) is %s', (input, digest) => {
    expect(md4(Buffer.from(input, 'latin1')).toString('hex')).toBe(digest);
  });
});

describe('NTLMv2 (MS-NLMP 4.2.4 test vectors)', () => {
  const serverChallenge = hex('0123456789abcdef');
  const clientChallenge = hex('aaaaaaaaaaaaaaaa');
  const time = Buffer.alloc(8);
  const targetInfo = encodeAvPairs([
    { id: AV.nbDomainName, value: Buffer.from('Domain', 'utf16le') },
    { id: AV.nbComputerName, value: Buffer.from('Server', 'utf16le') },
  ]);

  it('derives NTOWFv2, NTProofStr, the session base key and the LMv2 response of the specification', () => {
    const key = ntowfv2('Password', 'User', 'Domain');
    expect(key.toString('hex')).toBe('0c868a403bfd7a93a3001ef22ef02e3f');
    const temp = clientBlob(time, clientChallenge, targetInfo);
    expect(temp.toString('hex')).toBe(hex(`01 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 aa aa aa aa aa aa aa aa 00 00 00 00
      02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00 01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00 00 00 00 00 00 00 00 00`).toString('hex'));
    const proof = ntProof(key, serverChallenge, temp);
    expect(proof.toString('hex')).toBe('68cd0ab851e51c96aabc927bebef6a1c');
    expect(createHmac('md5', key).update(proof).digest().toString('hex')).toBe('8de40ccadbc14a82f15cb0ad0de95ca3');
    const lmv2 = createHmac('md5', key).update(Buffer.concat([serverChallenge, clientChallenge])).digest();
    expect(Buffer.concat([lmv2, clientChallenge]).toString('hex')).toBe('86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa');
  });

  it('reads the CHALLENGE_MESSAGE of the specification', () => {
    const challenge = parseChallenge(hex(`4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000
      060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c005300650072007600650072000000000000`));
    expect(challenge.serverChallenge.toString('hex')).toBe('0123456789abcdef');
    expect(challenge.targetInfo.toString('hex')).toBe(targetInfo.toString('hex'));
  });

  it('refuses a challenge without target info: that server speaks only NTLMv1', () => {
    const v1 = Buffer.alloc(48);
    Buffer.from('NTLMSSP\0', 'latin1').copy(v1);
    v1.writeUInt32LE(2, 8);
    v1.writeUInt32LE(0x00008201, 20);
    expect(() => parseChallenge(v1)).toThrow(/NTLMv1.*NTLMv2 only/);
  });

  it('answers a challenge with an AUTHENTICATE that the server side accepts for the right password only, bound to the certificate', () => {
    const certificate = Buffer.from('a server certificate');
    const issued = challengeFor(negotiateMessage(), 'WIN-RDP1', 'WORKGROUP');
    const message = authenticateMessage(parseChallenge(issued.message), ntlmIdentity('Administrator', 'S3cret!pass'), certificate);
    expect(verifyAuthenticate(message, issued, { user: 'administrator', password: 'S3cret!pass' }, certificate)).toMatchObject({ ok: true, user: 'Administrator', domain: '' });
    expect(verifyAuthenticate(message, issued, { user: 'Administrator', password: 'other' }, certificate)).toEqual({ ok: false, reason: 'wrong password' });
    expect(verifyAuthenticate(message, issued, { user: 'Administrator', password: 'S3cret!pass' }, Buffer.from('another certificate')))
      .toEqual({ ok: false, reason: 'missing or wrong channel binding' });
    // With a server timestamp the LMv2 field is 24 zero bytes (MS-NLMP 3.1.5.1.2).
    expect(message.subarray(message.readUInt32LE(16), message.readUInt32LE(16) + 24).equals(Buffer.alloc(24))).toBe(true);
  });

  it('splits DOMAIN\\user logins, and keeps a bare or UPN login whole', () => {
    expect(ntlmIdentity('CORP\\keyway-admin', 'p')).toEqual({ user: 'keyway-admin', domain: 'CORP', password: 'p' });
    expect(ntlmIdentity('admin@corp.example.com', 'p')).toEqual({ user: 'admin@corp.example.com', domain: '', password: 'p' });
  });
});
