-- Cloud inventories (issue 16): each refresh of an aws-ec2 or azure-vm integration is stored as a snapshot with the
-- time it was taken and how long it took; the live config reads the latest one, never the cloud. Only the latest
-- snapshot of an integration is kept (the audit log and grants hold the history that matters).
CREATE TABLE inventory_snapshots (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  integration  TEXT NOT NULL,
  taken_at     INTEGER NOT NULL,
  duration_ms  INTEGER NOT NULL
);
CREATE INDEX inventory_snapshots_integration ON inventory_snapshots (integration, id);

CREATE TABLE inventory_servers (
  snapshot_id      INTEGER NOT NULL REFERENCES inventory_snapshots (id) ON DELETE CASCADE,
  name             TEXT NOT NULL,
  -- The name the cloud gave (Name tag, VM name, instance id) before it was made unique.
  discovered_name  TEXT NOT NULL,
  cloud_id         TEXT NOT NULL,
  region           TEXT NOT NULL,
  host             TEXT NOT NULL,
  port             INTEGER NOT NULL,
  user             TEXT NOT NULL,
  tags             TEXT NOT NULL,
  -- Set when the cloud stopped listing it but grants there were still live: kept so they are revoked.
  missing_since    INTEGER,
  PRIMARY KEY (snapshot_id, name)
) WITHOUT ROWID;

-- The last refresh of each integration, whether it worked: what /healthz and `keyway inventory list` report.
CREATE TABLE inventory_refreshes (
  integration      TEXT PRIMARY KEY,
  attempted_at     INTEGER NOT NULL,
  ok               INTEGER NOT NULL,
  error            TEXT,
  failures_in_row  INTEGER NOT NULL
) WITHOUT ROWID;
