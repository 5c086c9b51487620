// Signed requests as Slack sends them to /slack/events: slash commands (form-encoded), interactive payloads
// (block_actions, view_submission, block_suggestion as `payload=<json>`) and Events API callbacks (JSON),
// each signed with the v0 HMAC of `v0:timestamp:body`. Imported by bench/slack.ts too: no test framework here.
import { createHmac, randomBytes } from 'node:crypto';

export interface SlackIds {
  teamId: string;
  appId: string;
}

export interface SlackResponse {
  status: number;
  text: string;
  /** Parsed JSON body, when the answer had one. */
  json?: Record<string, unknown>;
  /** Milliseconds from sending to the full answer. */
  ms: number;
}

export interface SendOptions {
  /** Seconds since the epoch; defaults to now. */
  timestamp?: number;
  /** Overrides the computed signature (forgeries). */
  signature?: string;
  /** Signs with another secret. */
  secret?: string;
}

export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export function newTriggerId(): string {
  return `${Date.now()}.${randomBytes(6).toString('hex')}`;
}

export type Values = Record<string, Record<string, Record<string, unknown>>>;

/** Sends signed payloads to one Slack endpoint, as one workspace and app. */
export class SlackSender {
  constructor(
    readonly url: string,
    readonly signingSecret: string,
    readonly ids: SlackIds,
    readonly responseUrl: (tag: string) => string,
  ) {}

  async send(body: string, contentType: string, options: SendOptions = {}): Promise<SlackResponse> {
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    const signature = options.signature ?? slackSignature(options.secret ?? this.signingSecret, timestamp, body);
    const started = performance.now();
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': contentType, 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature },
      body,
    });
    const text = await response.text();
    const ms = performance.now() - started;
    let json: Record<string, unknown> | undefined;
    if (text.startsWith('{')) json = JSON.parse(text) as Record<string, unknown>;
    return { status: response.status, text, json, ms };
  }

  commandBody(userId: string, text: string, extra: Record<string, string> = {}): string {
    return new URLSearchParams({
      token: 'verification-token-unused', team_id: this.ids.teamId, team_domain: 'keyway-test', channel_id: 'C0GENERAL', channel_name: 'general',
      user_id: userId, user_name: userId.toLowerCase(), command: '/ssh-access', text, api_app_id: this.ids.appId,
      response_url: this.responseUrl(`command-${userId}-${randomBytes(3).toString('hex')}`), trigger_id: newTriggerId(), ...extra,
    }).toString();
  }

  command(userId: string, text: string, options: SendOptions & { extra?: Record<string, string> } = {}): Promise<SlackResponse> {
    return this.send(this.commandBody(userId, text, options.extra), 'application/x-www-form-urlencoded', options);
  }

  interactive(payload: Record<string, unknown>, options: SendOptions = {}): Promise<SlackResponse> {
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.send(body, 'application/x-www-form-urlencoded', options);
  }

  base(userId: string, type: string): Record<string, unknown> {
    return {
      type, team: { id: this.ids.teamId, domain: 'keyway-test' }, user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: this.ids.teamId },
      api_app_id: this.ids.appId, token: 'verification-token-unused', is_enterprise_install: false,
    };
  }

  /** A button click on a message (channel + ts) or, without `message`, in the App Home. */
  clickPayload(userId: string, actionId: string, value: string, where: { channel: string; ts: string } | 'home', triggerId = newTriggerId()): Record<string, unknown> {
    const action = { type: 'button', action_id: actionId, block_id: `b-${actionId}`, value, text: { type: 'plain_text', text: actionId }, action_ts: `${Date.now() / 1000}` };
    const common = { ...this.base(userId, 'block_actions'), trigger_id: triggerId, actions: [action] };
    if (where === 'home') {
      return { ...common, container: { type: 'view', view_id: 'VHOME' }, view: { id: 'VHOME', type: 'home', callback_id: '', private_metadata: '', state: { values: {} } } };
    }
    return {
      ...common, container: { type: 'message', message_ts: where.ts, channel_id: where.channel, is_ephemeral: false },
      channel: { id: where.channel, name: 'directmessage' }, message: { type: 'message', ts: where.ts, text: '' },
      response_url: this.responseUrl(`click-${userId}-${actionId}-${value}`),
    };
  }

  click(userId: string, actionId: string, value: string, where: { channel: string; ts: string } | 'home', options: SendOptions & { triggerId?: string } = {}): Promise<SlackResponse> {
    return this.interactive(this.clickPayload(userId, actionId, value, where, options.triggerId), options);
  }

  submit(userId: string, callbackId: string, values: Values, privateMetadata = '', options: SendOptions = {}): Promise<SlackResponse> {
    return this.interactive({
      ...this.base(userId, 'view_submission'), trigger_id: newTriggerId(),
      view: {
        id: 'VMODAL', type: 'modal', callback_id: callbackId, title: { type: 'plain_text', text: 'Keyway form' }, private_metadata: privateMetadata,
        state: { values }, hash: 'h', app_id: this.ids.appId, team_id: this.ids.teamId,
      },
    }, options);
  }

  suggest(userId: string, actionId: string, blockId: string, value: string, options: SendOptions = {}): Promise<SlackResponse> {
    return this.interactive({
      ...this.base(userId, 'block_suggestion'), action_id: actionId, block_id: blockId, value,
      container: { type: 'view', view_id: 'VMODAL' }, view: { id: 'VMODAL', type: 'modal', callback_id: 'keyway_request', private_metadata: '', state: { values: {} } },
    }, options);
  }

  event(event: Record<string, unknown>, options: SendOptions = {}): Promise<SlackResponse> {
    const body = JSON.stringify({
      token: 'verification-token-unused', team_id: this.ids.teamId, api_app_id: this.ids.appId, event, type: 'event_callback',
      event_id: `Ev${randomBytes(5).toString('hex')}`, event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: this.ids.teamId, user_id: 'U0KEYWAYBOT', is_bot: true, is_enterprise_install: false }],
    });
    return this.send(body, 'application/json', options);
  }
}

/** Form values as a view_submission carries them. */
export const formValue = {
  text: (value: string) => ({ type: 'plain_text_input', value }),
  options: (values: string[]) => ({ type: 'multi_static_select', selected_options: values.map((v) => ({ text: { type: 'plain_text', text: v }, value: v })) }),
};
