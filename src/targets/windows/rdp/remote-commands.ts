// THE module that builds every command Keyway runs on a Windows server. A PowerShell command is a fixed body (below)
// after a header that assigns validated values as single-quoted PowerShell literals; the whole script travels as
// -EncodedCommand (base64 of UTF-16LE), so no value is ever parsed by cmd.exe. Passwords are never in the script or
// the command line: the script reads them from stdin, and the command's JSON form (what a logger would print) omits
// them. quser and logoff take one allowlisted argument each.
import type { IssuedPassword, NetbiosDomain, SessionId, WindowsAccountName, WindowsGroupName } from './rdp-values.js';

/** The description Keyway puts on every local account it creates; it deletes or changes no account without it. */
export const KEYWAY_MARKER = 'Managed by Keyway';

/** Exit codes of the PowerShell bodies. */
export const EXIT = { ok: 0, failed: 1, notManaged: 3 } as const;

declare const built: unique symbol;

export interface WindowsCommand {
  /** What the command is for, for logs and errors (never a script or a password). */
  readonly purpose: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Sent on stdin, then stdin is closed: how a password reaches the server. */
  readonly stdin?: string;
  readonly [built]: true;
}

/** A PowerShell literal: single quotes, every quote character PowerShell accepts as one doubled. */
export function psLiteral(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201a\u201b]/g, (q) => q + q)}'`;
}

function psArray(values: readonly string[]): string {
  return `@(${[...new Set(values)].map(psLiteral).join(',')})`;
}

const PRELUDE = `$ErrorActionPreference='Stop'
$ProgressPreference='SilentlyContinue'
$Marker='${KEYWAY_MARKER}'`;

const NOT_MANAGED = `[Console]::Error.WriteLine("The account $Name exists but Keyway did not create it (its description is not '$Marker'): Keyway leaves it alone.")
    exit 3`;

const FAIL = `} catch {
  [Console]::Error.WriteLine($_.Exception.Message)
  exit 1
}`;

/** Create the local account or take it over again, set the password from stdin, enable it, add it to the groups. */
export const GRANT_LOCAL_BODY = `${PRELUDE}
try {
  $Password=ConvertTo-SecureString -String ([Console]::In.ReadLine()) -AsPlainText -Force
  $User=Get-LocalUser -Name $Name -ErrorAction SilentlyContinue
  if ($null -eq $User) {
    New-LocalUser -Name $Name -Password $Password -Description $Marker -UserMayNotChangePassword | Out-Null
    $Result='created'
  } elseif ($User.Description -ne $Marker) {
    ${NOT_MANAGED}
  } else {
    Set-LocalUser -Name $Name -Password $Password
    $Result='updated'
  }
  Set-LocalUser -Name $Name -PasswordNeverExpires $false
  if ($Expires) {
    Set-LocalUser -Name $Name -AccountExpires ([DateTime]::Parse($Expires,[Globalization.CultureInfo]::InvariantCulture,[Globalization.DateTimeStyles]::RoundtripKind).ToLocalTime())
  } else {
    Set-LocalUser -Name $Name -AccountNeverExpires
  }
  Enable-LocalUser -Name $Name
  foreach ($Group in $Groups) {
    try { Add-LocalGroupMember -Group $Group -Member $Name } catch [Microsoft.PowerShell.Commands.MemberExistsException] { }
  }
  $Result
${FAIL}`;

/** Remove the groups; when access ends, disable the account and set the new password from stdin. */
export const REVOKE_LOCAL_BODY = `${PRELUDE}
try {
  $User=Get-LocalUser -Name $Name -ErrorAction SilentlyContinue
  if ($null -eq $User) { 'absent'; exit 0 }
  if ($User.Description -ne $Marker) {
    ${NOT_MANAGED}
  }
  foreach ($Group in $Groups) {
    try { Remove-LocalGroupMember -Group $Group -Member $Name } catch [Microsoft.PowerShell.Commands.MemberNotFoundException],[Microsoft.PowerShell.Commands.GroupNotFoundException] { }
  }
  if ($EndAccess) {
    Disable-LocalUser -Name $Name
    Set-LocalUser -Name $Name -Password (ConvertTo-SecureString -String ([Console]::In.ReadLine()) -AsPlainText -Force)
  }
  'revoked'
${FAIL}`;

/** Delete the account (and its profile) if Keyway created it. */
export const DELETE_LOCAL_BODY = `${PRELUDE}
try {
  $User=Get-LocalUser -Name $Name -ErrorAction SilentlyContinue
  if ($null -eq $User) { 'absent'; exit 0 }
  if ($User.Description -ne $Marker) {
    ${NOT_MANAGED}
  }
  try {
    Get-CimInstance -ClassName Win32_UserProfile | Where-Object { $_.SID -eq $User.SID.Value } | Remove-CimInstance
  } catch {
    [Console]::Error.WriteLine("profile of $Name not removed: $($_.Exception.Message)")
  }
  Remove-LocalUser -Name $Name
  'deleted'
${FAIL}`;

/** Add a domain account (DOMAIN\\kw-user) to the server's local groups. */
export const GRANT_DOMAIN_BODY = `${PRELUDE}
try {
  foreach ($Group in $Groups) {
    try { Add-LocalGroupMember -Group $Group -Member $Member } catch [Microsoft.PowerShell.Commands.MemberExistsException] { }
  }
  'granted'
${FAIL}`;

/** Remove a domain account from the server's local groups. */
export const REVOKE_DOMAIN_BODY = `${PRELUDE}
try {
  foreach ($Group in $Groups) {
    try { Remove-LocalGroupMember -Group $Group -Member $Member } catch [Microsoft.PowerShell.Commands.MemberNotFoundException],[Microsoft.PowerShell.Commands.GroupNotFoundException],[Microsoft.PowerShell.Commands.PrincipalNotFoundException] { }
  }
  'revoked'
${FAIL}`;

