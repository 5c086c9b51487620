// Requests and approvals. State changes are compare-and-swap: they name the state they expect.
import type { Database } from 'better-sqlite3';
import type { RequestState } from '../core/lifecycle.js';
import type { ApproverSet, CertificateOptions } from '../core/policy.js';
import { statement } from './statements.js';

export interface AccessRequest {
  id: number;
  requesterEmail: string;
  linuxUser: string;
  flow: string;
  integration: string;
  servers: string[];
  groups: string[];
  durationSeconds: number;
  reason: string;
  approvers: ApproverSet;
  minApprovals: number;
  allowSelfApproval: boolean;
  source: string;
  state: RequestState;
  createdAt: number;
  pendingUntil: number;
  decidedAt: number | null;
  decidedBy: string | null;
  decisionReason: string | null;
  accessExpiresAt: number | null;
  extendsRequestId: number | null;
  /** What the certificate carries, fixed at approval; null before approval and for rows approved before 0004. */
  certificateOptions?: CertificateOptions | null;
  /** The requester's Slack user groups (those the flows name) when they asked; null for rows from before 0004. */
  requesterUsergroups?: string[] | null;
  /** The requester was a chat guest or a bot when they asked. */
  requesterGuest?: boolean;
}

export type NewRequest = Omit<AccessRequest, 'id' | 'state' | 'decidedAt' | 'decidedBy' | 'decisionReason' | 'accessExpiresAt' | 'certificateOptions'>;

interface RequestRow {
  id: number; requester_email: string; linux_user: string; flow: string; integration: string; servers: string; groups: string;
  duration_seconds: number; reason: string; approvers: string; min_approvals: number; allow_self_approval: number; source: string;
  state: RequestState; created_at: number; pending_until: number; decided_at: number | null; decided_by: string | null;
  decision_reason: string | null; access_expires_at: number | null; extends_request_id: number | null;
  certificate_options: string | null; requester_usergroups: string | null; requester_guest: number;
}

function fromRow(r: RequestRow): AccessRequest {
  return {
    id: r.id, requesterEmail: r.requester_email, linuxUser: r.linux_user, flow: r.flow, integration: r.integration,
    servers: JSON.parse(r.servers) as string[], groups: JSON.parse(r.groups) as string[], durationSeconds: r.duration_seconds,
    reason: r.reason, approvers: JSON.parse(r.approvers) as ApproverSet, minApprovals: r.min_approvals,
    allowSelfApproval: r.allow_self_approval === 1, source: r.source, state: r.state, createdAt: r.created_at,
    pendingUntil: r.pending_until, decidedAt: r.decided_at, decidedBy: r.decided_by, decisionReason: r.decision_reason,
    accessExpiresAt: r.access_expires_at, extendsRequestId: r.extends_request_id,
    certificateOptions: r.certificate_options === null ? null : JSON.parse(r.certificate_options) as CertificateOptions,
    requesterUsergroups: r.requester_usergroups === null ? null : JSON.parse(r.requester_usergroups) as string[],
    requesterGuest: r.requester_guest === 1,
  };
}

export function insertRequest(db: Database, r: NewRequest): AccessRequest {
  const info = statement(db, `INSERT INTO requests (requester_email, linux_user, flow, integration, servers, groups, duration_seconds, reason,
      approvers, min_approvals, allow_self_approval, source, state, created_at, pending_until, extends_request_id, requester_usergroups, requester_guest)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`).run(
    r.requesterEmail, r.linuxUser, r.flow, r.integration, JSON.stringify(r.servers), JSON.stringify(r.groups), r.durationSeconds, r.reason,
    JSON.stringify(r.approvers), r.minApprovals, r.allowSelfApproval ? 1 : 0, r.source, r.createdAt, r.pendingUntil, r.extendsRequestId,
    r.requesterUsergroups ? JSON.stringify(r.requesterUsergroups) : null, r.requesterGuest ? 1 : 0);
  return getRequest(db, Number(info.lastInsertRowid))!;
}

export function getRequest(db: Database, id: number): AccessRequest | undefined {
  const row = statement(db, 'SELECT * FROM requests WHERE id = ?').get(id) as RequestRow | undefined;
  return row && fromRow(row);
}

export interface RequestFilter {
  state?: RequestState;
  requesterEmail?: string;
  limit?: number;
}

export function listRequests(db: Database, filter: RequestFilter = {}): AccessRequest[] {
  const rows = statement(db, `SELECT * FROM requests WHERE (@state IS NULL OR state = @state)
    AND (@requester IS NULL OR requester_email = @requester) ORDER BY id DESC LIMIT @limit`)
    .all({ state: filter.state ?? null, requester: filter.requesterEmail?.toLowerCase() ?? null, limit: filter.limit ?? 100 }) as RequestRow[];
  return rows.map(fromRow);
}

