-- The system admin's entries to the working-day calendar: a year whose State Council notice came out
-- after this build, or a local arrangement. Each replaces the compiled-in table's entry for its date
-- (core: approval/calendar.rs). `date` is 'YYYY-MM-DD' in Beijing; `kind` is 'rest' (休) or 'work' (班).
CREATE TABLE calendar_overrides (
    date TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('rest', 'work')),
    name TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
