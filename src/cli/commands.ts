// Every keyway command, in the order `keyway --help` lists them.
import type { Command } from './command.js';
import { configCheck } from './commands/config-check.js';
import { keysAdd } from './commands/keys-add.js';
import { approveCommand, denyCommand, requestsList } from './commands/requests.js';
import { grantsList } from './commands/grants-list.js';
import { auditList, auditVerify } from './commands/audit.js';
import { caInit, caPublicKey, caSign } from './commands/ca.js';

export const COMMANDS: Command[] = [
  configCheck,
  caInit,
  caPublicKey,
  caSign,
  keysAdd,
  requestsList,
  approveCommand,
  denyCommand,
  grantsList,
  auditList,
  auditVerify,
];
