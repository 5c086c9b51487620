-- What a request was approved under, so a later certificate (crash recovery, an extension's re-issue) never depends
-- on the flow as the config has it then: JSON {"extensions":[…],"sourceAddress":[…],"forceCommand":"…"},
-- written in the approval transaction. Rows approved before this migration keep NULL (migrations are SQL only and
-- cannot read the config): for those, and only those, the certificate reader falls back to the request's flow as the
-- current config has it, and signs nothing when that flow is gone.
ALTER TABLE requests ADD COLUMN certificate_options TEXT;

-- Who asked, as the chat platform said when they asked, for the decision-time check "may the requester still
-- request these servers": the Slack user groups among the flows' requesters (JSON array) and whether they were a
-- guest or a bot. NULL groups: a request made before this migration (the check then trusts the flow's groups).
ALTER TABLE requests ADD COLUMN requester_usergroups TEXT;
ALTER TABLE requests ADD COLUMN requester_guest INTEGER NOT NULL DEFAULT 0;

-- The approver groups a vote was cast through (JSON array), so the vote counts only while the person is still an
-- approver under the current config. NULL: a vote cast before this migration.
ALTER TABLE approvals ADD COLUMN approver_usergroups TEXT;

