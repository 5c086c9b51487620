// The App Home answers clicks by refreshing itself, forms it opens included (issue 14).
import { afterEach, describe, expect, it } from 'vitest';
import { getRequest } from '../../src/store/requests.js';
import { registerKey } from '../helpers/access-context.js';
import { formValue } from '../helpers/slack-requests.js';
import { PEOPLE, callText, requestByCommand, startSlackRig, type SlackRig } from './slack-harness.js';

let rig: SlackRig;
afterEach(async () => rig?.close());

const { dev, lead } = PEOPLE;

function homesOf(userId: string): string[] {
  return rig.fake.callsTo('views.publish').filter((c) => c.body.user_id === userId).map(callText);
}

describe('the App Home after a click', () => {
  it('refreshes the Home when a Deny clicked there is submitted with its reason', async () => {
    rig = await startSlackRig();
    registerKey(rig.ctx, dev.email, 'dev');
    const id = await requestByCommand(rig, dev.id, 'request web-2 1h INC-9');
    await rig.slack.click(lead.id, 'keyway_deny', String(id), 'home');
    await rig.settle();
    const opened = rig.fake.callsTo('views.open').at(-1)!;
    expect(opened.body.view.private_metadata).toBe(JSON.stringify({ requestId: id, home: true }));
    const before = homesOf(lead.id).length;

    await rig.slack.submit(lead.id, 'keyway_deny_reason', { reason: { reason: formValue.text('use staging') } }, opened.body.view.private_metadata);
    await rig.settle();
    expect(getRequest(rig.ctx.db, id)!.state).toBe('denied');
    expect(homesOf(lead.id).length).toBe(before + 1);
    expect(homesOf(lead.id).at(-1)).toContain('Nothing waits for your approval.');
  });

  it('refreshes the requester\'s Home after the request form is submitted, so it lists the new request', async () => {
    rig = await startSlackRig();
    registerKey(rig.ctx, dev.email, 'dev');
    await rig.slack.submit(dev.id, 'keyway_request', {
      servers: { keyway_servers: formValue.options(['web-2']) }, duration: { duration: formValue.text('1h') }, reason: { reason: formValue.text('INC-10') },
    });
    await rig.settle();
    expect(homesOf(dev.id).at(-1)).toMatch(/\*#1\* `web-2` · 1h · waiting for approval/);
  });
});
