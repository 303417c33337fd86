-- Key store: named, versioned key material with a validity window (times in Unix ms).
CREATE TABLE keys (
    name        TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    algorithm   TEXT    NOT NULL,
    material    BYTEA   NOT NULL,
    public      BYTEA   NOT NULL,
    not_before  BIGINT  NOT NULL,
    not_after   BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (name, version)
);

-- Nonce store: reserved (committed = 0) or spent (committed = 1) values until expires_at.
CREATE TABLE nonces (
    scope       TEXT    NOT NULL,
    value       BYTEA   NOT NULL,
    expires_at  BIGINT  NOT NULL,
    token       BIGINT  NOT NULL,
    committed   BIGINT  NOT NULL,
    PRIMARY KEY (scope, value)
);
CREATE INDEX nonces_expires_at ON nonces (expires_at);
