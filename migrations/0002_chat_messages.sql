-- Messages Keyway posted on a chat platform that it updates later (approval messages, progress).
CREATE TABLE chat_messages (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id  INTEGER NOT NULL REFERENCES requests(id),
  platform    TEXT NOT NULL CHECK (platform IN ('slack', 'teams')),
  purpose     TEXT NOT NULL,                  -- approval | requester
  recipient   TEXT NOT NULL,                  -- e-mail or channel
  address     TEXT NOT NULL,                  -- JSON: what the platform needs to update it (channel + ts, conversation + activity id)
  created_at  INTEGER NOT NULL
);
CREATE INDEX chat_messages_request ON chat_messages(request_id);

-- Conversation references for proactive Teams messages, and similar per-platform delivery addresses.
CREATE TABLE chat_addresses (
  platform    TEXT NOT NULL,
  email       TEXT NOT NULL,
  address     TEXT NOT NULL,                  -- JSON
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (platform, email)
);

-- Which chat platforms an outbox entry has reached (JSON array); delivered_at is set once all have.
ALTER TABLE outbox ADD COLUMN delivered_platforms TEXT NOT NULL DEFAULT '[]';
