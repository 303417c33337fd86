-- Certificate authorities run by `secdispatch ca` (their private keys live in `keys`).
CREATE TABLE authorities (
    name            TEXT    PRIMARY KEY,
    parent          TEXT,
    certificate     BLOB    NOT NULL,
    key_name        TEXT    NOT NULL,
    sequential      INTEGER NOT NULL,
    next_serial     INTEGER NOT NULL,
    next_crl_number INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);

-- Every certificate an authority issued, with its revocation state. `serial` is the
-- lower-case hex of the serial number's magnitude (no leading zero bytes).
CREATE TABLE certificates (
    authority   TEXT    NOT NULL,
    serial      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    profile     TEXT    NOT NULL,
    not_before  INTEGER NOT NULL,
    not_after   INTEGER NOT NULL,
    der         BLOB    NOT NULL,
    issued_at   INTEGER NOT NULL,
    revoked_at  INTEGER,
    reason      TEXT,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (authority, serial)
);
CREATE INDEX certificates_updated_at ON certificates (updated_at);
