// Child-process entry for the Azure tests: runs discoverAzureInventory (or azureDeletedVms) once with this process's
// environment (where NODE_EXTRA_CA_CERTS trusts the stand-in's CA; Node reads it only at start) and prints one JSON
// line: { inventory } / { deleted } or { error: { name, code, kind, message } }.
// argv: 'inventory' SETTINGS_JSON [ABORT_AFTER_MS] | 'deleted' SETTINGS_JSON IDS_JSON.
import { discoverAzureInventory } from '../../src/targets/cloud/azure-vm-discovery.js';
import { azureDeletedVms } from '../../src/targets/cloud/azure-vm-gone.js';
import type { AzureVmIntegration } from '../../src/core/model.js';

const [mode, settingsJson = '{}', extra] = process.argv.slice(2);
const settings = JSON.parse(settingsJson) as AzureVmIntegration;
let result: unknown;
try {
  if (mode === 'deleted') {
    result = { deleted: [...await azureDeletedVms(settings, JSON.parse(extra ?? '[]') as string[], { env: process.env })] };
  } else {
    const signal = extra === undefined ? undefined : AbortSignal.timeout(Number(extra));
    result = { inventory: await discoverAzureInventory(settings, { env: process.env, ...(signal ? { signal } : {}) }) };
  }
} catch (error) {
  const e = error as { name?: string; code?: string; kind?: string; message?: string };
  result = { error: { name: e.name, code: e.code, kind: e.kind, message: e.message } };
}
// Exits once the line is written: after an abort the SDK leaves its per-request timeout timers (30 s) running,
// which do nothing but keep a finished process alive.
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
