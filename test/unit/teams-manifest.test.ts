import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandHelp } from '../../src/chat/command-grammar.js';

const dir = join(import.meta.dirname, '..', '..', 'manifests', 'teams');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
  id: string; manifestVersion: string; name: { short: string }; description: { short: string; full: string };
  icons: { color: string; outline: string };
  bots: Array<{ botId: string; scopes: string[]; commandLists: Array<{ scopes: string[]; commands: Array<{ title: string; description: string }> }> }>;
};

/** Width, height and colour type from a PNG's IHDR chunk. */
function pngHeader(file: string): { width: number; height: number; colorType: number } {
  const png = readFileSync(join(dir, file));
  expect(png.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20), colorType: png[25]! };
}

describe('manifests/teams/manifest.json', () => {
  it('lists exactly the commands the bot understands, within Teams\' limits', () => {
    const [bot] = manifest.bots;
    const commands = bot!.commandLists[0]!.commands;
    expect(commands.map((c) => c.title)).toEqual([...new Set(commandHelp('').map(([command]) => command.split(' ')[0]))]);
    for (const c of commands) {
      expect(c.title.length).toBeLessThanOrEqual(32);
      expect(c.description.length).toBeLessThanOrEqual(128);
    }
    expect(bot!.scopes).toEqual(['personal']);
  });

  it('names one app id for the app and the bot, and fits the store fields', () => {
    expect(manifest.bots[0]!.botId).toBe(manifest.id);
    expect(manifest.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(manifest.name.short.length).toBeLessThanOrEqual(30);
    expect(manifest.description.short.length).toBeLessThanOrEqual(80);
    expect(manifest.description.full.length).toBeLessThanOrEqual(4000);
  });

  it('ships a 192×192 colour icon and a 32×32 outline icon with transparency', () => {
    expect(pngHeader(manifest.icons.color)).toMatchObject({ width: 192, height: 192 });
    expect(pngHeader(manifest.icons.outline)).toEqual({ width: 32, height: 32, colorType: 6 });
  });
});