/** What `keyway hosts check` needs to know: the admin is elevated, the LocalAccounts cmdlets exist, the groups exist. */
export const CHECK_BODY = `${PRELUDE}
try {
  $Identity=[Security.Principal.WindowsIdentity]::GetCurrent()
  $Admin=([Security.Principal.WindowsPrincipal]$Identity).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
  $LocalAccounts=[bool](Get-Command -Name Get-LocalUser -ErrorAction SilentlyContinue)
  "computer=$env:COMPUTERNAME"
  "admin=$Admin"
  "localaccounts=$LocalAccounts"
  foreach ($Group in $Groups) { "group=$([bool](Get-LocalGroup -Name $Group -ErrorAction SilentlyContinue))=$Group" }
${FAIL}`;

/** Every PowerShell body Keyway sends, by operation: the WinRM stand-in recognises exactly these. */
export const POWERSHELL_BODIES = {
  'grant-local': GRANT_LOCAL_BODY,
  'revoke-local': REVOKE_LOCAL_BODY,
  'delete-local': DELETE_LOCAL_BODY,
  'grant-domain': GRANT_DOMAIN_BODY,
  'revoke-domain': REVOKE_DOMAIN_BODY,
  check: CHECK_BODY,
} as const;

export type PowerShellOperation = keyof typeof POWERSHELL_BODIES;

/** Ceiling for the encoded command: cmd.exe's command line holds 8191 characters. */
const MAX_ENCODED_LENGTH = 8000;

function powershell(purpose: string, operation: PowerShellOperation, header: Record<string, string>, stdin?: IssuedPassword): WindowsCommand {
  const lines = Object.entries(header).map(([name, value]) => `$${name}=${value}`);
  const script = [...lines, POWERSHELL_BODIES[operation]].join('\n');
  const encoded = Buffer.from(script, 'utf16le').toString('base64');
  if (encoded.length > MAX_ENCODED_LENGTH) throw new Error(`the ${operation} script is too long for a command line (${encoded.length} characters)`);
  const command = {
    purpose,
    command: 'powershell.exe',
    args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', encoded],
    ...(stdin === undefined ? {} : { stdin: `${stdin}\r\n` }),
    toJSON: () => ({ purpose, command: 'powershell.exe' }),
  };
  return command as unknown as WindowsCommand;
}

export function grantLocalCommand(name: WindowsAccountName, groups: readonly WindowsGroupName[], password: IssuedPassword, expiresAt: Date | null): WindowsCommand {
  return powershell(`grant the local account ${name}`, 'grant-local', {
    Name: psLiteral(name), Groups: psArray(groups), Expires: psLiteral(expiresAt === null ? '' : expiresAt.toISOString()),
  }, password);
}

/** With endAccess, `newPassword` is required: the account is disabled and its password replaced. */
export function revokeLocalCommand(name: WindowsAccountName, groups: readonly WindowsGroupName[], endAccess: boolean, newPassword?: IssuedPassword): WindowsCommand {
  if (endAccess && newPassword === undefined) throw new Error('ending access to a local account needs a new password');
  return powershell(`revoke the local account ${name}`, 'revoke-local', {
    Name: psLiteral(name), Groups: psArray(groups), EndAccess: endAccess ? '$true' : '$false',
  }, endAccess ? newPassword : undefined);
}

export function deleteLocalCommand(name: WindowsAccountName): WindowsCommand {
  return powershell(`delete the local account ${name}`, 'delete-local', { Name: psLiteral(name) });
}

export function grantDomainCommand(domain: NetbiosDomain, name: WindowsAccountName, groups: readonly WindowsGroupName[]): WindowsCommand {
  return powershell(`add ${domain}\\${name} to local groups`, 'grant-domain', { Member: psLiteral(`${domain}\\${name}`), Groups: psArray(groups) });
}

export function revokeDomainCommand(domain: NetbiosDomain, name: WindowsAccountName, groups: readonly WindowsGroupName[]): WindowsCommand {
  return powershell(`remove ${domain}\\${name} from local groups`, 'revoke-domain', { Member: psLiteral(`${domain}\\${name}`), Groups: psArray(groups) });
}

export function checkCommand(groups: readonly WindowsGroupName[]): WindowsCommand {
  return powershell('check the WinRM connection and admin rights', 'check', { Groups: psArray(groups) });
}

/** `quser NAME`: the account's sessions (none: exit 1 with a message on stderr). */
export function listSessionsCommand(name: WindowsAccountName): WindowsCommand {
  return { purpose: `list the sessions of ${name}`, command: 'quser', args: [name] } as unknown as WindowsCommand;
}

export function logoffCommand(id: SessionId): WindowsCommand {
  return { purpose: `log off session ${id}`, command: 'logoff', args: [id] } as unknown as WindowsCommand;
}

/**
 * The session IDs of `name` in quser's output. Columns: USERNAME SESSIONNAME ID STATE IDLE LOGON; SESSIONNAME is
 * empty for a disconnected session, and the caller's own session starts with ">". The header line is skipped
 * (it is localised), and only lines naming the account count.
 */
export function sessionIdsOf(quserOutput: string, name: WindowsAccountName): string[] {
  return quserOutput.split(/\r?\n/).slice(1).flatMap((line) => {
    const fields = line.replace(/^[\s>]+/, '').split(/\s+/).filter(Boolean);
    if (fields[0]?.toLowerCase() !== name) return [];
    const id = /^[0-9]+$/.test(fields[1] ?? '') ? fields[1] : fields[2];
    return id !== undefined && /^[0-9]+$/.test(id) ? [id] : [];
  });
}
