-- What each grant was made on, so that revoke and cleanup never depend on the config or the inventory as they are
-- later: a server removed from the config (or gone from a cloud listing) is still revoked and cleaned up.
--   target_kind     the integration type whose driver handles the grant ('ssh'; later aws-ec2, rdp, windows-dc, …)
--   target_address  where the target is reached, as the driver writes it (SSH: host:port)
--   target_account  the driver's own account data, JSON. SSH: {"linuxUser","groups","principal","host","port",
--                   "connectorUser","cleanupAfterDays"}
-- Keyway writes them once, when it binds the approved grant to its target: before the target is first touched.
-- A grant with target_kind NULL has never been bound, so nothing was done on any target for it yet.
--
-- Backfill: SQL cannot read the YAML, so existing rows get what the row itself knows: kind 'ssh' (the only kind
-- there was) and the account from linux_user, groups and principal. Their address stays NULL: for those rows, and
-- only those, the SSH driver takes host, port and connector user from the config (and records them the next time
-- the grant is touched while its server is still configured). A pre-0006 grant whose server has already left the
-- config is revoked once the server is restored, as before.
ALTER TABLE grants ADD COLUMN target_kind TEXT;
ALTER TABLE grants ADD COLUMN target_address TEXT;
ALTER TABLE grants ADD COLUMN target_account TEXT;
UPDATE grants SET target_kind = 'ssh',
  target_account = json_object('linuxUser', linux_user, 'groups', json(groups), 'principal', principal);
