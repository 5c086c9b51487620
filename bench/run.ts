// npm run bench: measures what the README claims. Each part prints its own lines.
import { benchCa } from './ca.js';
import { benchHosts } from './hosts.js';
import { benchRevocationLag } from './revocation-lag.js';
import { benchSlack } from './slack.js';

const parts: Array<[string, () => Promise<string[]>]> = [
  ['certificate authority', benchCa],
  ['servers over SSH (test hosts; needs root)', benchHosts],
  ['revocation lag (test hosts; needs root)', benchRevocationLag],
  ['slack acknowledgements', benchSlack],
];

for (const [name, run] of parts) {
  console.log(`== ${name}`);
  for (const line of await run()) console.log(line);
  console.log('');
}
