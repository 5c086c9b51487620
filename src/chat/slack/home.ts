// The App Home tab: published when the person opens it and after they act on it. Someone Keyway cannot serve
// (no e-mail on the profile, another workspace) sees why on the tab instead of a stale or empty Home.
import type { App, types } from '@slack/bolt';
import { isUserError } from '../../core/errors.js';
import { homeRefusal, homeView } from './blocks-home.js';
import { myAccess } from './commands.js';
import { logUnexpected } from './reply.js';
import type { SlackDeps } from './slack-deps.js';

export async function publishHome(deps: SlackDeps, userId: string): Promise<void> {
  let view: types.HomeView;
  try {
    view = homeView(await myAccess(deps, userId));
  } catch (error) {
    if (!isUserError(error)) throw error;
    view = homeRefusal(error.message);
  }
  await deps.client.views.publish({ user_id: userId, view });
}

/** Publishes the Home again after the person acted; a failure is logged (Slack keeps the last Home), never thrown. */
export async function refreshHome(deps: SlackDeps, userId: string): Promise<void> {
  try {
    await publishHome(deps, userId);
  } catch (error) {
    logUnexpected(deps, error, 'app home refresh');
  }
}

export function registerHome(app: App, deps: SlackDeps): void {
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    try {
      await publishHome(deps, event.user);
    } catch (error) {
      // No one to answer here: Slack shows the last published Home; the log has the reason.
      logUnexpected(deps, error, 'app home');
    }
  });
}
