-- Windows targets (issue 17).
-- windows_accounts: the Active Directory accounts Keyway created, one per person and windows-dc integration, with the
-- objectGUID the domain gave it. Keyway touches an account only when it is in Keyway's OU, carries Keyway's marker and
-- has the GUID recorded here: an account of the same name made by someone else is never Keyway's. A row is written
-- before the account is created (object_guid NULL) and completed right after, so a crash in between leaves a claim
-- that the next attempt completes from the account it finds in the OU with the marker.
CREATE TABLE windows_accounts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  integration TEXT NOT NULL,
  account TEXT NOT NULL,
  dn TEXT NOT NULL,
  object_guid TEXT,
  created_at INTEGER NOT NULL,
  deleted_at INTEGER
);
CREATE UNIQUE INDEX windows_accounts_live ON windows_accounts (integration, account) WHERE deleted_at IS NULL;

-- password_credentials: each one-time password a request was owed (the credential's serial and until when it is
-- meant to work). Never the password: it is made and set on the targets at the moment its message is sent.
CREATE TABLE password_credentials (
  serial INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id INTEGER NOT NULL REFERENCES requests (id),
  valid_until INTEGER NOT NULL,
  issued_at INTEGER NOT NULL
);
CREATE INDEX password_credentials_request ON password_credentials (request_id);