/** A person's requests waiting for a decision (new access and extensions), oldest first. */
export function pendingRequestsOf(db: Database, requesterEmail: string): AccessRequest[] {
  return (statement(db, "SELECT * FROM requests WHERE state = 'pending' AND requester_email = ? ORDER BY id").all(requesterEmail.toLowerCase()) as RequestRow[]).map(fromRow);
}

/** How many of a person's requests wait for a decision and have not timed out by `now` (one indexed count). */
export function waitingRequestCount(db: Database, requesterEmail: string, now: number): number {
  return (statement(db, "SELECT COUNT(*) AS n FROM requests WHERE state = 'pending' AND requester_email = ? AND pending_until > ?")
    .get(requesterEmail.toLowerCase(), now) as { n: number }).n;
}

/** The extensions of a request still waiting for a decision. */
export function pendingExtensionsOf(db: Database, requestId: number): AccessRequest[] {
  return (statement(db, "SELECT * FROM requests WHERE state = 'pending' AND extends_request_id = ? ORDER BY id").all(requestId) as RequestRow[]).map(fromRow);
}

export function pendingRequestsPastTtl(db: Database, now: number): AccessRequest[] {
  return (statement(db, "SELECT * FROM requests WHERE state = 'pending' AND pending_until <= ? ORDER BY id").all(now) as RequestRow[]).map(fromRow);
}

/** Approved requests with active access that ends after `now`, whose requester was not yet warned about this expiry. */
export function liveRequestsNotWarned(db: Database, now: number): AccessRequest[] {
  const rows = statement(db, `SELECT * FROM requests WHERE state = 'approved' AND access_expires_at > ?
      AND (expiry_warned_for IS NULL OR expiry_warned_for <> access_expires_at)
      AND EXISTS (SELECT 1 FROM grants WHERE grants.request_id = requests.id AND grants.state = 'active')
    ORDER BY id`).all(now) as RequestRow[];
  return rows.map(fromRow);
}

/** Records that the requester is being warned about this expiry; false when someone already did. */
export function markExpiryWarned(db: Database, id: number, accessExpiresAt: number): boolean {
  return statement(db, 'UPDATE requests SET expiry_warned_for = ? WHERE id = ? AND access_expires_at = ? AND expiry_warned_for IS NOT ?')
    .run(accessExpiresAt, id, accessExpiresAt, accessExpiresAt).changes === 1;
}

export interface Decision {
  state: Exclude<RequestState, 'pending'>;
  at: number;
  by: string;
  reason?: string;
  accessExpiresAt?: number;
  /** On approval: the certificate options the access was approved under. */
  certificateOptions?: CertificateOptions | null;
}

/** Moves a pending request to its outcome. Returns false when it was no longer pending (someone else decided first). */
export function decideRequest(db: Database, id: number, decision: Decision): boolean {
  const info = statement(db, `UPDATE requests SET state = ?, decided_at = ?, decided_by = ?, decision_reason = ?, access_expires_at = ?, certificate_options = ?
    WHERE id = ? AND state = 'pending'`).run(decision.state, decision.at, decision.by, decision.reason ?? null, decision.accessExpiresAt ?? null,
    decision.certificateOptions ? JSON.stringify(decision.certificateOptions) : null, id);
  return info.changes === 1;
}

export function setAccessExpiry(db: Database, id: number, accessExpiresAt: number): void {
  statement(db, 'UPDATE requests SET access_expires_at = ? WHERE id = ?').run(accessExpiresAt, id);
}

export interface ApprovalVote {
  requestId: number;
  approverEmail: string;
  decision: 'approve' | 'deny';
  reason?: string;
  at: number;
  /** The approver groups the vote was cast through; null for votes from before migration 0004. */
  usergroups?: string[] | null;
}

/** Records a vote; a second vote by the same person is ignored. Returns whether it was new. */
export function recordVote(db: Database, vote: ApprovalVote): boolean {
  const info = statement(db, `INSERT INTO approvals (request_id, approver_email, decision, reason, at, approver_usergroups) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT(request_id, approver_email) DO NOTHING`).run(vote.requestId, vote.approverEmail.toLowerCase(), vote.decision, vote.reason ?? null, vote.at,
    JSON.stringify(vote.usergroups ?? []));
  return info.changes === 1;
}

export function votesOf(db: Database, requestId: number): ApprovalVote[] {
  return (statement(db, `SELECT request_id AS requestId, approver_email AS approverEmail, decision, reason, at, approver_usergroups AS usergroups
      FROM approvals WHERE request_id = ? ORDER BY at, approver_email`)
    .all(requestId) as Array<Omit<ApprovalVote, 'reason' | 'usergroups'> & { reason: string | null; usergroups: string | null }>)
    .map((v) => ({ ...v, reason: v.reason ?? undefined, usergroups: v.usergroups === null ? null : JSON.parse(v.usergroups) as string[] }));
}
