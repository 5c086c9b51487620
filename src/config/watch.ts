// Hot reload: the access file (and any servers_file) is re-read on change and on SIGHUP; a bad edit is reported
// through onError and the last good configuration stays in force. Callers do the logging.
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { AccessConfig } from '../core/model.js';
import type { ConfigError } from './config-error.js';
import { loadAccessConfig } from './load.js';

export interface AccessConfigWatchOptions {
  onReload(config: AccessConfig): void;
  onError(error: ConfigError | Error): void;
}

export interface AccessConfigWatcher {
  current(): AccessConfig;
  /** Re-reads now; true when the new configuration was taken. */
  reload(): boolean;
  close(): void;
}

const DEBOUNCE_MS = 100;

/** Loads `path` once (throwing if that fails), then keeps the result current until close(). */
export function watchAccessConfig(path: string, options: AccessConfigWatchOptions): AccessConfigWatcher {
  const watchers = new Map<string, FSWatcher>();
  let watchedNames = new Map<string, Set<string>>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const first = loadTrackingFiles(path);
  let current = first.config;
  let lastGoodFiles = first.files;

  // Directories, not files: editors and config management replace a file rather than write into it.
  const watchFiles = (files: Iterable<string>) => {
    watchedNames = new Map();
    for (const file of files) {
      const dir = dirname(file);
      watchedNames.set(dir, (watchedNames.get(dir) ?? new Set()).add(basename(file)));
    }
    for (const [dir, watcher] of watchers) {
      if (watchedNames.has(dir)) continue;
      watcher.close();
      watchers.delete(dir);
    }
    for (const dir of watchedNames.keys()) {
      if (watchers.has(dir)) continue;
      // Not persistent: watching the configuration must not by itself keep the process alive.
      const watcher = watch(dir, { persistent: false }, (_event, filename) => {
        // Kubernetes ConfigMap volumes swap a "..data" symlink instead of touching the file itself.
        if (filename === null || watchedNames.get(dir)?.has(filename) || filename.startsWith('..data')) scheduleReload();
      });
      watcher.on('error', (error) => options.onError(error));
      watchers.set(dir, watcher);
    }
  };

  const scheduleReload = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(reload, DEBOUNCE_MS);
    timer.unref();
  };

  function reload(): boolean {
    if (closed) return false;
    const attempted = new Set<string>();
    let next: LoadedConfig;
    try {
      next = loadTrackingFiles(path, attempted);
    } catch (error) {
      // Keep watching what the last good config read, plus what this attempt read (a new servers_file, say).
      watchFiles(new Set([...lastGoodFiles, ...attempted]));
      options.onError(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
    current = next.config;
    lastGoodFiles = next.files;
    watchFiles(lastGoodFiles);
    options.onReload(current);
    return true;
  }

  const onSighup = () => {
    reload();
  };

  watchFiles(lastGoodFiles);
  process.on('SIGHUP', onSighup);

  return {
    current: () => current,
    reload,
    close() {
      closed = true;
      clearTimeout(timer);
      process.off('SIGHUP', onSighup);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}

interface LoadedConfig {
  config: AccessConfig;
  files: Set<string>;
}

function loadTrackingFiles(path: string, files = new Set<string>()): LoadedConfig {
  files.add(resolve(path));
  const config = loadAccessConfig(path, (file) => {
    files.add(resolve(file));
    return readFileSync(file, 'utf8');
  });
  return { config, files };
}
