-- What /metrics needs to stay cheap however long the history grows (issue 14). Requests and grants are kept after
-- access ends, so counting them by state walks the whole history; instead, state_counts holds how many rows are in
-- each state, kept by triggers on every insert, state change and delete. /metrics reads the ended states
-- (approved, denied, expired, cancelled; revoked, cleaned) from here and counts the live ones directly on the
-- existing requests_state and grants_state indexes, which only touch live rows.
CREATE TABLE state_counts (
  entity  TEXT NOT NULL CHECK (entity IN ('request', 'grant')),
  state   TEXT NOT NULL,
  n       INTEGER NOT NULL,
  PRIMARY KEY (entity, state)
) WITHOUT ROWID;

-- Every state has a row from the start, so a state nothing has reached yet reads 0.
INSERT INTO state_counts (entity, state, n) VALUES
  ('request', 'pending', 0), ('request', 'approved', 0), ('request', 'denied', 0), ('request', 'expired', 0),
  ('request', 'cancelled', 0),
  ('grant', 'provisioning', 0), ('grant', 'provision_failed', 0), ('grant', 'active', 0), ('grant', 'revoking', 0),
  ('grant', 'revoke_failed', 0), ('grant', 'revoked', 0), ('grant', 'cleaned', 0);
UPDATE state_counts SET n = (SELECT COUNT(*) FROM requests WHERE requests.state = state_counts.state) WHERE entity = 'request';
UPDATE state_counts SET n = (SELECT COUNT(*) FROM grants WHERE grants.state = state_counts.state) WHERE entity = 'grant';

CREATE TRIGGER requests_count_insert AFTER INSERT ON requests
BEGIN UPDATE state_counts SET n = n + 1 WHERE entity = 'request' AND state = NEW.state; END;
CREATE TRIGGER requests_count_update AFTER UPDATE OF state ON requests WHEN OLD.state <> NEW.state
BEGIN
  UPDATE state_counts SET n = n - 1 WHERE entity = 'request' AND state = OLD.state;
  UPDATE state_counts SET n = n + 1 WHERE entity = 'request' AND state = NEW.state;
END;
CREATE TRIGGER requests_count_delete AFTER DELETE ON requests
BEGIN UPDATE state_counts SET n = n - 1 WHERE entity = 'request' AND state = OLD.state; END;

CREATE TRIGGER grants_count_insert AFTER INSERT ON grants
BEGIN UPDATE state_counts SET n = n + 1 WHERE entity = 'grant' AND state = NEW.state; END;
CREATE TRIGGER grants_count_update AFTER UPDATE OF state ON grants WHEN OLD.state <> NEW.state
BEGIN
  UPDATE state_counts SET n = n - 1 WHERE entity = 'grant' AND state = OLD.state;
  UPDATE state_counts SET n = n + 1 WHERE entity = 'grant' AND state = NEW.state;
END;
CREATE TRIGGER grants_count_delete AFTER DELETE ON grants
BEGIN UPDATE state_counts SET n = n - 1 WHERE entity = 'grant' AND state = OLD.state; END;
