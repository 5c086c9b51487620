// PagerDuty (REST API v2): GET /oncalls?schedule_ids[]=…&include[]=users&since=…&until=…, paged with offset/limit/more;
// `Authorization: Token token=…`. The included users carry the e-mails; `end` is when each shift ends.
import { apiUrl, getJson, OncallUnavailable, type HttpOptions, type OncallProvider, type Shift } from './port.js';

export const PAGERDUTY_API_URL = 'https://api.pagerduty.com';
const PAGE = 100;
/** A runaway `more: true` must not loop for ever. */
const MAX_PAGES = 50;

interface OncallsPage {
  oncalls?: Array<{ user?: { email?: string } | null; schedule?: { id?: string } | null; end?: string | null }>;
  more?: boolean;
}

export function pagerDutyProvider(options: HttpOptions): OncallProvider {
  return {
    async whoIsOnCall(scheduleId, at) {
      const shifts: Shift[] = [];
      for (let page = 0, offset = 0; ; page += 1, offset += PAGE) {
        if (page >= MAX_PAGES) throw new OncallUnavailable('PagerDuty', `kept paging past ${MAX_PAGES * PAGE} on-calls`);
        const url = apiUrl(options.apiUrl, '/oncalls');
        url.searchParams.append('schedule_ids[]', scheduleId);
        url.searchParams.append('include[]', 'users');
        url.searchParams.set('since', new Date(at).toISOString());
        url.searchParams.set('until', new Date(at + 1000).toISOString());
        url.searchParams.set('limit', String(PAGE));
        url.searchParams.set('offset', String(offset));
        const body = await getJson('PagerDuty', url, { Authorization: `Token token=${options.token}` }, options) as OncallsPage;
        if (!Array.isArray(body?.oncalls)) throw new OncallUnavailable('PagerDuty', 'answered without an oncalls list');
        for (const oncall of body.oncalls) {
          const email = oncall.user?.email;
          if (typeof email !== 'string' || (oncall.schedule?.id !== undefined && oncall.schedule.id !== scheduleId)) continue;
          const end = oncall.end ? Date.parse(oncall.end) : Number.NaN;
          if (!Number.isNaN(end) && end <= at) continue;
          shifts.push({ email: email.toLowerCase(), ...(!Number.isNaN(end) && { endsAt: end }) });
        }
        if (body.more !== true) return shifts;
      }
    },
  };
}
