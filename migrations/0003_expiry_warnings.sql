-- The access expiry the requester was last warned about: an extension moves access_expires_at, and the new
-- expiry gets its own warning.
ALTER TABLE requests ADD COLUMN expiry_warned_for INTEGER;
