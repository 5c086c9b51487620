// Child-process entry for the Azure tests: runs discoverAzureInventory (or azureDeletedVms) once with this process's
// environment (where NODE_EXTRA_CA_CERTS trusts the stand-in's CA; Node reads it only at start) and prints one JSON
// line: { inventory } / { deleted } or { error: { name, code, kind, message } }.
// argv: 'inventory' SETTINGS_JSON [ABORT_AFTER_MS] | 'deleted' SETTINGS_JSON IDS_JSON.
import { discoverAzureInventory } from '../../src/targets/cloud/azure-vm-discovery.js';
import { azureDeletedVms } from '../../src/targets/cloud/azure-vm-gone.js';
import type { AzureVmIntegration } from '../../src/core/model.js';

const [mode, settingsJson = '{}', extra] = process.argv.slice(2);
const settings = JSON.parse(settingsJson) as AzureVmIntegration;
try {
  if (mode === 'deleted') {
    const deleted = await azureDeletedVms(settings, JSON.parse(extra ?? '[]') as string[], { env: process.env });
    process.stdout.write(`${JSON.stringify({ deleted: [...deleted] })}\n`);
  } else {
    const signal = extra === undefined ? undefined : AbortSignal.timeout(Number(extra));
    const inventory = await discoverAzureInventory(settings, { env: process.env, ...(signal ? { signal } : {}) });
    process.stdout.write(`${JSON.stringify({ inventory })}\n`);
  }
} catch (error) {
  const e = error as { name?: string; code?: string; kind?: string; message?: string };
  process.stdout.write(`${JSON.stringify({ error: { name: e.name, code: e.code, kind: e.kind, message: e.message } })}\n`);
}
// After an abort the SDK leaves its per-request timeout timers (30 s) running; they do nothing but keep a process
// that has finished alive. (stdout is a pipe here: written synchronously on Linux.)
process.exit(0);
