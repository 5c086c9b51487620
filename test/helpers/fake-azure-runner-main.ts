// Child-process entry for the Azure inventory tests: runs discoverAzureInventory once with this process's
// environment (where NODE_EXTRA_CA_CERTS trusts the stand-in's CA; Node reads it only at start) and prints one JSON
// line: { inventory } or { error: { name, code, kind, message } }. argv: the settings as JSON, and optionally
// the milliseconds after which to abort through the signal.
import { discoverAzureInventory } from '../../src/targets/cloud/azure-vm-discovery.js';
import type { AzureVmIntegration } from '../../src/core/model.js';

const settings = JSON.parse(process.argv[2] ?? '{}') as AzureVmIntegration;
const abortAfter = process.argv[3] ? Number(process.argv[3]) : undefined;
const signal = abortAfter === undefined ? undefined : AbortSignal.timeout(abortAfter);
try {
  const inventory = await discoverAzureInventory(settings, { env: process.env, ...(signal ? { signal } : {}) });
  process.stdout.write(`${JSON.stringify({ inventory })}\n`);
} catch (error) {
  const e = error as { name?: string; code?: string; kind?: string; message?: string };
  process.stdout.write(`${JSON.stringify({ error: { name: e.name, code: e.code, kind: e.kind, message: e.message } })}\n`);
}
// After an abort the SDK leaves its per-request timeout timers (30 s) running; they do nothing but keep a process
// that has finished alive. (stdout is a pipe here: written synchronously on Linux.)
process.exit(0);
