// provider name → its client: one line per provider. Tokens are read when the client is made, never logged.
import type { OncallProviderConfig, OncallProviderName } from '../core/model.js';
import { OPSGENIE_API_URL, opsgenieProvider } from './opsgenie.js';
import { PAGERDUTY_API_URL, pagerDutyProvider } from './pagerduty.js';
import type { HttpOptions, OncallProvider } from './port.js';

const FACTORIES: Record<OncallProviderName, { apiUrl: string; make: (options: HttpOptions) => OncallProvider }> = {
  pagerduty: { apiUrl: PAGERDUTY_API_URL, make: pagerDutyProvider },
  opsgenie: { apiUrl: OPSGENIE_API_URL, make: opsgenieProvider },
};

export function makeProvider(name: OncallProviderName, config: OncallProviderConfig, token: string, timeoutMs: number, fetchImpl?: typeof fetch): OncallProvider {
  const factory = FACTORIES[name];
  return factory.make({ token, apiUrl: config.apiUrl ?? factory.apiUrl, timeoutMs, ...(fetchImpl && { fetch: fetchImpl }) });
}
