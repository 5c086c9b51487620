// The LDAP operations of the windows-dc kind, over one bound connection (LDAPS, or LDAP after StartTLS: never a
// password in clear). Every DN and filter it sends is built here from values checked and escaped by
// core/active-directory-names.ts. It finds accounts and groups, and changes only accounts that lie in Keyway's OU and
// carry Keyway's marker; the driver adds the objectGUID check against what SQLite recorded.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Attribute, Change, Client, type Entry } from 'ldapts';
import { UserError } from '../../../core/errors.js';
import { escapeFilterValue, formatDn, isUnderDn, normalizeDn, parseDn } from '../../../core/active-directory-names.js';

/** Written into `description` of every account Keyway creates: the first of the checks before Keyway touches one. */
export const KEYWAY_MARKER = 'Managed by Keyway (just-in-time access); deleted when unused';

const UF_ACCOUNTDISABLE = 0x2;
const UF_NORMAL_ACCOUNT = 0x200;
/** FILETIME counts 100-ns intervals since 1601-01-01; Unix time starts 11644473600 s later. */
const FILETIME_UNIX_OFFSET_MS = 11_644_473_600_000n;
const TIMEOUT_MS = 15_000;

/** Where a domain is and which part of it is Keyway's: stored with every grant, so revoke needs no config. */
export interface DomainAddress {
  url: string;
  startTls: boolean;
  bindDn: string;
  baseDn: string;
  ou: string;
  tlsCaFile?: string;
}

export interface FoundAccount {
  dn: string;
  objectGuid: string;
  marked: boolean;
  userAccountControl: number;
  /** Normal-form DNs of its groups. */
  memberOf: Set<string>;
}

/** Epoch milliseconds → accountExpires (Windows FILETIME), as AD writes it. */
export function toFileTime(epochMs: number): string {
  return ((BigInt(Math.round(epochMs)) + FILETIME_UNIX_OFFSET_MS) * 10_000n).toString();
}

/** accountExpires → epoch milliseconds. */
export function fromFileTime(fileTime: string): number {
  return Number(BigInt(fileTime) / 10_000n - FILETIME_UNIX_OFFSET_MS);
}

