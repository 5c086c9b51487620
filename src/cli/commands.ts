// Every keyway command, in the order `keyway --help` lists them.
import type { Command } from './command.js';
import { configCheck } from './commands/config-check.js';
import { configSchema } from './commands/config-schema.js';
import { keysAdd, keysList, keysRemove } from './commands/keys.js';
import { approveCommand, denyCommand, requestsList } from './commands/requests.js';
import { grantsList } from './commands/grants-list.js';
import { auditList, auditVerify } from './commands/audit.js';
import { caInit, caPublicKey, caSign } from './commands/ca.js';
import { demoCommand } from './commands/demo.js';
import { startCommand } from './commands/start.js';
import { grantCommand, revokeCommand, sweepCommand } from './commands/access.js';
import { hostsBootstrap, hostsCheck, hostsReconcile, hostsTrust } from './commands/hosts.js';
import { oncallWho } from './commands/oncall.js';
import { inventoryList, inventoryRefresh } from './commands/inventory.js';

export const COMMANDS: Command[] = [
  startCommand,
  demoCommand,
  configCheck,
  configSchema,
  caInit,
  caPublicKey,
  caSign,
  keysAdd,
  keysList,
  keysRemove,
  requestsList,
  approveCommand,
  denyCommand,
  grantsList,
  grantCommand,
  revokeCommand,
  sweepCommand,
  hostsBootstrap,
  hostsCheck,
  hostsTrust,
  hostsReconcile,
  inventoryList,
  inventoryRefresh,
  oncallWho,
  auditList,
  auditVerify,
];
