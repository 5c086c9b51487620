// The chat platform port is access's (src/access/chat-port.ts): chat implements it. Kept only for importers
// not yet moved to it (src/main.ts); new code imports access/chat-port.ts and core/chat-platform-name.ts.
export type { ChatPlatform } from '../access/chat-port.js';
export type { PlatformName } from '../core/chat-platform-name.js';
