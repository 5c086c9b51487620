// What a Keyway certificate names: the request's principal, and a key ID for sshd's auth log.
import { KEY_ID_PATTERN } from './certificate.js';

const KEY_ID_MAX = 256;

/** The principal that scopes a certificate to one request, e.g. keyway-req-42; also written to the principals file. */
export function requestPrincipal(requestId: number | bigint | string): string {
  const id = String(requestId);
  if (!/^[0-9a-z][0-9a-z-]{0,50}$/.test(id)) throw new RangeError(`request id ${JSON.stringify(id)} cannot name a principal`);
  return `keyway-req-${id}`;
}

function shellSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9@._+=-]/g, '_');
}

/**
 * 'keyway-req-42:henk@example.com:web-1,db-2': request, person and servers, shell-safe (sshd logs it unquoted).
 * Characters outside the safe set become '_'; servers that do not fit in 256 characters are counted as '+N'.
 */
export function certificateKeyId(request: { requestId: number | bigint | string; person: string; servers: string[] }): string {
  const head = `${requestPrincipal(request.requestId)}:${shellSafe(request.person)}`;
  const servers = request.servers.map(shellSafe);
  for (let shown = servers.length; shown >= 0; shown--) {
    const hidden = servers.length - shown;
    const list = [...servers.slice(0, shown), ...(hidden > 0 ? [`+${hidden}`] : [])].join(',');
    const keyId = list === '' ? head : `${head}:${list}`;
    if (keyId.length <= KEY_ID_MAX) return keyId;
  }
  const truncated = head.slice(0, KEY_ID_MAX);
  if (!KEY_ID_PATTERN.test(truncated)) throw new RangeError('cannot build a key ID');
  return truncated;
}
