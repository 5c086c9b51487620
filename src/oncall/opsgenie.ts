// Opsgenie: GET /v2/schedules/{id}/on-calls?scheduleIdentifierType=id&flat=true&date=…, `Authorization: GenieKey …`.
// With flat=true it answers { data: { _parent: {…}, onCallRecipients: ["user@…"] } }: user names (e-mails), no end
// time — so an Opsgenie shift has no endsAt and cap_to_shift cannot shorten it (max_duration still applies).
import { apiUrl, getJson, OncallUnavailable, type HttpOptions, type OncallProvider } from './port.js';

export const OPSGENIE_API_URL = 'https://api.opsgenie.com';

interface OnCallsAnswer {
  data?: { onCallRecipients?: unknown[] };
}

/** Opsgenie's date format: yyyy-MM-dd'T'HH:mm:ssZ. */
function opsgenieDate(at: number): string {
  return `${new Date(at).toISOString().slice(0, 19)}Z`;
}

export function opsgenieProvider(options: HttpOptions): OncallProvider {
  return {
    async whoIsOnCall(scheduleId, at) {
      const url = apiUrl(options.apiUrl, `/v2/schedules/${encodeURIComponent(scheduleId)}/on-calls`);
      url.searchParams.set('scheduleIdentifierType', 'id');
      url.searchParams.set('flat', 'true');
      url.searchParams.set('date', opsgenieDate(at));
      const body = await getJson('Opsgenie', url, { Authorization: `GenieKey ${options.token}` }, options) as OnCallsAnswer;
      const recipients = body?.data?.onCallRecipients;
      if (!Array.isArray(recipients)) throw new OncallUnavailable('Opsgenie', 'answered without onCallRecipients');
      return recipients.filter((r): r is string => typeof r === 'string' && r.includes('@')).map((email) => ({ email: email.toLowerCase() }));
    },
  };
}
