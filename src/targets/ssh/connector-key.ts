// The connector's private key for an integration: its own `secret`, else CONNECTOR_SSH_KEY_FILE or
// CONNECTOR_SSH_KEY_BASE64 (design.md). Checked here to be a private key ssh2 can use; messages never quote it.
import ssh2 from 'ssh2';
import { decodePrivateKey, readSecret } from '../../config/secrets.js';
import { UserError } from '../../core/errors.js';
import type { Integration } from '../../core/model.js';

export function connectorKeyFor(integration: Integration, env: NodeJS.ProcessEnv): string {
  if (integration.secret) {
    const where = 'env' in integration.secret ? `secret.env ${integration.secret.env}` : `secret.file ${integration.secret.file}`;
    return usable(readSecret(integration.secret, env), `${where} of integration ${integration.name}`);
  }
  if (env.CONNECTOR_SSH_KEY_FILE) return usable(readSecret({ file: env.CONNECTOR_SSH_KEY_FILE }, env), `CONNECTOR_SSH_KEY_FILE=${env.CONNECTOR_SSH_KEY_FILE}`);
  if (env.CONNECTOR_SSH_KEY_BASE64) return usable(decodePrivateKey(env.CONNECTOR_SSH_KEY_BASE64, 'CONNECTOR_SSH_KEY_BASE64'), 'CONNECTOR_SSH_KEY_BASE64');
  throw new UserError('config_invalid', `No connector key for integration ${integration.name}: set CONNECTOR_SSH_KEY_FILE (or CONNECTOR_SSH_KEY_BASE64), or give the integration a secret: { env: NAME } or { file: PATH }.`);
}

/** Reads each integration's key once, on first use. */
export function connectorKeyResolver(env: NodeJS.ProcessEnv): (integration: Integration) => string {
  const cache = new Map<string, string>();
  return (integration) => {
    let key = cache.get(integration.name);
    if (key === undefined) cache.set(integration.name, (key = connectorKeyFor(integration, env)));
    return key;
  };
}

function usable(text: string, where: string): string {
  const parsed = ssh2.utils.parseKey(text);
  if (parsed instanceof Error) {
    const why = /passphrase|encrypted/i.test(parsed.message) ? 'it is encrypted; Keyway needs a key without a passphrase' : 'ssh2 cannot parse it';
    throw new UserError('key_invalid', `The connector key from ${where} is not usable: ${why}.`);
  }
  return text;
}
