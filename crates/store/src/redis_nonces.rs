//! [`NonceStore`] on Redis, for replicated deployments whose replay checks must be shared
//! and fast (`[store] replay = "redis://..."`).
//!
//! Each value is one key, `sd:nonce:<len(scope)>:<scope>:<hex(value)>`, holding
//! `p|c:<token>:<expires ms>` (pending or committed). Reserve, commit and release are Lua
//! scripts, so each is atomic on the server: of any number of racing reservations exactly
//! one sees no live entry. Liveness is judged against the caller's `now` (time is a
//! parameter, as everywhere in secdispatch); Redis's own expiry only collects garbage, a
//! minute after `expires_at` or after the server's clock, whichever is later. The
//! connection manager reconnects by itself; while Redis is unreachable every call fails
//! with [`ReplayError::Unavailable`] and callers fail closed. One Redis server (or a
//! Sentinel-managed primary) is supported; Redis Cluster is not (the purge script touches
//! keys of many slots).

use std::time::{Duration, SystemTime};

use redis::Script;
use redis::aio::ConnectionManager;
use secdispatch_replay::{
    BoxFuture, NonceStore, ReplayError, Reservation, check_reserve_args, new_token, unix_millis,
};

use crate::StoreError;

const RESERVE: &str = r"
local v = redis.call('GET', KEYS[1])
if v then
  local exp = tonumber(string.match(v, ':(%d+)$'))
  if exp and exp > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], 'p:' .. ARGV[1] .. ':' .. ARGV[3])
local t = redis.call('TIME')
local server_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('PEXPIREAT', KEYS[1], math.max(tonumber(ARGV[3]), server_ms) + 60000)
return 1
";

const COMMIT: &str = r"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local state, token, exp = string.match(v, '^([pc]):([^:]+):(%d+)$')
if token ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], 'c:' .. token .. ':' .. exp, 'KEEPTTL')
return 1
";

const RELEASE: &str = r"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local state, token = string.match(v, '^([pc]):([^:]+):')
if token ~= ARGV[1] then return 0 end
if state == 'p' then redis.call('DEL', KEYS[1]) end
return 1
";

const PURGE: &str = r"
local n = 0
for i, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if v then
    local exp = tonumber(string.match(v, ':(%d+)$'))
    if exp and exp <= tonumber(ARGV[1]) then
      redis.call('DEL', k)
      n = n + 1
    end
  end
end
return n
";

/// Nonces in Redis.
#[derive(Clone)]
pub struct RedisNonceStore {
    conn: ConnectionManager,
    location: String,
    reserve: Script,
    commit: Script,
    release: Script,
    purge: Script,
}

impl std::fmt::Debug for RedisNonceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisNonceStore({})", self.location)
    }
}

/// `redis://user:secret@host/0` → `redis://user:***@host/0`.
fn redact(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(at)) => {
            let userinfo = &rest[..at - scheme.len() - 3];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***{}", &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl RedisNonceStore {
    /// Connect to `url` (`redis://` or `rediss://`), failing after `timeout` with an
    /// error that names the server.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Self, StoreError> {
        let location = redact(url);
        let fail = |e: String| StoreError::Redis {
            location: location.clone(),
            reason: e,
        };
        let client = redis::Client::open(url).map_err(|e| fail(e.to_string()))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2);
        let mut conn =
            tokio::time::timeout(timeout, ConnectionManager::new_with_config(client, config))
                .await
                .map_err(|_| fail(format!("no answer within {timeout:?}")))?
                .map_err(|e| fail(e.to_string()))?;
        let _: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            conn,
            location,
            reserve: Script::new(RESERVE),
            commit: Script::new(COMMIT),
            release: Script::new(RELEASE),
            purge: Script::new(PURGE),
        })
    }

    /// Where the store is, without credentials.
    pub fn location(&self) -> &str {
        &self.location
    }

    fn key(scope: &str, value: &[u8]) -> String {
        let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
        format!("sd:nonce:{}:{scope}:{hex}", scope.len())
    }

    async fn run(&self, script: &Script, key: &str, args: &[String]) -> Result<i64, ReplayError> {
        let mut inv = script.key(key);
        for a in args {
            inv.arg(a);
        }
        let mut conn = self.conn.clone();
        inv.invoke_async(&mut conn)
            .await
            .map_err(|e| ReplayError::Unavailable(format!("{}: {e}", self.location)))
    }
}

impl NonceStore for RedisNonceStore {
    fn reserve<'a>(
        &'a self,
        scope: &'a str,
        value: &'a [u8],
        now: SystemTime,
        expires_at: SystemTime,
    ) -> BoxFuture<'a, Result<Reservation, ReplayError>> {
        Box::pin(async move {
            check_reserve_args(scope, value, now, expires_at)?;
            let token = new_token()?;
            let args = [
                token.to_string(),
                unix_millis(now).to_string(),
                unix_millis(expires_at).to_string(),
            ];
            match self
                .run(&self.reserve, &Self::key(scope, value), &args)
                .await?
            {
                1 => Ok(Reservation {
                    scope: scope.to_owned(),
                    value: value.to_vec(),
                    expires_at,
                    token,
                }),
                _ => Err(ReplayError::Replayed),
            }
        })
    }

    fn commit<'a>(&'a self, r: &'a Reservation) -> BoxFuture<'a, Result<(), ReplayError>> {
        Box::pin(async move {
            match self
                .run(
                    &self.commit,
                    &Self::key(&r.scope, &r.value),
                    &[r.token.to_string()],
                )
                .await?
            {
                1 => Ok(()),
                _ => Err(ReplayError::ReservationLost),
            }
        })
    }

    fn release<'a>(&'a self, r: &'a Reservation) -> BoxFuture<'a, Result<(), ReplayError>> {
        Box::pin(async move {
            match self
                .run(
                    &self.release,
                    &Self::key(&r.scope, &r.value),
                    &[r.token.to_string()],
                )
                .await?
            {
                1 => Ok(()),
                _ => Err(ReplayError::ReservationLost),
            }
        })
    }

    /// Redis expires keys itself a minute after their end; this deletes, now, the entries
    /// whose `expires_at` is at or before `now` (a SCAN over the nonce keys, in batches).
    fn purge_expired(&self, now: SystemTime) -> BoxFuture<'_, Result<u64, ReplayError>> {
        Box::pin(async move {
            let unavailable =
                |e: redis::RedisError| ReplayError::Unavailable(format!("{}: {e}", self.location));
            let mut conn = self.conn.clone();
            let mut cursor: u64 = 0;
            let mut purged = 0u64;
            loop {
                let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg("sd:nonce:*")
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut conn)
                    .await
                    .map_err(unavailable)?;
                if !keys.is_empty() {
                    let mut inv = self.purge.prepare_invoke();
                    for k in &keys {
                        inv.key(k);
                    }
                    inv.arg(unix_millis(now));
                    let n: u64 = inv.invoke_async(&mut conn).await.map_err(unavailable)?;
                    purged += n;
                }
                if next == 0 {
                    return Ok(purged);
                }
                cursor = next;
            }
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), ReplayError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let _: String = redis::cmd("PING")
                .query_async(&mut conn)
                .await
                .map_err(|e| ReplayError::Unavailable(format!("{}: {e}", self.location)))?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact("redis://u:pw@h:6379/0"),
            "redis://u:***@h:6379/0"
        );
        assert_eq!(super::redact("redis://h:6379"), "redis://h:6379");
    }
}
