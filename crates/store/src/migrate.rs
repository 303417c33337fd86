//! Schema migrations, compiled into the binary and applied in order on open.
//!
//! Each migration exists once per dialect with the same version and name; they differ only
//! in column types. Applied versions are recorded in `secdispatch_migrations`. The whole run
//! holds an exclusive lock so that two processes opening one database at once apply each
//! migration exactly once.

use sqlx::Executor;
use sqlx::pool::PoolConnection;

use crate::{Dialect, Store, StoreError};

/// One schema step.
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "keys_and_nonces",
        sqlite: include_str!("../migrations/sqlite/0001_keys_and_nonces.sql"),
        postgres: include_str!("../migrations/postgres/0001_keys_and_nonces.sql"),
    },
    Migration {
        version: 2,
        name: "certificate_authority",
        sqlite: include_str!("../migrations/sqlite/0002_certificate_authority.sql"),
        postgres: include_str!("../migrations/postgres/0002_certificate_authority.sql"),
    },
];

/// Arbitrary constant naming secdispatch's PostgreSQL advisory lock ("sdmigr" in ASCII).
const PG_LOCK_KEY: i64 = 0x7364_6d69_6772;

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS secdispatch_migrations (\
     version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

fn latest_known() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Apply every migration the database lacks.
pub(crate) async fn run(store: &Store) -> Result<(), StoreError> {
    let mut conn = store.pool().acquire().await?;
    let begin = match store.dialect() {
        // IMMEDIATE takes the write lock now, so a second process waits here instead of
        // failing when it would upgrade a read lock later.
        Dialect::Sqlite => "BEGIN IMMEDIATE",
        Dialect::Postgres => "BEGIN",
    };
    conn.execute(begin).await?;
    let result = apply_missing(store.dialect(), &mut conn).await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    if let Err(e) = conn.execute(end).await {
        tracing::error!(error = %e, "could not end the migration transaction");
        if result.is_ok() {
            return Err(e.into());
        }
    }
    result
}

async fn apply_missing(
    dialect: Dialect,
    conn: &mut PoolConnection<sqlx::Any>,
) -> Result<(), StoreError> {
    if dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_LOCK_KEY)
            .execute(&mut **conn)
            .await?;
    }
    conn.execute(CREATE_LEDGER).await?;
    let applied: Vec<(i64,)> =
        sqlx::query_as("SELECT version FROM secdispatch_migrations ORDER BY version")
            .fetch_all(&mut **conn)
            .await?;
    let found = applied.last().map_or(0, |v| v.0);
    if found > latest_known() {
        return Err(StoreError::SchemaTooNew {
            found,
            known: latest_known(),
        });
    }
    for m in MIGRATIONS
        .iter()
        .filter(|m| !applied.iter().any(|a| a.0 == m.version))
    {
        let sql = match dialect {
            Dialect::Sqlite => m.sqlite,
            Dialect::Postgres => m.postgres,
        };
        let fail = |cause| StoreError::Migration {
            version: m.version,
            name: m.name,
            cause,
        };
        sqlx::raw_sql(sql)
            .execute(&mut **conn)
            .await
            .map_err(fail)?;
        sqlx::query(
            "INSERT INTO secdispatch_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(secdispatch_replay::unix_millis(std::time::SystemTime::now()))
        .execute(&mut **conn)
        .await
        .map_err(fail)?;
        tracing::info!(
            version = m.version,
            name = m.name,
            "applied store migration"
        );
    }
    Ok(())
}

/// The highest migration recorded in the database.
pub(crate) async fn current_version(store: &Store) -> Result<i64, StoreError> {
    let v: (Option<i64>,) = sqlx::query_as("SELECT MAX(version) FROM secdispatch_migrations")
        .fetch_one(store.pool())
        .await?;
    Ok(v.0.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_increasing_and_both_dialects_are_present() {
        let mut last = 0;
        for m in MIGRATIONS {
            assert!(m.version > last, "migration versions must increase");
            assert!(!m.sqlite.trim().is_empty() && !m.postgres.trim().is_empty());
            last = m.version;
        }
        assert_eq!(latest_known(), last);
    }
}
