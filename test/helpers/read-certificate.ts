// Reads an OpenSSH certificate back with OpenSSH's own `ssh-keygen -L`, not with Keyway's encoder: what a test
// learns here is what sshd will see.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from './temp-dir.js';

export interface CertificateAsOpenSshSees {
  type: string;
  keyId: string;
  serial: number;
  /** Epoch seconds. */
  validAfter: number;
  /** Epoch seconds. */
  validBefore: number;
  principals: string[];
  criticalOptions: string[];
  extensions: string[];
}

/** Parses `ssh-keygen -L` output; times are read in UTC. */
export function readCertificate(line: string): CertificateAsOpenSshSees {
  const temp = makeTempDir('keyway-cert-');
  try {
    const path = join(temp.dir, 'id-cert.pub');
    writeFileSync(path, `${line.trim()}\n`);
    const run = spawnSync('ssh-keygen', ['-L', '-f', path], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    if (run.status !== 0) throw new Error(`ssh-keygen -L refused the certificate: ${run.stderr || run.error?.message}`);
    return parseListing(run.stdout);
  } finally {
    temp.remove();
  }
}

function parseListing(text: string): CertificateAsOpenSshSees {
  const lines = text.split('\n').slice(1); // the first line is the file name
  const field = (name: string): string => {
    const found = lines.find((l) => l.trimStart().startsWith(`${name}:`));
    if (found === undefined) throw new Error(`ssh-keygen -L printed no "${name}":\n${text}`);
    return found.slice(found.indexOf(':') + 1).trim();
  };
  // A list field is its header line, then more-indented lines until the next header (or "(none)" on the header).
  const list = (name: string): string[] => {
    const at = lines.findIndex((l) => l.trimStart().startsWith(`${name}:`));
    if (at < 0) throw new Error(`ssh-keygen -L printed no "${name}":\n${text}`);
    if (lines[at]!.includes('(none)')) return [];
    const indent = lines[at]!.length - lines[at]!.trimStart().length;
    const items: string[] = [];
    for (const l of lines.slice(at + 1)) {
      if (l.trim() === '' || l.length - l.trimStart().length <= indent) break;
      items.push(l.trim());
    }
    return items;
  };
  const valid = /^from (\S+) to (\S+)$/.exec(field('Valid'));
  if (!valid) throw new Error(`unexpected validity "${field('Valid')}"`);
  const seconds = (iso: string) => Date.parse(`${iso}Z`) / 1000;
  return {
    type: field('Type'),
    keyId: JSON.parse(field('Key ID')) as string,
    serial: Number(field('Serial')),
    validAfter: seconds(valid[1]!),
    validBefore: seconds(valid[2]!),
    principals: list('Principals'),
    criticalOptions: list('Critical Options'),
    extensions: list('Extensions'),
  };
}
