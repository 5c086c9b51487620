-- Whom each account Keyway created belongs to (the person's e-mail), so that a Linux user name with live
-- accounts is never handed to someone else. Existing rows take the owner from the people table; a row whose
-- name no person has any more stays NULL (unknown owner), which counts as someone else's.
ALTER TABLE managed_users ADD COLUMN owner_email TEXT;
UPDATE managed_users SET owner_email = (SELECT email FROM people WHERE people.linux_user = managed_users.linux_user);
CREATE INDEX managed_users_live_name ON managed_users(linux_user) WHERE deleted_at IS NULL;