/** objectGUID bytes → the usual text form (the first three fields are little-endian). */
export function guidText(bytes: Buffer): string {
  if (bytes.length !== 16) throw new Error(`objectGUID has ${bytes.length} bytes, not 16`);
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = [...bytes.subarray(from, to)];
    return (reverse ? part.reverse() : part).map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

/** The DNS domain of a base DN: DC=corp,DC=example,DC=com → corp.example.com (for userPrincipalName). */
export function dnsDomainOf(baseDn: string): string {
  const parts = parseDn(baseDn).filter((r) => r.type === 'dc').map((r) => r.value.toLowerCase());
  if (parts.length === 0) throw new UserError('config_invalid', `base_dn "${baseDn}" has no DC= parts to name the domain`);
  return parts.join('.');
}

function first(entry: Entry, attribute: string): string | undefined {
  const value = entry[attribute];
  const one = Array.isArray(value) ? value[0] : value;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

function all(entry: Entry, attribute: string): string[] {
  const value = entry[attribute];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
}

function replace(type: string, value: string | Buffer): Change {
  return new Change({ operation: 'replace', modification: new Attribute({ type, values: [value] as string[] | Buffer[] }) });
}

export class Directory {
  private constructor(private readonly client: Client, readonly address: DomainAddress) {}

  /** Connects over TLS (checked against tls_ca_file when given, else the system's CAs) and binds as the connector. */
  static async open(address: DomainAddress, bindPassword: string): Promise<Directory> {
    const tlsOptions: ConnectionOptions = { minVersion: 'TLSv1.2', ...(address.tlsCaFile !== undefined && { ca: readFileSync(address.tlsCaFile) }) };
    const client = new Client({ url: address.url, timeout: TIMEOUT_MS, connectTimeout: TIMEOUT_MS, ...(address.url.startsWith('ldaps:') && { tlsOptions }) });
    try {
      if (!address.url.startsWith('ldaps:')) {
        if (!address.startTls) throw new UserError('config_invalid', `${address.url} is plain LDAP without start_tls: Keyway never sends a password in clear`);
        await client.startTLS(tlsOptions);
      }
      await client.bind(address.bindDn, bindPassword);
    } catch (error) {
      await client.unbind().catch(() => undefined);
      throw new Error(`cannot bind to ${address.url} as ${address.bindDn}: ${(error as Error).message}`);
    }
    return new Directory(client, address);
  }

  async close(): Promise<void> {
    await this.client.unbind();
  }

  /** The account with this sAMAccountName anywhere under base_dn, or undefined. */
  async findAccount(name: string): Promise<FoundAccount | undefined> {
    const { searchEntries } = await this.client.search(this.address.baseDn, {
      scope: 'sub', filter: `(&(objectClass=user)(sAMAccountName=${escapeFilterValue(name)}))`,
      attributes: ['objectGUID', 'description', 'userAccountControl', 'memberOf'], explicitBufferAttributes: ['objectGUID'],
    });
    if (searchEntries.length > 1) throw new Error(`${searchEntries.length} accounts are named ${name} under ${this.address.baseDn}`);
    const entry = searchEntries[0];
    if (!entry) return undefined;
    const guid = entry['objectGUID'];
    const bytes = Array.isArray(guid) ? guid[0] : guid;
    if (!Buffer.isBuffer(bytes)) throw new Error(`account ${entry.dn} has no objectGUID`);
    return {
      dn: entry.dn, objectGuid: guidText(bytes), marked: first(entry, 'description') === KEYWAY_MARKER,
      userAccountControl: Number(first(entry, 'userAccountControl') ?? UF_NORMAL_ACCOUNT | UF_ACCOUNTDISABLE),
      memberOf: new Set(all(entry, 'memberOf').map(normalizeDn)),
    };
  }

  /** The DN of the group with this sAMAccountName under base_dn; throws when there is none. */
  async groupDn(name: string): Promise<string> {
    const { searchEntries } = await this.client.search(this.address.baseDn, {
      scope: 'sub', filter: `(&(objectClass=group)(sAMAccountName=${escapeFilterValue(name)}))`, attributes: ['sAMAccountName'],
    });
    if (searchEntries.length !== 1) throw new Error(`the domain has ${searchEntries.length === 0 ? 'no' : 'more than one'} group named "${name}" under ${this.address.baseDn}: create it, or fix groups in the config`);
    return searchEntries[0]!.dn;
  }

  /** Where Keyway creates the account: CN=<name> in its OU. */
  accountDn(name: string): string {
    return formatDn([{ type: 'cn', value: name }, ...parseDn(this.address.ou)]);
  }

  /** Creates the account disabled, with the marker; returns it as found afterwards. */
  async createAccount(name: string): Promise<FoundAccount> {
    await this.client.add(this.accountDn(name), {
      objectClass: ['top', 'person', 'organizationalPerson', 'user'],
      cn: name, sAMAccountName: name, userPrincipalName: `${name}@${dnsDomainOf(this.address.baseDn)}`,
      description: KEYWAY_MARKER, userAccountControl: String(UF_NORMAL_ACCOUNT | UF_ACCOUNTDISABLE),
    });
    const created = await this.findAccount(name);
    if (!created) throw new Error(`account ${name} was created but cannot be found`);
    return created;
  }

  /** Refuses to go on unless the account is in Keyway's OU and carries the marker. */
  assertInKeywayOu(account: FoundAccount, name: string): void {
    if (!isUnderDn(account.dn, this.address.ou)) {
      throw new UserError('account_not_managed', `account ${name} is ${account.dn}, outside Keyway's OU ${this.address.ou}: Keyway does not touch it`);
    }
    if (!account.marked) throw new UserError('account_not_managed', `account ${account.dn} does not carry Keyway's marker: Keyway did not create it and does not touch it`);
  }

  async addMember(groupDn: string, account: FoundAccount): Promise<void> {
    if (account.memberOf.has(normalizeDn(groupDn))) return;
    await this.client.modify(groupDn, new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [account.dn] }) }));
  }

  async removeMember(groupDn: string, account: FoundAccount): Promise<void> {
    if (!account.memberOf.has(normalizeDn(groupDn))) return;
    await this.client.modify(groupDn, new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [account.dn] }) }));
  }

  /** unicodePwd: the password in double quotes, UTF-16LE; AD takes it only over an encrypted connection. */
  async setPassword(account: FoundAccount, password: string): Promise<void> {
    await this.client.modify(account.dn, replace('unicodePwd', Buffer.from(`"${password}"`, 'utf16le')));
  }

  async setEnabled(account: FoundAccount, enabled: boolean): Promise<void> {
    const flags = (account.userAccountControl | UF_NORMAL_ACCOUNT) & ~UF_ACCOUNTDISABLE;
    await this.client.modify(account.dn, replace('userAccountControl', String(enabled ? flags : flags | UF_ACCOUNTDISABLE)));
  }

  static isEnabled(account: FoundAccount): boolean {
    return (account.userAccountControl & UF_ACCOUNTDISABLE) === 0;
  }

  /** accountExpires: the DC itself refuses the account after this moment, whether Keyway is running or not. */
  async setExpires(account: FoundAccount, epochMs: number): Promise<void> {
    await this.client.modify(account.dn, replace('accountExpires', toFileTime(epochMs)));
  }

  /**
   * The domain's NetBIOS name (CORP), as Windows servers name its accounts (CORP\kw-dev): nETBIOSName of the crossRef
   * for the domain of base_dn in the configuration partition, which every authenticated account may read.
   */
  async netbiosName(): Promise<string> {
    const { searchEntries: [rootDse] } = await this.client.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['configurationNamingContext'] });
    const configuration = rootDse && first(rootDse, 'configurationNamingContext');
    if (!configuration) throw new Error(`${this.address.url} does not name its configuration partition (configurationNamingContext)`);
    const domainDn = formatDn(parseDn(this.address.baseDn).filter((r) => r.type === 'dc'));
    const { searchEntries } = await this.client.search(formatDn([{ type: 'cn', value: 'Partitions' }, ...parseDn(configuration)]), {
      scope: 'one', filter: `(&(objectClass=crossRef)(nCName=${escapeFilterValue(domainDn)}))`, attributes: ['nETBIOSName'],
    });
    const name = searchEntries[0] && first(searchEntries[0], 'nETBIOSName');
    if (!name) throw new Error(`the directory at ${this.address.url} has no NetBIOS name for ${domainDn} (no crossRef with nETBIOSName under CN=Partitions)`);
    return name;
  }

  async deleteAccount(account: FoundAccount): Promise<void> {
    await this.client.del(account.dn);
  }
}
