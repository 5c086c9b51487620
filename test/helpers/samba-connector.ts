// Keyway's connector account in a test Samba domain, holding only the rights docs/windows.md lists: what the
// windows-dc and rdp-through-a-domain tests bind as, so a right Keyway needs and lacks fails the test.
import type { SambaDc } from './samba-dc.js';

const USERS = 'CN=Users,DC=keyway,DC=test';
const OU = 'OU=Keyway,DC=keyway,DC=test';

/** Keyway's connector: not an admin, only the rights docs/windows.md lists, on Keyway's OU and the requestable groups. */
export async function delegatedConnector(dc: SambaDc, groups: string[]): Promise<{ dn: string; password: string }> {
  const password = 'Svc-Passw0rd!keyway';
  const dn = `CN=keyway-svc,${USERS}`;
  await dc.modify([`dn: ${dn}`, 'objectClass: user', 'sAMAccountName: keyway-svc', `unicodePwd:: ${Buffer.from(`"${password}"`, 'utf16le').toString('base64')}`, 'userAccountControl: 512', ''].join('\n'), true);
  const shown = await dc.exec('samba-tool user show keyway-svc -H /var/lib/samba/private/sam.ldb --attributes=objectSid');
  const sid = /objectSid: (S-[0-9-]+)/.exec(shown.stdout)?.[1];
  if (!sid) throw new Error(`no objectSid for keyway-svc: ${shown.stdout}${shown.stderr}`);
  const USER_CLASS = 'bf967aba-0de6-11d0-a285-00aa003049e2';
  const RESET_PASSWORD = '00299570-246d-11d0-a768-00aa006e0529';
  const USER_ACCOUNT_CONTROL = 'bf967a68-0de6-11d0-a285-00aa003049e2';
  const ACCOUNT_EXPIRES = 'bf967915-0de6-11d0-a285-00aa003049e2';
  const MEMBER = 'bf9679c0-0de6-11d0-a285-00aa003049e2';
  const acl = async (objectDn: string, sddl: string) => {
    const result = await dc.exec(`samba-tool dsacl set -H /var/lib/samba/private/sam.ldb --objectdn='${objectDn}' --sddl='${sddl}'`);
    if (result.code !== 0) throw new Error(`dsacl set on ${objectDn} failed: ${result.stdout}${result.stderr}`);
  };
  // On the OU: read and list it and everything in it (GenericRead, ListChildren, ListObject), create and delete user
  // objects (CreateChild, DeleteChild), and on the users in it: reset the password, write the account restrictions,
  // delete them.
  await acl(OU, [
    `(A;CI;RPLCLORC;;;${sid})`,
    `(OA;;CCDC;${USER_CLASS};;${sid})`,
    `(OA;CIIO;CR;${RESET_PASSWORD};${USER_CLASS};${sid})`,
    `(OA;CIIO;WP;${USER_ACCOUNT_CONTROL};${USER_CLASS};${sid})`,
    `(OA;CIIO;WP;${ACCOUNT_EXPIRES};${USER_CLASS};${sid})`,
    `(OA;CIIO;SD;;${USER_CLASS};${sid})`,
  ].join(''));
  // On each requestable group: WriteMember.
  for (const group of groups) await acl(`CN=${group},${USERS}`, `(OA;;WP;${MEMBER};;${sid})`);
  return { dn, password };
}
