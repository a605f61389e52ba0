-- Documents handed in with an application (电子材料): the file itself, checked at the edge (format by
-- content, size), kept in the database so that every instance serves it and a backup holds it. A
-- document uploaded between two transitions belongs to the next one (`event_id`, set when the
-- transition is recorded), so each transition lists the documents that came with it.
CREATE TABLE approval_documents (
    id {{ID}},
    case_id BIGINT NOT NULL REFERENCES approval_cases(id),
    event_id BIGINT REFERENCES approval_case_events(id),
    material TEXT NOT NULL,
    file_name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('pdf', 'ofd', 'jpeg', 'png')),
    size_bytes BIGINT NOT NULL,
    sm3 TEXT NOT NULL,
    content {{BLOB}} NOT NULL,
    uploaded_at BIGINT NOT NULL,
    uploaded_by BIGINT REFERENCES users(id),
    uploaded_by_name TEXT NOT NULL
);
CREATE INDEX approval_documents_case ON approval_documents(case_id, id);
