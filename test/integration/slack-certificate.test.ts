// The certificate DM at its largest: a 4096-bit RSA user key signed by a 4096-bit RSA CA, with a key ID near its
// 256 characters, is about 2,960 characters on one line. A Block Kit section holds 3,000, so the install
// instructions around it would push it past the limit: the certificate must arrive whole, in a block of its own.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { caKeyFromKeyObject } from '../../src/ca/ca-key.js';
import { sshPublicKeyBlob } from '../../src/ca/ssh-public-key.js';
import { accessConfig, integration, server } from '../helpers/access-config.js';
import { registerKey } from '../helpers/access-context.js';
import type { SlackCall } from '../helpers/fake-slack.js';
import { PEOPLE, approvalMessageOf, dmChannel, openFlow, requestByCommand, startSlackRig, type SlackRig } from './slack-harness.js';

let rig: SlackRig;
afterEach(async () => rig?.close());

/** Block Kit's documented limits on what a message carries: 50 blocks, 3,000 characters per text object, 150 per header. */
function overLimits(blocks: Array<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  if (blocks.length > 50) problems.push(`${blocks.length} blocks`);
  for (const block of blocks) {
    const texts = [(block.text as { text?: string } | undefined)?.text, ...((block.elements as Array<{ text?: unknown }> | undefined) ?? []).map((e) => e.text)]
      .filter((t): t is string => typeof t === 'string');
    const limit = block.type === 'header' ? 150 : 3000;
    for (const text of texts) if (text.length > limit) problems.push(`${String(block.type)} text of ${text.length} characters`);
  }
  return problems;
}

/** Every text the message's blocks show, however deeply nested (rich text included). */
function shownTexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(shownTexts);
  if (value === null || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  return [...(typeof record.text === 'string' ? [record.text] : []), ...Object.values(record).flatMap(shownTexts)];
}

describe('the certificate DM', () => {
  it('carries a 4096-bit RSA certificate with a key ID near its 256 characters whole, within Block Kit\'s limits', async () => {
    const rsa = () => generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey;
    const userKey = `ssh-rsa ${sshPublicKeyBlob(createPublicKey(rsa())).toString('base64')} dev@laptop`;
    // Server names long enough that the key ID (request, person, servers) reaches its 256 characters.
    const servers = Array.from({ length: 8 }, (_, i) => server(`web-${i}-in-the-primary-datacenter-${'x'.repeat(8)}`));
    const big = integration('big-linux', servers);
    rig = await startSlackRig({ caKey: caKeyFromKeyObject(rsa()), config: accessConfig({ integrations: [big], flows: [openFlow('big', big)] }) });
    registerKey(rig.ctx, PEOPLE.dev.email, 'dev', userKey);

    const id = await requestByCommand(rig, PEOPLE.dev.id, `request ${servers.map((s) => s.name).join(',')} 1h INC-9`);
    await rig.slack.click(PEOPLE.lead.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, PEOPLE.lead.id));
    await rig.settle();

    const certificate = rig.ctx.db.prepare('SELECT certificate FROM certificates WHERE request_id = ?').pluck().get(id) as string;
    expect(certificate).toMatch(/^ssh-rsa-cert-v01@openssh\.com \S+ keyway-req-1:dev@example\.com:\S+$/);
    expect(certificate.split(' ')[2]!.length).toBeGreaterThan(230);
    expect(certificate.length).toBeGreaterThan(2900);

    const dm: SlackCall = await rig.fake.waitFor('chat.postMessage', (c) => c.body.channel === dmChannel(PEOPLE.dev.id) && JSON.stringify(c.body).includes('-cert-v01@openssh.com'));
    expect(dm.response.ok).toBe(true);
    const blocks = dm.body.blocks as Array<Record<string, unknown>>;
    expect(overLimits(blocks)).toEqual([]);
    // The whole line, on a line of its own, in one text the person copies (not split over blocks, not cut).
    const holding = shownTexts(blocks).filter((t) => t.split('\n').includes(certificate));
    expect(holding).toHaveLength(1);
    expect(holding[0]).toBe(`cat > ~/.ssh/id_ed25519-cert.pub <<'EOF'\n${certificate}\nEOF`);
  });
});
