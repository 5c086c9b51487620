// npm run bench: measures what the README claims. Each part prints its own lines.
// `npm run bench -- slack` runs only the parts whose name contains one of the words given.
import { benchCa } from './ca.js';
import { benchHosts } from './hosts.js';
import { benchInventory } from './inventory.js';
import { benchRevocationLag } from './revocation-lag.js';
import { benchRevokeCpu } from './revoke-cpu.js';
import { benchSlack } from './slack.js';

const parts: Array<[string, () => Promise<string[]>]> = [
  ['certificate authority', benchCa],
  ['remote script CPU, revoke and provision (test host; needs root)', benchRevokeCpu],
  ['servers over SSH (test hosts; needs root)', benchHosts],
  ['revocation lag (test hosts; needs root)', benchRevocationLag],
  ['slack acknowledgements', benchSlack],
  ['cloud inventory at scale', benchInventory],
];

const only = process.argv.slice(2);
for (const [name, run] of parts.filter(([name]) => only.length === 0 || only.some((word) => name.includes(word)))) {
  console.log(`== ${name}`);
  for (const line of await run()) console.log(line);
  console.log('');
}
