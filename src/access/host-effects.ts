// The port through which the access layer changes servers; src/targets/ssh implements it over SSH.
import type { ServerRef } from '../core/model.js';
import type { Grant } from '../store/grants.js';

export interface RevokeScope {
  /** Groups the user keeps on this server because other live grants give them. */
  keepGroups: string[];
  /** Another grant keeps this user's access alive on this server: do not lock or end sessions. */
  otherGrantsLive: boolean;
}

/** What a revoke did that auditors ask about: the user's files it moved aside (mail delivery hooks), and where. */
export interface RevokeNotes {
  movedAside?: string[];
  movedTo?: string;
}

export interface HostEffects {
  provision(ref: ServerRef, grant: Grant): Promise<void>;
  revoke(ref: ServerRef, grant: Grant, scope: RevokeScope): Promise<RevokeNotes | void>;
  cleanup(ref: ServerRef, linuxUser: string): Promise<void>;
}
