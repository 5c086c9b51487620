// Certificates for the WinRM stand-in: a test CA and a server certificate it issued for 127.0.0.1 and localhost, and
// a second CA that issued nothing the server presents (to prove the client really checks). Made with openssl.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestTls {
  caPem: string;
  otherCaPem: string;
  serverKeyPem: string;
  serverCertPem: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-sha256',
    '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

export function makeTestTls(dir: string): TestTls {
  makeCa(dir, 'keyway-test-ca');
  makeCa(dir, 'unrelated-ca');
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key',
    '-out', 'server.csr', '-subj', '/CN=localhost']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'keyway-test-ca.crt', '-CAkey', 'keyway-test-ca.key', '-CAcreateserial',
    '-out', 'server.crt', '-days', '2', '-sha256', '-extfile', 'server.ext']);
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return { caPem: read('keyway-test-ca.crt'), otherCaPem: read('unrelated-ca.crt'), serverKeyPem: read('server.key'), serverCertPem: read('server.crt') };
}
