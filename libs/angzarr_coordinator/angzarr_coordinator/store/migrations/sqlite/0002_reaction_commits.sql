-- A reaction that wrote a commit (a process manager's state events) points at it, so a duplicate
-- reaction returns the first result; NULL positions for reactions without events (sagas).
ALTER TABLE reactions ADD COLUMN correlation_id TEXT NOT NULL DEFAULT '';
ALTER TABLE reactions ADD COLUMN first_position INTEGER;
ALTER TABLE reactions ADD COLUMN last_position INTEGER;
