-- The zone's approval seal (审批专用章) and the certificates sealed with it (security.md "Electronic
-- seals"; core: seal.rs, approval/certificate.rs).

-- Seal keys. The private key is stored only wrapped (SM4-GCM under a key derived from DXE_SEAL_KEY or
-- DXE_SESSION_SECRET, bound to the fingerprint). One key is active and signs; a rotation retires it,
-- and a retired key stays here to verify what it sealed. Validity dates are Beijing 'YYYY-MM-DD',
-- both inclusive.
CREATE TABLE seal_keys (
    id {{ID}},
    fingerprint TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL,
    private_key_wrapped TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    retired_at BIGINT
);
CREATE UNIQUE INDEX seal_keys_one_active ON seal_keys(active) WHERE active = 1;

-- One certificate per approved case: the content exactly as signed (every column up to `seal_key_id`
-- is in the canonical form, the key by its fingerprint), the SM3 hash, the SM2 signature and the
-- verification code (the first 60 bits of the hash). A revoked decision marks its certificate.
CREATE TABLE approval_certificates (
    id {{ID}},
    case_id BIGINT NOT NULL UNIQUE REFERENCES approval_cases(id),
    code TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    case_no TEXT NOT NULL,
    item_code TEXT NOT NULL,
    item_name TEXT NOT NULL,
    enterprise_name TEXT NOT NULL,
    credit_code TEXT NOT NULL,
    decision TEXT NOT NULL,
    decision_date TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    issuer TEXT NOT NULL,
    sealed_at BIGINT NOT NULL,
    seal_key_id BIGINT NOT NULL REFERENCES seal_keys(id),
    hash TEXT NOT NULL,
    signature TEXT NOT NULL,
    revoked_at BIGINT,
    revoked_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX approval_certificates_key ON approval_certificates(seal_key_id, sealed_at);
