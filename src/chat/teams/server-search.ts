// Teams' dynamic type-ahead for the request form's server picker (Adaptive Card Input.ChoiceSet with
// `choices.data: Data.Query`): Teams sends an `application/search` invoke with what the person typed, and gets back
// the matching servers this person may request, a page at a time. Teams shows at most 15 per page.
import { ActivityTypes, type TurnContext } from 'botbuilder';
import { requestableServers } from '../../core/policy.js';
import { SERVER_SEARCH_DATASET } from './cards.js';
import type { TeamsIdentity } from './identity.js';
import type { TeamsDeps } from './messenger.js';

export const SEARCH_INVOKE = 'application/search';
const MAX_PAGE = 15;

interface SearchValue {
  queryText?: unknown;
  dataset?: unknown;
  queryOptions?: { skip?: unknown; top?: unknown };
}

function respond(context: TurnContext, status: number, body: unknown): Promise<unknown> {
  return context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status, body } });
}

export async function handleServerSearch(deps: TeamsDeps, identity: TeamsIdentity, context: TurnContext): Promise<void> {
  const value = (context.activity.value ?? {}) as SearchValue;
  if (value.dataset !== SERVER_SEARCH_DATASET) {
    await respond(context, 400, { type: 'application/vnd.microsoft.error', value: { code: 'BadRequest', message: 'unknown dataset' } });
    return;
  }
  try {
    const person = await identity.personOf(context);
    const query = typeof value.queryText === 'string' ? value.queryText.trim().toLowerCase() : '';
    const skip = Math.max(0, Math.trunc(Number(value.queryOptions?.skip ?? 0)) || 0);
    const top = Math.min(MAX_PAGE, Math.max(1, Math.trunc(Number(value.queryOptions?.top ?? MAX_PAGE)) || MAX_PAGE));
    const matches = requestableServers(deps.engine.ctx.config(), person).filter((s) => s.server.name.toLowerCase().includes(query));
    const results = matches.slice(skip, skip + top).map((s) => ({ title: `${s.server.name} (${s.integration.name})`, value: s.server.name }));
    await respond(context, 200, { type: 'application/vnd.microsoft.search.searchResponse', value: { results } });
  } catch (error) {
    deps.logger.warn({ err: (error as Error).message }, 'Teams server search failed');
    await respond(context, 200, { type: 'application/vnd.microsoft.search.searchResponse', value: { results: [] } });
  }
}
