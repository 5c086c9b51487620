import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { watchAccessConfig, type AccessConfigWatcher } from '../../src/config/watch.js';

// "Did not reload" needs a wait: QUIET_MS is several times the 100 ms debounce; every positive wait is bounded.
const QUIET_MS = 300;
const quiet = () => new Promise((resolve) => setTimeout(resolve, QUIET_MS));

const fromFile = (serversFile: string) => ['integrations:', '  - name: prod', `    servers_file: ${serversFile}`, '    owners: [ops@example.com]', ''].join('\n');

const config = (cleanupAfterDays: number | string) =>
  [
    'integrations:',
    '  - name: prod',
    '    servers: [{ name: web-1, host: 10.0.0.1 }]',
    '    owners: [ops@example.com]',
    `    cleanup_after_days: ${cleanupAfterDays}`,
    '',
  ].join('\n');

describe('watchAccessConfig', () => {
  let dir: string;
  let path: string;
  let watcher: AccessConfigWatcher | undefined;
  const onReload = vi.fn();
  const onError = vi.fn();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keyway-config-'));
    path = join(dir, 'access.yaml');
    writeFileSync(path, config(7));
    onReload.mockReset();
    onError.mockReset();
  });

  afterEach(() => {
    watcher?.close();
    watcher = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const cleanupDays = () => watcher!.current().integrations[0]!.cleanupAfterDays;

  it('throws when the first load fails', () => {
    writeFileSync(path, config('soon'));
    expect(() => watchAccessConfig(path, { onReload, onError })).toThrow(ConfigError);
  });

  it('keeps the last good config when an edit is bad, and takes the next good one', async () => {
    watcher = watchAccessConfig(path, { onReload, onError });
    expect(cleanupDays()).toBe(7);

    writeFileSync(path, config('soon'));
    await vi.waitFor(() => expect(onError).toHaveBeenCalled(), { timeout: 5_000 });
    const error = onError.mock.calls[0]![0] as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems).toEqual([{ file: path, line: 5, col: 25, message: 'cleanup_after_days must be a whole number of days' }]);
    expect(cleanupDays()).toBe(7);
    expect(onReload).not.toHaveBeenCalled();

    writeFileSync(path, config(14));
    await vi.waitFor(() => expect(onReload).toHaveBeenCalled(), { timeout: 5_000 });
    expect(cleanupDays()).toBe(14);
    expect(onReload.mock.calls.at(-1)![0]).toBe(watcher.current());
  });

  it('notices a file replaced by rename, as editors save it', async () => {
    watcher = watchAccessConfig(path, { onReload, onError });
    const temporary = join(dir, '.access.yaml.swp');
    writeFileSync(temporary, config(30));
    renameSync(temporary, path);
    await vi.waitFor(() => expect(cleanupDays()).toBe(30), { timeout: 5_000 });
    expect(onError).not.toHaveBeenCalled();
  });

  it('reloads on SIGHUP', () => {
    watcher = watchAccessConfig(path, { onReload, onError });
    writeFileSync(path, config(21));
    process.emit('SIGHUP', 'SIGHUP');
    expect(onReload).toHaveBeenCalledTimes(1);
    expect(cleanupDays()).toBe(21);
  });

  it('says whether reload() took the new config', () => {
    watcher = watchAccessConfig(path, { onReload, onError });
    writeFileSync(path, 'integrations: [');
    expect(watcher.reload()).toBe(false);
    expect(cleanupDays()).toBe(7);
    writeFileSync(path, config(3));
    expect(watcher.reload()).toBe(true);
    expect(cleanupDays()).toBe(3);
  });

  it('stops listening for SIGHUP when closed', () => {
    watcher = watchAccessConfig(path, { onReload, onError });
    watcher.close();
    writeFileSync(path, config(21));
    process.emit('SIGHUP', 'SIGHUP');
    expect(onReload).not.toHaveBeenCalled();
    expect(cleanupDays()).toBe(7);
  });

  it('reloads when a servers_file next to the config changes', async () => {
    const servers = join(dir, 'servers.json');
    writeFileSync(servers, '[{"name":"web-1","host":"10.0.0.1"}]');
    writeFileSync(path, ['integrations:', '  - name: prod', '    servers_file: servers.json', '    owners: [ops@example.com]', ''].join('\n'));
    watcher = watchAccessConfig(path, { onReload, onError });
    writeFileSync(servers, '[{"name":"web-1","host":"10.0.0.1"},{"name":"web-2","host":"10.0.0.2"}]');
    await vi.waitFor(() => expect(watcher!.current().integrations[0]!.servers.map((server) => server.name)).toEqual(['web-1', 'web-2']), {
      timeout: 5_000,
    });
  });

  it('does not reload when another file in the same directory changes', async () => {
    watcher = watchAccessConfig(path, { onReload, onError });
    writeFileSync(join(dir, 'notes.txt'), 'unrelated');
    await quiet();
    expect(onReload).not.toHaveBeenCalled();
    expect(onError).not.toHaveBeenCalled();
  });

  it('reloads once for a burst of writes', async () => {
    watcher = watchAccessConfig(path, { onReload, onError });
    for (const days of [8, 9, 10]) writeFileSync(path, config(days));
    await vi.waitFor(() => expect(onReload).toHaveBeenCalled(), { timeout: 5_000 });
    await quiet();
    expect(onReload).toHaveBeenCalledTimes(1);
    expect(cleanupDays()).toBe(10);
  });

  it('reloads when a Kubernetes ConfigMap volume swaps its ..data link, leaving the file link untouched', async () => {
    const volume = mkdtempSync(join(tmpdir(), 'keyway-configmap-'));
    try {
      mkdirSync(join(volume, '..2026_12_01_a'));
      writeFileSync(join(volume, '..2026_12_01_a', 'access.yaml'), config(7));
      symlinkSync('..2026_12_01_a', join(volume, '..data'));
      symlinkSync(join('..data', 'access.yaml'), join(volume, 'access.yaml'));
      watcher = watchAccessConfig(join(volume, 'access.yaml'), { onReload, onError });
      expect(cleanupDays()).toBe(7);

      mkdirSync(join(volume, '..2026_12_01_b'));
      writeFileSync(join(volume, '..2026_12_01_b', 'access.yaml'), config(12));
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
    writeFileSync(path, config(5));
    await vi.waitFor(() => expect(onReload).toHaveBeenCalledTimes(1), { timeout: 5_000 });

    writeFileSync(join(dir, 'inventory', 'servers.json'), '[{"name":"web-2","host":"10.0.0.2"}]');
    await quiet();
    expect(onReload).toHaveBeenCalledTimes(1);
  });

  it('neither reloads nor reports after close()', async () => {
    watcher = watchAccessConfig(path, { onReload, onError });
    watcher.close();
    writeFileSync(path, config(21));
    expect(watcher.reload()).toBe(false);
    await quiet();
    expect(onReload).not.toHaveBeenCalled();
    expect(cleanupDays()).toBe(7);
  });
});
