-- Key store: named, versioned key material with a validity window (times in Unix ms).
CREATE TABLE keys (
    name        TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    algorithm   TEXT    NOT NULL,
    material    BLOB    NOT NULL,
    public      BLOB    NOT NULL,
    not_before  INTEGER NOT NULL,
    not_after   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);

-- Nonce store: reserved (committed = 0) or spent (committed = 1) values until expires_at.
CREATE TABLE nonces (
    scope       TEXT    NOT NULL,
    value       BLOB    NOT NULL,
    expires_at  INTEGER NOT NULL,
    token       INTEGER NOT NULL,
    committed   INTEGER NOT NULL,
    PRIMARY KEY (scope, value)
);
CREATE INDEX nonces_expires_at ON nonces (expires_at);
