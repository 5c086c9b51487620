// The keyway:ssh-port tag (EC2 and Azure): a port in digits, 1–65535; anything else leaves the server on port 22.
import { describe, expect, it } from 'vitest';
import { sshPortOf } from '../../src/targets/cloud/discovered.js';

describe('sshPortOf', () => {
  it('reads a port written in digits, 1 to 65535', () => {
    expect([sshPortOf('2222'), sshPortOf('1'), sshPortOf('65535'), sshPortOf('022')]).toEqual([2222, 1, 65535, 22]);
  });

  it('keeps port 22 for no tag, or a value that is not a port', () => {
    for (const value of [undefined, '', '0', '65536', '99999', '-22', '22.5', '0x16', ' 2222', '2222 ', '1e3', 'ssh']) {
      expect(sshPortOf(value), String(value)).toBe(22);
    }
  });
});
