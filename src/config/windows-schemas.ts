// The Windows integration types as written in access.yaml: `windows-dc` (an Active Directory domain over LDAPS or
// StartTLS) and `rdp` (Windows servers over WinRM). Neither takes the Linux account settings (login_shell, uid_range,
// user_key_name); their groups are Windows group names, judged by the rules AD applies, not Linux ones.
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { isUnderDn, normalizeDn, parseDn, validateWindowsGroupName } from '../core/active-directory-names.js';
import type { RdpIntegration, RdpServer, Server, WindowsDcIntegration } from '../core/model.js';
import { host, plainName, secretRef, serverName, tags } from './field-schemas.js';
import { sharedIntegration, sharedIntegrationFields } from './integration-common.js';

export const DEFAULT_RDP_GROUPS = ['Remote Desktop Users'];
const LDAP_URL = /^(ldaps?):\/\/(\[[0-9a-fA-F:.]+\]|[^/:?#\s]+)(?::(\d{1,5}))?\/?$/;

function messageOf(error: unknown): string {
  return error instanceof UserError ? error.message : String(error);
}

const windowsGroup = z.string().transform((value, context) => {
  try {
    return validateWindowsGroupName(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: messageOf(error) });
    return z.NEVER;
  }
});

function windowsGroupList(field: string, fallback: string[]) {
  return z.array(windowsGroup).min(1, `${field} must name at least one group`).default(fallback)
    .refine((groups) => new Set(groups.map((g) => g.toLowerCase())).size === groups.length, { error: `${field} names a group twice` });
}

function distinguishedName(field: string) {
  return z.string().transform((value, context) => {
    try {
      parseDn(value);
      return value.trim();
    } catch (error) {
      context.addIssue({ code: 'custom', message: `${field}: ${messageOf(error)}` });
      return z.NEVER;
    }
  });
}

const tlsCaFile = z.string().min(1, 'tls_ca_file must be a path to a PEM file').optional();

/** The one sentence covers every way a port is wrong: zod gives a check without its own message the schema's. */
const port = (field: string) => z.int({ error: `${field} must be a whole number from 1 to 65535` }).min(1).max(65_535);

/** Where the domain controller is, read from the url: what its group "servers" show as host and port. */
function ldapAddress(url: string): { scheme: 'ldap' | 'ldaps'; host: string; port: number } | undefined {
  const match = LDAP_URL.exec(url);
  if (!match) return undefined;
  const scheme = match[1] as 'ldap' | 'ldaps';
  const port = match[3] === undefined ? (scheme === 'ldaps' ? 636 : 389) : Number(match[3]);
  return { scheme, host: match[2]!.replace(/^\[|\]$/g, ''), port };
}

/** What is wrong with a url that is not exactly ldap[s]://host[:port][/], for the admin who wrote it. */
function whyNotLdapUrl(url: string): string {
  if (!/^ldaps?:\/\//.test(url)) return 'it must start with ldaps:// (or ldap:// with start_tls: true)';
  const rest = /^ldaps?:\/\/[^/?#]*(.*)$/.exec(url)![1]!;
  if (rest !== '' && rest !== '/') return `Keyway takes only the server and port: remove "${rest}" (the base DN goes in base_dn)`;
  const portText = /^ldaps?:\/\/(?:\[[^\]]*\]|[^/:?#[\]]*):([^/]*)\/?$/.exec(url)?.[1];
  if (portText !== undefined && !(/^\d{1,5}$/.test(portText) && Number(portText) >= 1 && Number(portText) <= 65_535)) {
    return `the port "${portText}" is not a whole number from 1 to 65535`;
  }
  return 'the host is not a host name, an IPv4 address or an IPv6 address in [brackets]';
}

/** type: windows-dc — resources are the domain's groups listed under `groups` (one Server per group, see the model). */
export const windowsDcIntegrationSchema = z
  .strictObject({
    type: z.literal('windows-dc'),
    ...sharedIntegrationFields,
    secret: secretRef,
    url: z.string(),
    start_tls: z.boolean().default(false),
    bind_dn: distinguishedName('bind_dn'),
    base_dn: distinguishedName('base_dn'),
    ou: distinguishedName('ou'),
    groups: z.array(serverName.pipe(windowsGroup)).min(1, 'groups must list at least one AD group people may request'),
    tls_ca_file: tlsCaFile,
    rdp_port: port('rdp_port').default(3389),
  })
  .superRefine((i, context) => {
    const address = ldapAddress(i.url);
    if (!address || host.safeParse(address.host).success === false || address.port > 65_535 || address.port < 1) {
      const why = whyNotLdapUrl(i.url);
      context.addIssue({ code: 'custom', message: `url "${i.url}" is not an LDAP URL like ldaps://dc1.corp.example.com (or ldap://… with start_tls: true): ${why}`, path: ['url'] });
    } else if (address.scheme === 'ldap' && !i.start_tls) {
      context.addIssue({ code: 'custom', message: `url "${i.url}" is plain LDAP, which would send passwords in clear: use ldaps://, or set start_tls: true`, path: ['url'] });
    } else if (address.scheme === 'ldaps' && i.start_tls) {
      context.addIssue({ code: 'custom', message: 'start_tls is for ldap:// URLs; an ldaps:// URL is TLS from the start: remove start_tls', path: ['start_tls'] });
    }
    try {
      if (!isUnderDn(i.ou, i.base_dn)) context.addIssue({ code: 'custom', message: `ou "${i.ou}" is not under base_dn "${i.base_dn}"`, path: ['ou'] });
      else if (normalizeDn(i.ou) === normalizeDn(i.base_dn)) context.addIssue({ code: 'custom', message: 'ou must be an OU of its own below base_dn, where only Keyway\'s accounts live, not the whole domain', path: ['ou'] });
    } catch {
      // An unreadable DN was reported on its own field.
    }
    const seen = new Set<string>();
    i.groups.forEach((group, g) => {
      if (seen.has(group.toLowerCase())) context.addIssue({ code: 'custom', message: `groups names "${group}" twice`, path: ['groups', g] });
      seen.add(group.toLowerCase());
    });
  })
  .transform((i): WindowsDcIntegration => {
    const address = ldapAddress(i.url)!;
    const servers: Server[] = i.groups.map((group) => ({ name: group, host: address.host, port: address.port, user: i.bind_dn, tags: {} }));
    return {
      ...sharedIntegration(i, ['Default']),
      type: i.type, url: i.url, startTls: i.start_tls, bindDn: i.bind_dn, baseDn: i.base_dn, ou: i.ou, groups: i.groups,
      ...(i.tls_ca_file !== undefined && { tlsCaFile: i.tls_ca_file }),
      rdpPort: i.rdp_port, servers,
    };
  });

const rdpServerSchema = z.strictObject({
  name: serverName,
  host,
  winrm_port: port('winrm_port').optional(),
  rdp_port: port('rdp_port').default(3389),
  use_ssl: z.boolean().default(true),
  tags,
});

/** The admin account WinRM logs in as: `user`, `DOMAIN\user` or `user@domain`, one line. */
const windowsLogin = z.string().min(1, 'user must name the Windows account WinRM logs in as')
  .max(256)
  .refine((value) => !/[\p{Cc}"]/u.test(value) && value === value.trim(), { error: 'user must be one line without quotes or surrounding spaces' });

/** type: rdp — Windows servers over WinRM (HTTPS on 5986 unless allow_unencrypted says otherwise). */
export const rdpIntegrationSchema = z
  .strictObject({
    type: z.literal('rdp'),
    ...sharedIntegrationFields,
    secret: secretRef,
    servers: z.array(rdpServerSchema).min(1, 'the server list must have at least one server'),
    user: windowsLogin,
    user_groups: windowsGroupList('user_groups', DEFAULT_RDP_GROUPS),
    domain: plainName('integration').optional(),
    tls_ca_file: tlsCaFile,
    allow_unencrypted: z.boolean().default(false),
    allow_privileged_groups: z.boolean().default(false),
  })
  .superRefine((i, context) => {
    i.servers.forEach((server, s) => {
      if (!server.use_ssl && !i.allow_unencrypted) {
        context.addIssue({ code: 'custom', message: `server "${server.name}" has use_ssl: false: plain-HTTP WinRM sends the admin password and the issued passwords where others can read them; use HTTPS (5986), or set allow_unencrypted: true on the integration to accept that`, path: ['servers', s, 'use_ssl'] });
      }
    });
  })
  .transform((i): RdpIntegration => ({
    ...sharedIntegration(i, i.user_groups),
    allowPrivilegedGroups: i.allow_privileged_groups,
    type: i.type,
    user: i.user,
    servers: i.servers.map((s): RdpServer => {
      const winrmPort = s.winrm_port ?? (s.use_ssl ? 5986 : 5985);
      return { name: s.name, host: s.host, user: i.user, port: winrmPort, tags: s.tags, winrmPort, rdpPort: s.rdp_port, useSsl: s.use_ssl };
    }),
    ...(i.tls_ca_file !== undefined && { tlsCaFile: i.tls_ca_file }),
    allowUnencrypted: i.allow_unencrypted,
    ...(i.domain !== undefined && { domain: i.domain }),
  }));
