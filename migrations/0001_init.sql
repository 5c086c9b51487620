-- Keyway's first schema. Times are Unix epoch milliseconds. Requests, grants and the audit log are kept
-- after access ends: they are the history auditors ask for.

CREATE TABLE people (
  email       TEXT PRIMARY KEY,
  linux_user  TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL
);

-- A person's registered SSH public keys; exactly one is current (replaced_at IS NULL).
CREATE TABLE public_keys (
  id           INTEGER PRIMARY KEY,
  email        TEXT NOT NULL REFERENCES people(email),
  key_type     TEXT NOT NULL,
  key_line     TEXT NOT NULL,
  fingerprint  TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  replaced_at  INTEGER
);
CREATE UNIQUE INDEX public_keys_current ON public_keys(email) WHERE replaced_at IS NULL;

-- Chat identities (Slack user, Teams user) mapped to the person's e-mail.
CREATE TABLE chat_identities (
  platform          TEXT NOT NULL CHECK (platform IN ('slack', 'teams')),
  platform_user_id  TEXT NOT NULL,
  email             TEXT NOT NULL,
  details           TEXT NOT NULL DEFAULT '{}',
  updated_at        INTEGER NOT NULL,
  PRIMARY KEY (platform, platform_user_id)
);
CREATE INDEX chat_identities_email ON chat_identities(email);

CREATE TABLE requests (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  requester_email     TEXT NOT NULL,
  linux_user          TEXT NOT NULL,
  flow                TEXT NOT NULL,
  integration         TEXT NOT NULL,
  servers             TEXT NOT NULL,          -- JSON array of server names
  groups              TEXT NOT NULL,          -- JSON array of Linux groups to grant
  duration_seconds    INTEGER NOT NULL CHECK (duration_seconds > 0),
  reason              TEXT NOT NULL,
  approvers           TEXT NOT NULL,          -- JSON snapshot of who may approve (core ApproverSet)
  min_approvals       INTEGER NOT NULL CHECK (min_approvals >= 1),
  allow_self_approval INTEGER NOT NULL DEFAULT 0,
  source              TEXT NOT NULL,          -- slack | teams | cli
  state               TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'cancelled')),
  created_at          INTEGER NOT NULL,
  pending_until       INTEGER NOT NULL,       -- request_ttl: unanswered past this, it expires
  decided_at          INTEGER,
  decided_by          TEXT,
  decision_reason     TEXT,
  access_expires_at   INTEGER,                -- set on approval: the clock starts at approval
  extends_request_id  INTEGER REFERENCES requests(id)
);
CREATE INDEX requests_state ON requests(state);
CREATE INDEX requests_requester ON requests(requester_email);

CREATE TABLE approvals (
  request_id      INTEGER NOT NULL REFERENCES requests(id),
  approver_email  TEXT NOT NULL,
  decision        TEXT NOT NULL CHECK (decision IN ('approve', 'deny')),
  reason          TEXT,
  at              INTEGER NOT NULL,
  PRIMARY KEY (request_id, approver_email)
);

-- One grant per request and server.
CREATE TABLE grants (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id       INTEGER NOT NULL REFERENCES requests(id),
  integration      TEXT NOT NULL,
  server           TEXT NOT NULL,
  linux_user       TEXT NOT NULL,
  groups           TEXT NOT NULL,             -- JSON array
  principal        TEXT NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('provisioning', 'provision_failed', 'active', 'revoking', 'revoke_failed', 'revoked', 'cleaned')),
  expires_at       INTEGER NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER,
  last_error       TEXT,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  active_at        INTEGER,
  revoked_at       INTEGER,
  cleaned_at       INTEGER,
  UNIQUE (request_id, server)
);
CREATE INDEX grants_state ON grants(state);
CREATE INDEX grants_server_user ON grants(integration, server, linux_user);

-- Certificates issued (public material only). The serial is the row id, so it is unique and never zero.
CREATE TABLE certificates (
  serial           INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id       INTEGER REFERENCES requests(id),
  key_id           TEXT NOT NULL,
  principals       TEXT NOT NULL,             -- JSON array
  key_fingerprint  TEXT NOT NULL,
  ca_fingerprint   TEXT NOT NULL,
  valid_after      INTEGER NOT NULL,          -- Unix seconds, as in the certificate
  valid_before     INTEGER NOT NULL,
  certificate      TEXT,                      -- the certificate line, written once signed
  issued_at        INTEGER NOT NULL,
  delivered_at     INTEGER
);

-- Host keys pinned on first contact.
CREATE TABLE host_keys (
  integration  TEXT NOT NULL,
  server       TEXT NOT NULL,
  host         TEXT NOT NULL,
  port         INTEGER NOT NULL,
  fingerprint  TEXT NOT NULL,
  pinned_at    INTEGER NOT NULL,
  PRIMARY KEY (integration, server)
);

-- Linux users Keyway created, per server. A UID is never handed out twice on a server.
CREATE TABLE managed_users (
  integration  TEXT NOT NULL,
  server       TEXT NOT NULL,
  linux_user   TEXT NOT NULL,
  uid          INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  deleted_at   INTEGER,
  UNIQUE (integration, server, uid)
);
CREATE UNIQUE INDEX managed_users_live ON managed_users(integration, server, linux_user) WHERE deleted_at IS NULL;

-- Messages owed to people on chat platforms, delivered when the platform answers.
CREATE TABLE outbox (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  kind          TEXT NOT NULL,
  request_id    INTEGER REFERENCES requests(id),
  payload       TEXT NOT NULL,                -- JSON
  created_at    INTEGER NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error    TEXT,
  delivered_at  INTEGER
);
CREATE INDEX outbox_pending ON outbox(delivered_at, next_attempt_at);

-- Append-only audit log: each entry carries the hash of the one before (keyway audit verify).
CREATE TABLE audit_log (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  at         INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  subject    TEXT NOT NULL,
  details    TEXT NOT NULL,                   -- JSON
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- Leases: one sweeper per database (keyway start takes it).
CREATE TABLE leases (
  name        TEXT PRIMARY KEY,
  holder      TEXT NOT NULL,
  expires_at  INTEGER NOT NULL
);
