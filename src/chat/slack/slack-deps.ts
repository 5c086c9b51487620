// What the Slack handlers and the delivery code share: the engine (state and follow-up work), one Web API
// client, the directory of who is who, and the approval messages kept in step with the request.
import type { Logger } from 'pino';
import type { webApi } from '@slack/bolt';
import type { Engine } from '../../access/engine.js';
import type { SlackDirectory } from './identity.js';

export interface SlackDeps {
  engine: Engine;
  client: webApi.WebClient;
  directory: SlackDirectory;
  logger: Logger;
  approvals: ApprovalMessages;
}

export interface ApprovalMessages {
  /** Re-renders every approval message of the request from its current state (votes, outcome). */
  refresh(requestId: number): Promise<void>;
}
