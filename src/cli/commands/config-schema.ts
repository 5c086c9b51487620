// keyway config schema: prints the JSON Schema of access.yaml, for editors (see docs/configuration.md).
import { accessJsonSchemaText } from '../../config/json-schema.js';
import type { Command } from '../command.js';

export const configSchema: Command = {
  name: 'config schema',
  summary: "print the access file's JSON Schema, for editors (config/access.schema.json is a copy)",
  usage: 'keyway config schema > access.schema.json',
  run(_args, io) {
    io.out(accessJsonSchemaText().trimEnd());
  },
};
