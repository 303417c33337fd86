//! The certificate database of `secdispatch ca`: authorities, every certificate they
//! issued, and revocations. The OCSP responder and CRLs read their status from here.
//!
//! Serial numbers are stored as the lower-case hex of their magnitude without leading
//! zero bytes ([`serial_hex`]), so a serial compares equal however it was encoded.
//! `updated_at` changes on issuance and revocation; a reader that polls
//! [`CertificateDb::changed_since`] with some overlap sees every change even when the
//! writers' clocks differ slightly.

use std::time::SystemTime;

use secdispatch_replay::{BoxFuture, from_unix_millis, unix_millis};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Store, StoreError};

/// An authority: a CA certificate whose private key is in the key store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    /// Unique name (`root`, `issuing`, ...).
    pub name: String,
    /// The authority that issued this one; `None` for a root.
    pub parent: Option<String>,
    /// DER of the CA certificate.
    pub certificate: Vec<u8>,
    /// Key store name of its private key.
    pub key_name: String,
    /// Whether it numbers the certificates it issues 1, 2, 3, ... (OCSPv2 range
    /// responses need this) instead of drawing random serials.
    pub sequential: bool,
}

/// A certificate an authority issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCertificate {
    /// The issuing authority's name.
    pub authority: String,
    /// Serial, as [`serial_hex`] gives it.
    pub serial: String,
    /// Subject distinguished name, for listings.
    pub subject: String,
    /// Profile used (`server`, `client`, `intermediate`, ...).
    pub profile: String,
    /// notBefore.
    pub not_before: SystemTime,
    /// notAfter.
    pub not_after: SystemTime,
    /// DER of the certificate.
    pub der: Vec<u8>,
    /// When it was issued.
    pub issued_at: SystemTime,
    /// When and why it was revoked.
    pub revocation: Option<Revocation>,
    /// Last change (issuance or revocation).
    pub updated_at: SystemTime,
}

/// A revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// Revocation time.
    pub at: SystemTime,
    /// RFC 5280 reason code name (`keyCompromise`, ...), `None` for unspecified.
    pub reason: Option<String>,
}

/// What [`CertificateDb::revoke`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// Revoked now.
    Revoked,
    /// It already was, at this time and for this reason; nothing changed.
    AlreadyRevoked(Revocation),
}

/// Canonical text form of a serial number: lower-case hex of the magnitude, no leading
/// zero bytes (`[0x00, 0x8f, 0x01]` and `[0x8f, 0x01]` both give `"8f01"`; zero is `"00"`).
pub fn serial_hex(serial: &[u8]) -> String {
    let trimmed = match serial.iter().position(|b| *b != 0) {
        Some(i) => &serial[i..],
        None => &[0u8][..],
    };
    trimmed.iter().map(|b| format!("{b:02x}")).collect()
}

/// The certificate database.
pub trait CertificateDb: Send + Sync {
    /// Add an authority; its name must be new.
    fn insert_authority(&self, a: Authority) -> BoxFuture<'_, Result<(), StoreError>>;
    /// One authority by name.
    fn authority<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Authority>, StoreError>>;
    /// Every authority, by name.
    fn authorities(&self) -> BoxFuture<'_, Result<Vec<Authority>, StoreError>>;
    /// Take the next sequential serial of an authority (1, 2, ...), atomically.
    fn take_serial<'a>(&'a self, authority: &'a str) -> BoxFuture<'a, Result<u64, StoreError>>;
    /// Take the next CRL number of an authority, atomically.
    fn take_crl_number<'a>(&'a self, authority: &'a str) -> BoxFuture<'a, Result<u64, StoreError>>;
    /// Record an issued certificate.
    fn insert_certificate(&self, c: IssuedCertificate) -> BoxFuture<'_, Result<(), StoreError>>;
    /// One certificate by authority and serial (any encoding; it is canonicalised).
    fn certificate<'a>(
        &'a self,
        authority: &'a str,
        serial: &'a str,
    ) -> BoxFuture<'a, Result<Option<IssuedCertificate>, StoreError>>;
    /// Every certificate of an authority, by issuance time.
    fn certificates<'a>(
        &'a self,
        authority: &'a str,
    ) -> BoxFuture<'a, Result<Vec<IssuedCertificate>, StoreError>>;
    /// Revoke a certificate. Revoking again keeps the first revocation.
    fn revoke<'a>(
        &'a self,
        authority: &'a str,
        serial: &'a str,
        revocation: Revocation,
    ) -> BoxFuture<'a, Result<RevokeOutcome, StoreError>>;
    /// Certificates of any authority changed (issued or revoked) at or after `since`.
    fn changed_since(
        &self,
        since: SystemTime,
    ) -> BoxFuture<'_, Result<Vec<IssuedCertificate>, StoreError>>;
}

