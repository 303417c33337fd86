-- Certificate authorities run by `secdispatch ca` (their private keys live in `keys`).
CREATE TABLE authorities (
    name            TEXT    PRIMARY KEY,
    parent          TEXT,
    certificate     BYTEA   NOT NULL,
    key_name        TEXT    NOT NULL,
    sequential      BIGINT  NOT NULL,
    next_serial     BIGINT  NOT NULL,
    next_crl_number BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL
);

-- Every certificate an authority issued, with its revocation state. `serial` is the
-- lower-case hex of the serial number's magnitude (no leading zero bytes).
CREATE TABLE certificates (
    authority   TEXT    NOT NULL,
    serial      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    profile     TEXT    NOT NULL,
    not_before  BIGINT  NOT NULL,
    not_after   BIGINT  NOT NULL,
    der         BYTEA   NOT NULL,
    issued_at   BIGINT  NOT NULL,
    revoked_at  BIGINT,
    reason      TEXT,
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (authority, serial)
);
CREATE INDEX certificates_updated_at ON certificates (updated_at);
