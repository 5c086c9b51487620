import { startKeyway } from '../../main.js';
import type { Command } from '../command.js';

export const startCommand: Command = {
  name: 'start',
  summary: 'run Keyway: Slack and Teams on HOST:PORT, /healthz and /metrics on METRICS_ADDR (127.0.0.1:9464), and the sweeper',
  usage: 'keyway start   (configured by the environment: see .env.example)',
  async run(_args, io) {
    const keyway = await startKeyway(io.env);
    await new Promise<void>((resolve) => {
      const shutdown = () => void keyway.stop().then(resolve);
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    });
  },
};
