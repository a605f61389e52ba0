-- Assignment of approval cases (认领、指派): as in DIGIT's inbox, a case is in the inbox of every role
-- that may act on it until someone of that role takes it or is assigned it, then in the assignee's
-- alone; leadership may reassign. The assignment lapses when the case moves to a state the
-- assignee's role does not act in.
ALTER TABLE approval_cases ADD COLUMN assignee_id BIGINT REFERENCES users(id);
ALTER TABLE approval_cases ADD COLUMN assignee_name TEXT;
ALTER TABLE approval_cases ADD COLUMN assignee_role TEXT;
CREATE INDEX approval_cases_assignee ON approval_cases(assignee_id);
