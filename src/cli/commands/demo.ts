import { runDemo } from '../../demo.js';
import type { Command } from '../command.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'the whole story on throwaway local sshd test hosts, no chat needed (Linux, root)',
  usage: 'keyway demo [--seconds 15]',
  options: { seconds: { type: 'string', value: 'N', description: 'how long the demo access lasts (5 to 600; default 15)' } },
  async run(args, io) {
    const seconds = typeof args.values.seconds === 'string' ? Number(args.values.seconds) : 15;
    if (!Number.isInteger(seconds) || seconds < 5 || seconds > 600) {
      io.err('keyway demo: --seconds must be a whole number from 5 to 600');
      return 2;
    }
    await runDemo({ say: io.out, accessSeconds: seconds });
  },
};