/// Normalise user input: strip `0x`, colons and spaces, lower-case, drop leading zeros.
fn canonical_serial(s: &str) -> Result<String, StoreError> {
    let t: String = s
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| *c != ':' && *c != ' ')
        .collect::<String>()
        .to_ascii_lowercase();
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(StoreError::InvalidKey(
            "a serial number is hexadecimal digits",
        ));
    }
    let t = if t.len() % 2 == 1 { format!("0{t}") } else { t };
    let bytes: Vec<u8> = (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&t[i..i + 2], 16).unwrap_or(0))
        .collect();
    Ok(serial_hex(&bytes))
}

macro_rules! select_certs {
    ($filter:literal) => {
        concat!(
            "SELECT authority, serial, subject, profile, not_before, not_after, der, issued_at, \
             revoked_at, reason, updated_at FROM certificates WHERE ",
            $filter
        )
    };
}

fn cert_row(r: &AnyRow) -> Result<IssuedCertificate, StoreError> {
    let revoked_at: Option<i64> = r.try_get("revoked_at")?;
    Ok(IssuedCertificate {
        authority: r.try_get("authority")?,
        serial: r.try_get("serial")?,
        subject: r.try_get("subject")?,
        profile: r.try_get("profile")?,
        not_before: from_unix_millis(r.try_get("not_before")?),
        not_after: from_unix_millis(r.try_get("not_after")?),
        der: r.try_get("der")?,
        issued_at: from_unix_millis(r.try_get("issued_at")?),
        revocation: revoked_at
            .map(|at| -> Result<_, StoreError> {
                Ok(Revocation {
                    at: from_unix_millis(at),
                    reason: r.try_get("reason")?,
                })
            })
            .transpose()?,
        updated_at: from_unix_millis(r.try_get("updated_at")?),
    })
}

fn authority_row(r: &AnyRow) -> Result<Authority, StoreError> {
    Ok(Authority {
        name: r.try_get("name")?,
        parent: r.try_get("parent")?,
        certificate: r.try_get("certificate")?,
        key_name: r.try_get("key_name")?,
        sequential: r.try_get::<i64, _>("sequential")? != 0,
    })
}

const SELECT_AUTHORITIES: &str =
    "SELECT name, parent, certificate, key_name, sequential FROM authorities";

impl Store {
    async fn take_counter(&self, sql: &'static str, authority: &str) -> Result<u64, StoreError> {
        let v: Option<i64> = sqlx::query_scalar(sql)
            .bind(authority)
            .fetch_optional(self.pool())
            .await?;
        let v = v.ok_or_else(|| StoreError::NotFound(format!("authority {authority:?}")))?;
        u64::try_from(v).map_err(|_| StoreError::InvalidKey("counter out of range"))
    }
}

