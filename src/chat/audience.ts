// Which platform tells whom. Approvers are asked on every platform that can reach them (a person on both gets
// both, and either answer decides). The requester hears on the platform the request came from, so nobody gets
// each certificate twice; requests made elsewhere (the CLI) reach the requester wherever Keyway can.
import type { AccessRequest } from '../store/requests.js';
import type { PlatformName } from '../core/chat-platform-name.js';

const CHAT_SOURCES: readonly string[] = ['slack', 'teams'] satisfies PlatformName[];

export function tellsRequester(platform: PlatformName, request: Pick<AccessRequest, 'source'>): boolean {
  return request.source === platform || !CHAT_SOURCES.includes(request.source);
}
