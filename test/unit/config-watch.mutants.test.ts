// Hot reload of the access file (src/config/watch.ts) in the cases config-watch.test.ts leaves open: what it must NOT
// reload on, a burst of writes, a Kubernetes ConfigMap swap, a servers_file first named by a bad edit, and close().
// Written for the mutants that survived `npm run mutate`. "Did not reload" needs a wait: QUIET_MS is several times the
// 100 ms debounce, and every positive wait is bounded.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchAccessConfig, type AccessConfigWatcher } from '../../src/config/watch.js';

const QUIET_MS = 300;
const quiet = () => new Promise((resolve) => setTimeout(resolve, QUIET_MS));

const inline = (cleanupAfterDays: number) =>
  ['integrations:', '  - name: prod', '    servers: [{ name: web-1, host: 10.0.0.1 }]', '    owners: [ops@example.com]', `    cleanup_after_days: ${cleanupAfterDays}`, ''].join('\n');
const fromFile = (serversFile: string) => ['integrations:', '  - name: prod', `    servers_file: ${serversFile}`, '    owners: [ops@example.com]', ''].join('\n');

describe('watchAccessConfig, beyond the basics', () => {
  let dir: string;
  let path: string;
  let watcher: AccessConfigWatcher | undefined;
  const onReload = vi.fn();
  const onError = vi.fn();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keyway-watch-'));
    path = join(dir, 'access.yaml');
    writeFileSync(path, inline(7));
    onReload.mockReset();
    onError.mockReset();
  });

  afterEach(() => {
    watcher?.close();
    watcher = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const cleanupDays = () => watcher!.current().integrations[0]!.cleanupAfterDays;

  it('does not reload when another file in the same directory changes', async () => {
    watcher = watchAccessConfig(path, { onReload, onError });
    writeFileSync(join(dir, 'notes.txt'), 'unrelated');
    await quiet();
    expect(onReload).not.toHaveBeenCalled();
    expect(onError).not.toHaveBeenCalled();
  });

  it('reloads once for a burst of writes', async () => {
    watcher = watchAccessConfig(path, { onReload, onError });
    for (const days of [8, 9, 10]) writeFileSync(path, inline(days));
    await vi.waitFor(() => expect(onReload).toHaveBeenCalled(), { timeout: 5_000 });
    await quiet();
    expect(onReload).toHaveBeenCalledTimes(1);
    expect(cleanupDays()).toBe(10);
  });

  it('reloads when a Kubernetes ConfigMap volume swaps its ..data link, leaving the file link untouched', async () => {
    const volume = mkdtempSync(join(tmpdir(), 'keyway-configmap-'));
    try {
      mkdirSync(join(volume, '..2026_12_01_a'));
      writeFileSync(join(volume, '..2026_12_01_a', 'access.yaml'), inline(7));
      symlinkSync('..2026_12_01_a', join(volume, '..data'));
      symlinkSync(join('..data', 'access.yaml'), join(volume, 'access.yaml'));
      watcher = watchAccessConfig(join(volume, 'access.yaml'), { onReload, onError });
      expect(cleanupDays()).toBe(7);

      mkdirSync(join(volume, '..2026_12_01_b'));
      writeFileSync(join(volume, '..2026_12_01_b', 'access.yaml'), inline(12));
      symlinkSync('..2026_12_01_b', join(volume, '..data_tmp'));
      renameSync(join(volume, '..data_tmp'), join(volume, '..data'));
      await vi.waitFor(() => expect(cleanupDays()).toBe(12), { timeout: 5_000 });
      expect(onError).not.toHaveBeenCalled();
    } finally {
      watcher?.close();
      watcher = undefined;
      rmSync(volume, { recursive: true, force: true });
    }
  });

  it('watches a servers_file that a bad edit named first, so fixing that file is enough', async () => {
    watcher = watchAccessConfig(path, { onReload, onError });
    mkdirSync(join(dir, 'inventory'));
    writeFileSync(join(dir, 'inventory', 'servers.json'), '[');
    writeFileSync(path, fromFile('inventory/servers.json'));
    await vi.waitFor(() => expect(onError).toHaveBeenCalled(), { timeout: 5_000 });
    expect(onReload).not.toHaveBeenCalled();

    writeFileSync(join(dir, 'inventory', 'servers.json'), '[{"name":"web-9","host":"10.0.0.9"}]');
    await vi.waitFor(() => expect(watcher!.current().integrations[0]!.servers.map((server) => server.name)).toEqual(['web-9']), { timeout: 5_000 });
  });

  it('stops watching a servers_file the configuration no longer names', async () => {
    mkdirSync(join(dir, 'inventory'));
    writeFileSync(join(dir, 'inventory', 'servers.json'), '[{"name":"web-1","host":"10.0.0.1"}]');
    writeFileSync(path, fromFile('inventory/servers.json'));
    watcher = watchAccessConfig(path, { onReload, onError });
    writeFileSync(path, inline(5));
    await vi.waitFor(() => expect(onReload).toHaveBeenCalledTimes(1), { timeout: 5_000 });

    writeFileSync(join(dir, 'inventory', 'servers.json'), '[{"name":"web-2","host":"10.0.0.2"}]');
    await quiet();
    expect(onReload).toHaveBeenCalledTimes(1);
  });

  it('neither reloads nor reports after close()', async () => {
    watcher = watchAccessConfig(path, { onReload, onError });
    watcher.close();
    writeFileSync(path, inline(21));
    expect(watcher.reload()).toBe(false);
    await quiet();
    expect(onReload).not.toHaveBeenCalled();
    expect(cleanupDays()).toBe(7);
  });
});