impl CertificateDb for Store {
    fn insert_authority(&self, a: Authority) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let now = unix_millis(SystemTime::now());
            sqlx::query(
                "INSERT INTO authorities (name, parent, certificate, key_name, sequential, \
                 next_serial, next_crl_number, created_at) VALUES ($1, $2, $3, $4, $5, 1, 1, $6)",
            )
            .bind(&a.name)
            .bind(a.parent.as_deref())
            .bind(a.certificate.as_slice())
            .bind(&a.key_name)
            .bind(i64::from(a.sequential))
            .bind(now)
            .execute(self.pool())
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_unique_violation() => {
                    StoreError::Conflict(format!("authority {:?} exists", a.name))
                }
                _ => e.into(),
            })?;
            Ok(())
        })
    }

    fn authority<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Authority>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query(
                "SELECT name, parent, certificate, key_name, sequential FROM authorities \
                 WHERE name = $1",
            )
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
            row.as_ref().map(authority_row).transpose()
        })
    }

    fn authorities(&self) -> BoxFuture<'_, Result<Vec<Authority>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(SELECT_AUTHORITIES)
                .fetch_all(self.pool())
                .await?;
            let mut out: Vec<Authority> =
                rows.iter().map(authority_row).collect::<Result<_, _>>()?;
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(out)
        })
    }

    fn take_serial<'a>(&'a self, authority: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(self.take_counter(
            "UPDATE authorities SET next_serial = next_serial + 1 WHERE name = $1 \
             RETURNING next_serial - 1",
            authority,
        ))
    }

    fn take_crl_number<'a>(&'a self, authority: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(self.take_counter(
            "UPDATE authorities SET next_crl_number = next_crl_number + 1 WHERE name = $1 \
             RETURNING next_crl_number - 1",
            authority,
        ))
    }

    fn insert_certificate(&self, c: IssuedCertificate) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let serial = canonical_serial(&c.serial)?;
            sqlx::query(
                "INSERT INTO certificates (authority, serial, subject, profile, not_before, \
                 not_after, der, issued_at, revoked_at, reason, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&c.authority)
            .bind(&serial)
            .bind(&c.subject)
            .bind(&c.profile)
            .bind(unix_millis(c.not_before))
            .bind(unix_millis(c.not_after))
            .bind(c.der.as_slice())
            .bind(unix_millis(c.issued_at))
            .bind(c.revocation.as_ref().map(|r| unix_millis(r.at)))
            .bind(c.revocation.as_ref().and_then(|r| r.reason.clone()))
            .bind(unix_millis(SystemTime::now()))
            .execute(self.pool())
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_unique_violation() => {
                    StoreError::Conflict(format!("{} already issued serial {serial}", c.authority))
                }
                _ => e.into(),
            })?;
            Ok(())
        })
    }

    fn certificate<'a>(
        &'a self,
        authority: &'a str,
        serial: &'a str,
    ) -> BoxFuture<'a, Result<Option<IssuedCertificate>, StoreError>> {
        Box::pin(async move {
            let serial = canonical_serial(serial)?;
            let row = sqlx::query(select_certs!("authority = $1 AND serial = $2"))
                .bind(authority)
                .bind(&serial)
                .fetch_optional(self.pool())
                .await?;
            row.as_ref().map(cert_row).transpose()
        })
    }

    fn certificates<'a>(
        &'a self,
        authority: &'a str,
    ) -> BoxFuture<'a, Result<Vec<IssuedCertificate>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(select_certs!("authority = $1 ORDER BY issued_at, serial"))
                .bind(authority)
                .fetch_all(self.pool())
                .await?;
            rows.iter().map(cert_row).collect()
        })
    }

    fn revoke<'a>(
        &'a self,
        authority: &'a str,
        serial: &'a str,
        revocation: Revocation,
    ) -> BoxFuture<'a, Result<RevokeOutcome, StoreError>> {
        Box::pin(async move {
            let serial = canonical_serial(serial)?;
            let done = sqlx::query(
                "UPDATE certificates SET revoked_at = $1, reason = $2, updated_at = $3 \
                 WHERE authority = $4 AND serial = $5 AND revoked_at IS NULL",
            )
            .bind(unix_millis(revocation.at))
            .bind(revocation.reason.clone())
            .bind(unix_millis(SystemTime::now()))
            .bind(authority)
            .bind(&serial)
            .execute(self.pool())
            .await?;
            if done.rows_affected() == 1 {
                return Ok(RevokeOutcome::Revoked);
            }
            match self.certificate(authority, &serial).await? {
                Some(IssuedCertificate {
                    revocation: Some(r),
                    ..
                }) => Ok(RevokeOutcome::AlreadyRevoked(r)),
                _ => Err(StoreError::NotFound(format!(
                    "{authority} has no certificate {serial}"
                ))),
            }
        })
    }

    fn changed_since(
        &self,
        since: SystemTime,
    ) -> BoxFuture<'_, Result<Vec<IssuedCertificate>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(select_certs!("updated_at >= $1 ORDER BY updated_at"))
                .bind(unix_millis(since))
                .fetch_all(self.pool())
                .await?;
            rows.iter().map(cert_row).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_canonical() {
        assert_eq!(serial_hex(&[0x00, 0x8f, 0x01]), "8f01");
        assert_eq!(serial_hex(&[0x8f, 0x01]), "8f01");
        assert_eq!(serial_hex(&[0, 0]), "00");
        assert_eq!(canonical_serial("0x8F:01").unwrap(), "8f01");
        assert_eq!(canonical_serial("f01").unwrap(), "0f01");
        assert_eq!(canonical_serial("00 07").unwrap(), "07");
        assert!(canonical_serial("xyz").is_err());
        assert!(canonical_serial("").is_err());
    }
}
