// Configuration loading: the public surface of src/config.
export { ConfigError, formatProblem, type ConfigProblem } from './config-error.js';
export { loadAccessConfig, parseAccessConfig, type ReadTextFile } from './load.js';
export { findFlow, findIntegration, findServer, peopleOverrides, selectServers, serversOfFlow } from '../core/lookup.js';
export { decodePrivateKey, readSecret } from './secrets.js';
export { watchAccessConfig, type AccessConfigWatcher, type AccessConfigWatchOptions } from './watch.js';
