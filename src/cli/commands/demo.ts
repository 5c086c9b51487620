import { runDemo } from '../../demo.js';
import { runCloudDemo } from '../../demo-cloud.js';
import type { Command } from '../command.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'the whole story on throwaway local sshd test hosts, no chat needed (Linux, root)',
  usage: 'keyway demo [--seconds 15] [--cloud]',
  options: {
    seconds: { type: 'string', value: 'N', description: 'how long the demo access lasts (5 to 600; default 15)' },
    cloud: { type: 'boolean', description: 'an EC2-discovered server instead: a local stand-in of the EC2 API lists the test host' },
  },
  async run(args, io) {
    if (args.values.cloud === true) return void (await runCloudDemo({ say: io.out }));
    const seconds = typeof args.values.seconds === 'string' ? Number(args.values.seconds) : 15;
    if (!Number.isInteger(seconds) || seconds < 5 || seconds > 600) {
      io.err('keyway demo: --seconds must be a whole number from 5 to 600');
      return 2;
    }
    await runDemo({ say: io.out, accessSeconds: seconds });
  },
};
