// The App Home tab: published when the person opens it and after they act on it.
import type { App } from '@slack/bolt';
import { homeView } from './blocks-home.js';
import { myAccess } from './commands.js';
import { logUnexpected } from './reply.js';
import type { SlackDeps } from './slack-deps.js';

export async function publishHome(deps: SlackDeps, userId: string): Promise<void> {
  const person = await deps.directory.requesterOf(userId);
  await deps.client.views.publish({ user_id: userId, view: homeView(myAccess(deps, person)) });
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
