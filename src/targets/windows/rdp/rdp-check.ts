// `keyway hosts check` for a Windows server of an rdp integration: logs in over WinRM as a grant would and says
// whether the login is an administrator, the LocalAccounts cmdlets are there and the integration's groups exist.
import { isOutage, isUserError } from '../../../core/errors.js';
import type { RdpIntegration, RdpServer } from '../../../core/model.js';
import { rdpHostSettings } from './rdp-driver.js';
import { checkConnection, type RdpCheck } from './rdp-host.js';

export interface RdpServerCheck {
  server: string;
  kind: 'rdp';
  /** not_tried: no usable admin password or CA file; unreachable: no connection or no login; logged_in. */
  stage: 'not_tried' | 'unreachable' | 'logged_in';
  result: RdpCheck | undefined;
  problem: string | undefined;
  ok: boolean;
}

export async function checkRdpServer(integration: RdpIntegration, server: RdpServer, env: NodeJS.ProcessEnv): Promise<RdpServerCheck> {
  const base = { server: server.name, kind: 'rdp' as const };
  let settings;
  try {
    settings = rdpHostSettings(integration, env);
  } catch (error) {
    if (!isUserError(error)) throw error;
    return { ...base, stage: 'not_tried', result: undefined, problem: error.message, ok: false };
  }
  try {
    const result = await checkConnection(server, settings, integration.userGroups);
    return { ...base, stage: 'logged_in', result, problem: undefined, ok: result.admin && result.localAccounts && result.missingGroups.length === 0 };
  } catch (error) {
    if (!isUserError(error)) throw error;
    return { ...base, stage: isOutage(error) || error.code !== 'remote_command_failed' ? 'unreachable' : 'logged_in', result: undefined, problem: error.message, ok: false };
  }
}

export function describeRdpCheck(check: RdpServerCheck): string {
  const verdict = `${check.server}: ${check.ok ? 'ok' : 'FAIL'}: `;
  const why = check.problem ? ` — ${check.problem}` : '';
  if (check.stage === 'not_tried') return `${verdict}not checked (Keyway did not connect: no usable WinRM admin password or CA file)${why}`;
  if (!check.result) {
    return check.stage === 'unreachable'
      ? `${verdict}UNREACHABLE (could not connect and log in over WinRM; admin rights and groups not checked)${why}`
      : `${verdict}WinRM login ok, but the check command failed${why}`;
  }
  const r = check.result;
  return `${verdict}${[
    `WinRM login ok (computer ${r.computer})`,
    r.admin ? 'administrator' : 'NOT AN ADMINISTRATOR',
    r.localAccounts ? 'LocalAccounts cmdlets present' : 'NO LocalAccounts CMDLETS (Windows Server 2016 or later needed)',
    r.missingGroups.length === 0 ? 'groups present' : `MISSING GROUPS (${r.missingGroups.join(', ')})`,
  ].join(', ')}`;
}
