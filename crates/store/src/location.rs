//! Where a store lives: a SQLite file or a PostgreSQL URL.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::{Dialect, StoreError};

/// File name of the embedded database inside the data directory.
pub(crate) const SQLITE_FILE: &str = "secdispatch.db";

/// A store's address, parsed from configuration.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// An embedded SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL server, as a `postgres://` URL (may hold a password).
    Postgres(String),
}

impl StoreLocation {
    /// The default: `secdispatch.db` in the data directory.
    pub fn sqlite_in(data_dir: &Path) -> Self {
        Self::Sqlite(data_dir.join(SQLITE_FILE))
    }

    /// Parse `sqlite:PATH`, `sqlite://PATH` or `postgres[ql]://…`.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err(StoreError::BadUrl(url.to_owned()));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        Err(StoreError::BadUrl(url.to_owned()))
    }

    /// The SQL dialect spoken at this location.
    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Create what must exist before connecting, and return the driver URL.
    ///
    /// For SQLite: the directory (mode 0700) and the database file (mode 0600), since the
    /// file holds secret keys; an existing file readable by others is made private.
    pub(crate) fn prepare(&self) -> Result<String, StoreError> {
        match self {
            Self::Postgres(url) => Ok(url.clone()),
            Self::Sqlite(path) => {
                let io = |p: &Path| {
                    let p = p.display().to_string();
                    move |cause| StoreError::DataDir { path: p, cause }
                };
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    create_private_dir(dir).map_err(io(dir))?;
                }
                create_private_file(path).map_err(io(path))?;
                Ok(format!("sqlite://{}?mode=rwc", percent_encode_path(path)))
            }
        }
    }
}

impl fmt::Display for StoreLocation {
    /// The location without any password, safe for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            Self::Postgres(url) => f.write_str(&redact_password(url)),
        }
    }
}

impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreLocation({self})")
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}{tail}")
            } else {
                url.to_owned()
            }
        }
        None => url.to_owned(),
    }
}

/// Escape the characters that would end or alter the path part of a URL.
fn percent_encode_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.display().to_string().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            ' ' => out.push_str("%20"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sqlite_and_postgres() {
        assert_eq!(
            StoreLocation::parse("sqlite:/tmp/x.db").unwrap(),
            StoreLocation::Sqlite("/tmp/x.db".into())
        );
        assert_eq!(
            StoreLocation::parse("sqlite:///tmp/x.db?mode=rwc").unwrap(),
            StoreLocation::Sqlite("/tmp/x.db".into())
        );
        assert_eq!(
            StoreLocation::parse("postgres://u@h/d").unwrap().dialect(),
            Dialect::Postgres
        );
        assert_eq!(
            StoreLocation::parse("postgresql://u@h/d")
                .unwrap()
                .dialect(),
            Dialect::Postgres
        );
    }

    #[test]
    fn refuses_other_urls() {
        for bad in [
            "mysql://h/d",
            "",
            "sqlite:",
            "sqlite::memory:",
            "/plain/path.db",
            "redis://h",
        ] {
            assert!(
                matches!(StoreLocation::parse(bad), Err(StoreError::BadUrl(_))),
                "{bad:?} must be refused"
            );
        }
    }

    #[test]
    fn display_hides_password() {
        let l = StoreLocation::parse("postgres://app:hunter2@db.example:5432/sd?sslmode=require")
            .unwrap();
        let shown = l.to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(
            shown,
            "postgres://app:***@db.example:5432/sd?sslmode=require"
        );
        assert_eq!(
            StoreLocation::parse("postgres://app@h/d")
                .unwrap()
                .to_string(),
            "postgres://app@h/d"
        );
        assert!(!format!("{l:?}").contains("hunter2"));
    }

    #[test]
    fn encodes_url_metacharacters_in_paths() {
        assert_eq!(
            percent_encode_path(Path::new("/a b/c?#%.db")),
            "/a%20b/c%3F%23%25.db"
        );
    }

    #[cfg(unix)]
    #[test]
    fn sqlite_file_and_dir_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let loc = StoreLocation::sqlite_in(&tmp.path().join("data"));
        loc.prepare().unwrap();
        let dir_mode = std::fs::metadata(tmp.path().join("data"))
            .unwrap()
            .permissions()
            .mode();
        let file_mode = std::fs::metadata(tmp.path().join("data").join(SQLITE_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert_eq!(file_mode & 0o777, 0o600);
    }
}
