// The one port every shift provider implements: who is on call in a schedule at a moment. Adding a provider is one
// file beside this one and one line in providers.ts.

/** Someone on call: their e-mail and when their shift ends (epoch ms; undefined when the provider does not say). */
export interface Shift {
  email: string;
  endsAt?: number;
}

export interface OncallProvider {
  /** Throws OncallUnavailable when the provider cannot answer; never guesses. */
  whoIsOnCall(scheduleId: string, at: number): Promise<Shift[]>;
}

/** A provider that could not be reached or answered an error: nobody counts as on call (fail closed). */
export class OncallUnavailable extends Error {
  constructor(readonly provider: string, readonly why: string) {
    super(`${provider} ${why}`);
    this.name = 'OncallUnavailable';
  }
}

export interface HttpOptions {
  token: string;
  apiUrl: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** GETs JSON; every failure (network, timeout, non-2xx, not JSON) becomes an OncallUnavailable that says which. */
export async function getJson(provider: string, url: URL, headers: Record<string, string>, options: HttpOptions): Promise<unknown> {
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { headers: { Accept: 'application/json', ...headers }, signal: AbortSignal.timeout(options.timeoutMs) });
  } catch (error) {
    const name = (error as Error).name;
    throw new OncallUnavailable(provider, name === 'TimeoutError' || name === 'AbortError'
      ? `did not answer within ${options.timeoutMs / 1000} s`
      : `could not be reached (${(error as Error).message})`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    const hint = response.status === 401 || response.status === 403 ? ': check the API token and its access'
      : response.status === 429 ? ': rate limited' : '';
    throw new OncallUnavailable(provider, `answered HTTP ${response.status}${hint}`);
  }
  try {
    return await response.json();
  } catch {
    throw new OncallUnavailable(provider, 'answered something that is not JSON');
  }
}

/** The base URL with a path appended (a base with a path of its own, like a proxy prefix, keeps it). */
export function apiUrl(base: string, path: string): URL {
  return new URL(`${base.replace(/\/+$/, '')}${path}`);
}
