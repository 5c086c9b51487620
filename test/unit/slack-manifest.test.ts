import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { commandHelp } from '../../src/chat/command-grammar.js';
import { SLASH_COMMAND } from '../../src/chat/slack/commands.js';

const root = join(import.meta.dirname, '..', '..');
const manifest = parse(readFileSync(join(root, 'manifests', 'slack-app.yaml'), 'utf8')) as {
  oauth_config: { scopes: { bot: string[] } };
  features: { app_home: Record<string, boolean>; slash_commands: Array<{ command: string; usage_hint: string; url: string }> };
  settings: {
    socket_mode_enabled: boolean;
    interactivity: { is_enabled: boolean; request_url: string; message_menu_options_url?: string };
    event_subscriptions: { request_url: string; bot_events: string[] };
  };
};

// The bot scopes each Web API method Keyway calls needs (https://docs.slack.dev/reference/methods).
const METHOD_SCOPES: Record<string, string[]> = {
  'auth.test': [],
  'bots.info': ['users:read'],
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'conversations.open': ['im:write'],
  'users.info': ['users:read', 'users:read.email'],
  'users.lookupByEmail': ['users:read.email'],
  'usergroups.users.list': ['usergroups:read'],
  'views.open': [],
  'views.publish': [],
  'views.update': [],
};

function methodsCalled(): string[] {
  const dir = join(root, 'src', 'chat', 'slack');
  const found = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    for (const match of readFileSync(join(dir, file), 'utf8').matchAll(/client\.((?:[a-z][A-Za-z]*\.)+[a-z][A-Za-z]*)\(/g)) found.add(match[1]!);
  }
  return [...found].sort();
}

describe('the Slack app manifest', () => {
  it('asks for exactly the scopes the Web API methods Keyway calls need, plus the slash command and public channel posts', () => {
    const called = methodsCalled();
    expect(called).toContain('chat.postMessage');
    expect(called.filter((m) => !(m in METHOD_SCOPES))).toEqual([]);
    const needed = new Set(['commands', 'chat:write.public', ...called.flatMap((m) => METHOD_SCOPES[m]!)]);
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...needed].sort());
  });

  it('has the slash command, interactivity, the Home tab, its event, and Socket Mode', () => {
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual([SLASH_COMMAND]);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(['app_home_opened']);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
  });

  it('sends every HTTP-mode request to /slack/events, the server search (options URL, above 100 servers) included', () => {
    const { interactivity, event_subscriptions: events } = manifest.settings;
    const urls = [manifest.features.slash_commands[0]!.url, events.request_url, interactivity.request_url, interactivity.message_menu_options_url];
    expect(urls.every((url) => url === 'https://keyway.example.com/slack/events'), urls.join(' ')).toBe(true);
  });

  it('lets people type /ssh-access in the app\'s DM: the Messages tab is on and not read-only', () => {
    expect(manifest.features.app_home.messages_tab_enabled).toBe(true);
    expect(manifest.features.app_home.messages_tab_read_only_enabled).toBe(false);
  });

  it('names every subcommand in the usage hint Slack shows while typing', () => {
    const subcommands = commandHelp(`${SLASH_COMMAND} `).slice(1).map(([usage]) => usage.split(' ')[1]!);
    expect(subcommands).toContain('cancel');
    for (const word of subcommands) expect(manifest.features.slash_commands[0]!.usage_hint).toContain(`[${word}`);
  });
});
