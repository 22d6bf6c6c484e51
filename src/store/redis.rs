//! [`RedisStore`]: the fleet-wide [`TokenStore`] on Redis (standalone or cluster), with every
//! value sealed by AES-256-GCM ([`Keyring`]).
//!
//! Layout, per entry (`<d>` = the key's 32-hex digest; the braces are a cluster hash tag, so
//! an entry and its lease share a slot and one script can touch both):
//!
//! | key | value | expiry |
//! |---|---|---|
//! | `<prefix>:{<d>}:tok` | `v1.<key id>.<nonce>.<ciphertext>` ([`seal`](super::seal)) | the token's refresh point |
//! | `<prefix>:{<d>}:lease` | a random 128-bit fence | the lease TTL (`SET NX PX`) |
//!
//! A lease holder writes with a script that checks its fence first, and releases with a
//! compare-and-delete, so a holder whose lease expired cannot overwrite or free a newer one.

use std::fmt;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncCommands, RedisError, Script};
use tokio::sync::OnceCell;

use super::seal::{Keyring, MAX_ENTRY_TTL};
use super::{Lease, StoreError, StoreKey, TokenStore};
use crate::error::Error;
use crate::token::AccessToken;

/// Default key prefix.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::Error> {
/// use ficx::store::{StoreKey, redis::{DEFAULT_PREFIX, RedisStore}, seal::Keyring};
/// let store = RedisStore::builder().url("redis://127.0.0.1:6379").keyring(Keyring::random("k1")).build()?;
/// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
/// assert!(store.value_key(&key).starts_with(&format!("{DEFAULT_PREFIX}:")));
/// # Ok(()) }
/// ```
pub const DEFAULT_PREFIX: &str = "ficx";
/// Bound on connecting and on each reply inside the client (the exchanger also bounds each
/// store call, more tightly by default).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

const PUT_FENCED: &str = r#"
if redis.call('GET', KEYS[2]) == ARGV[3] or redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"#;

const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#;

#[derive(Clone)]
enum Conn {
    /// The manager is made on first use, inside the runtime (it spawns a task), so a store can
    /// be built anywhere.
    Standalone(
        std::sync::Arc<(
            redis::Client,
            ConnectionManagerConfig,
            OnceCell<ConnectionManager>,
        )>,
    ),
    Cluster(std::sync::Arc<(ClusterClient, OnceCell<ClusterConnection>)>),
}

/// A [`TokenStore`] on Redis. Cheap to clone (clones share the connection).
///
/// ```no_run
/// use ficx::store::redis::RedisStore;
/// use ficx::store::seal::Keyring;
/// # fn run() -> Result<(), ficx::Error> {
/// let store = RedisStore::builder()
///     .url("rediss://:password@fleet-cache.redis.cache.windows.net:6380")
///     .keyring(Keyring::from_file("/run/secrets/ficx-store-key".as_ref())?)
///     .build()?; // no connection yet: the first use connects
/// let exchanger = ficx::Exchanger::builder()
///     .client_id("c0c0c0c0-0000-4000-8000-00000000c0c0")
///     .token_store(store)
///     .build()?;
/// # let _ = exchanger; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    conn: Conn,
    keyring: std::sync::Arc<Keyring>,
    prefix: String,
    endpoints: String,
    put_fenced: std::sync::Arc<Script>,
    release: std::sync::Arc<Script>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("endpoints", &self.endpoints)
            .field(
                "mode",
                &match self.conn {
                    Conn::Standalone(_) => "standalone",
                    Conn::Cluster(_) => "cluster",
                },
            )
            .field("prefix", &self.prefix)
            .field("keyring", &self.keyring)
            .finish()
    }
}

/// Builds a [`RedisStore`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::Error> {
/// use ficx::store::{redis::RedisStore, seal::Keyring};
/// let store = RedisStore::builder()
///     .url("rediss://:password@fleet-cache.redis.cache.windows.net:6380")
///     .keyring(Keyring::random("k1"))
///     .prefix("orders-svc")
///     .build()?; // validated; connects on first use
/// assert_eq!(store.endpoints(), "rediss://fleet-cache.redis.cache.windows.net:6380");
/// # Ok(()) }
/// ```
#[derive(Default)]
#[must_use]
pub struct RedisStoreBuilder {
    urls: Vec<String>,
    cluster: bool,
    keyring: Option<Keyring>,
    prefix: Option<String>,
    allow_plaintext: bool,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field(
                "urls",
                &self.urls.iter().map(|u| redact(u)).collect::<Vec<_>>(),
            )
            .field("cluster", &self.cluster)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn bad(field: &'static str, problem: impl Into<String>) -> Error {
    Error::InvalidInput {
        field,
        problem: problem.into(),
    }
}

/// `scheme://host:port` with any user or password removed.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}{}",
            u.scheme(),
            u.host_str().unwrap_or("?"),
            u.port().map(|p| format!(":{p}")).unwrap_or_default()
        ),
        Err(_) => "<unparsable url>".into(),
    }
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        // redis:// is not a "special" scheme, so the parser leaves IP literals as names.
        url::Host::Domain(d) => {
            d.eq_ignore_ascii_case("localhost")
                || d.trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        url::Host::Ipv4(a) => a.is_loopback(),
        url::Host::Ipv6(a) => a.is_loopback(),
    }
}

impl RedisStoreBuilder {
    /// A server URL: `rediss://[:password@]host:port[/db]` (TLS, certificates checked against
    /// the system roots) or `redis://…` on loopback. Repeat for the seed nodes of a cluster.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::Error> {
    /// use ficx::store::{redis::RedisStore, seal::Keyring};
    /// // Plain redis:// only on loopback (or with allow_plaintext).
    /// assert!(RedisStore::builder().url("redis://127.0.0.1:6379").keyring(Keyring::random("k1")).build().is_ok());
    /// assert!(RedisStore::builder().url("redis://cache.internal:6379").keyring(Keyring::random("k1")).build().is_err());
    /// # Ok(()) }
    /// ```
    pub fn url(mut self, url: &str) -> Self {
        self.urls.push(url.to_owned());
        self
    }

    /// Talk to a Redis Cluster (the URLs are seed nodes). Implied by more than one URL.
    ///
    /// ```
    /// use ficx::store::{redis::RedisStore, seal::Keyring};
    /// let store = RedisStore::builder()
    ///     .url("rediss://node-1.cache.example:6380")
    ///     .cluster(true) // one seed node of a Redis Cluster
    ///     .keyring(Keyring::random("k1"))
    ///     .build()?;
    /// assert_eq!(store.endpoints(), "rediss://node-1.cache.example:6380");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn cluster(mut self, yes: bool) -> Self {
        self.cluster = yes;
        self
    }

    /// The keys values are sealed with (required).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::Error> {
    /// use ficx::store::{redis::RedisStore, seal::Keyring};
    /// let keys = Keyring::parse("k2=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
    /// assert!(RedisStore::builder().url("redis://127.0.0.1:6379").keyring(keys).build().is_ok());
    /// let err = RedisStore::builder().url("redis://127.0.0.1:6379").build().unwrap_err(); // required
    /// assert!(err.to_string().contains("key"));
    /// # Ok(()) }
    /// ```
    pub fn keyring(mut self, keyring: Keyring) -> Self {
        self.keyring = Some(keyring);
        self
    }

    /// Key prefix, so several fleets can share one Redis (default [`DEFAULT_PREFIX`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::Error> {
    /// use ficx::store::{StoreKey, redis::RedisStore, seal::Keyring};
    /// let store = RedisStore::builder().url("redis://127.0.0.1:6379").keyring(Keyring::random("k1")).prefix("orders-svc").build()?;
    /// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
    /// assert!(store.value_key(&key).starts_with("orders-svc:{"));
    /// assert!(RedisStore::builder().url("redis://127.0.0.1:6379").keyring(Keyring::random("k1")).prefix("a b").build().is_err());
    /// # Ok(()) }
    /// ```
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = Some(prefix.to_owned());
        self
    }

    /// Allow `redis://` (no TLS) off loopback. Values stay sealed, but the Redis password and
    /// the access pattern travel in clear; use only inside a trusted network.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::Error> {
    /// use ficx::store::{redis::RedisStore, seal::Keyring};
    /// let store = RedisStore::builder()
    ///     .url("redis://cache.internal:6379") // a trusted network only: values stay sealed
    ///     .allow_plaintext(true)
    ///     .keyring(Keyring::random("k1"))
    ///     .build();
    /// assert!(store.is_ok());
    /// # Ok(()) }
    /// ```
    pub fn allow_plaintext(mut self, yes: bool) -> Self {
        self.allow_plaintext = yes;
        self
    }

    /// Validate and build. Connects lazily, on the first store call (inside the runtime that
    /// makes it), so building needs no runtime and no reachable Redis.
    ///
    /// ```
    /// use ficx::store::{redis::RedisStore, seal::Keyring};
    /// let err = RedisStore::builder().keyring(Keyring::random("k1")).build().unwrap_err();
    /// assert!(err.to_string().contains("redis url")); // a URL is required
    /// assert!(RedisStore::builder().url("memcached://127.0.0.1").keyring(Keyring::random("k1")).build().is_err());
    /// let store = RedisStore::builder().url("redis://127.0.0.1:6379").keyring(Keyring::random("k1")).build()?;
    /// # let _ = store; Ok::<(), ficx::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the bad URL, prefix or missing keyring.
    pub fn build(self) -> Result<RedisStore, Error> {
        let keyring = self.keyring.ok_or_else(|| {
            bad(
                "token store key",
                "is missing; a Redis store needs a key to seal tokens (FICX_REDIS_KEY or --redis-key-file)",
            )
        })?;
        if self.urls.is_empty() {
            return Err(bad(
                "redis url",
                "is missing; expected rediss://host:port or redis://127.0.0.1:port",
            ));
        }
        for raw in &self.urls {
            let u = url::Url::parse(raw).map_err(|_| {
                bad(
                    "redis url",
                    format!("{} is not a URL; expected rediss://host:port", redact(raw)),
                )
            })?;
            let host = u.host().ok_or_else(|| bad("redis url", "has no host"))?;
            match u.scheme() {
                "rediss" => {}
                "redis" if is_loopback(&host) || self.allow_plaintext => {}
                "redis" => {
                    return Err(bad(
                        "redis url",
                        format!(
                            "{} is plain redis:// off loopback; use rediss:// (TLS), or allow plaintext explicitly",
                            redact(raw)
                        ),
                    ));
                }
                other => {
                    return Err(bad(
                        "redis url",
                        format!("scheme {other}: is not redis or rediss"),
                    ));
                }
            }
        }
        let prefix = self.prefix.unwrap_or_else(|| DEFAULT_PREFIX.to_owned());
        if prefix.is_empty()
            || prefix.len() > 64
            || prefix
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '{' || c == '}')
        {
            return Err(bad(
                "redis prefix",
                "must be 1-64 characters without whitespace, control characters or braces",
            ));
        }
        let endpoints = self
            .urls
            .iter()
            .map(|u| redact(u))
            .collect::<Vec<_>>()
            .join(",");
        let conn = if self.cluster || self.urls.len() > 1 {
            let client = ClusterClient::builder(self.urls.clone())
                .connection_timeout(CLIENT_TIMEOUT)
                .response_timeout(CLIENT_TIMEOUT)
                .build()
                .map_err(|e| bad("redis url", e.to_string()))?;
            Conn::Cluster(std::sync::Arc::new((client, OnceCell::new())))
        } else {
            let client = redis::Client::open(self.urls[0].as_str())
                .map_err(|e| bad("redis url", e.to_string()))?;
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(CLIENT_TIMEOUT))
                .set_response_timeout(Some(CLIENT_TIMEOUT))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_millis(500));
            Conn::Standalone(std::sync::Arc::new((client, config, OnceCell::new())))
        };
        Ok(RedisStore {
            conn,
            keyring: std::sync::Arc::new(keyring),
            prefix,
            endpoints,
            put_fenced: std::sync::Arc::new(Script::new(PUT_FENCED)),
            release: std::sync::Arc::new(Script::new(RELEASE)),
        })
    }
}

fn unavailable(e: RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Either connection, as one `ConnectionLike`.
enum Live {
    Standalone(ConnectionManager),
    Cluster(ClusterConnection),
}

macro_rules! with_conn {
    ($live:expr, $c:ident => $body:expr) => {
        match $live {
            Live::Standalone(mut $c) => $body,
            Live::Cluster(mut $c) => $body,
        }
    };
}

impl RedisStore {
    /// Start building.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::Error> {
    /// use ficx::store::{redis::RedisStore, seal::Keyring};
    /// let store = RedisStore::builder().url("redis://127.0.0.1:6379").keyring(Keyring::random("k1")).build()?;
    /// assert_eq!(store.endpoints(), "redis://127.0.0.1:6379");
    /// # Ok(()) }
    /// ```
    pub fn builder() -> RedisStoreBuilder {
        RedisStoreBuilder::default()
    }

    /// The Redis key holding `key`'s sealed token (for operators and tests).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::Error> {
    /// use ficx::store::{StoreKey, redis::RedisStore, seal::Keyring};
    /// let store = RedisStore::builder().url("redis://127.0.0.1:6379").keyring(Keyring::random("k1")).build()?;
    /// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
    /// assert_eq!(store.value_key(&key), format!("ficx:{{{}}}:tok", key.digest())); // hash tag: one cluster slot
    /// # Ok(()) }
    /// ```
    pub fn value_key(&self, key: &StoreKey) -> String {
        format!("{}:{{{}}}:tok", self.prefix, key.digest())
    }

    /// The Redis key of `key`'s exchange lease.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::Error> {
    /// use ficx::store::{StoreKey, redis::RedisStore, seal::Keyring};
    /// let store = RedisStore::builder().url("redis://127.0.0.1:6379").keyring(Keyring::random("k1")).build()?;
    /// let key = StoreKey::new("https://login.microsoftonline.com", "c0c0c0c0-0000-4000-8000-00000000c0c0", "contoso.onmicrosoft.com", "api://orders/.default");
    /// assert_eq!(store.lease_key(&key), format!("ficx:{{{}}}:lease", key.digest()));
    /// # Ok(()) }
    /// ```
    pub fn lease_key(&self, key: &StoreKey) -> String {
        format!("{}:{{{}}}:lease", self.prefix, key.digest())
    }

    /// Redacted endpoints (no credentials), for logs.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ficx::Error> {
    /// use ficx::store::{redis::RedisStore, seal::Keyring};
    /// let store = RedisStore::builder().url("rediss://:s3cret@cache.example:6380/2").keyring(Keyring::random("k1")).build()?;
    /// assert!(!store.endpoints().contains("s3cret")); // safe to log
    /// # Ok(()) }
    /// ```
    pub fn endpoints(&self) -> &str {
        &self.endpoints
    }

    async fn live(&self) -> Result<Live, StoreError> {
        match &self.conn {
            Conn::Standalone(s) => {
                let (client, config, cell) = &**s;
                let manager = cell
                    .get_or_try_init(|| async {
                        ConnectionManager::new_lazy_with_config(client.clone(), config.clone())
                    })
                    .await
                    .map_err(unavailable)?;
                Ok(Live::Standalone(manager.clone()))
            }
            Conn::Cluster(c) => {
                let (client, cell) = &**c;
                let conn = cell
                    .get_or_try_init(|| client.get_async_connection())
                    .await
                    .map_err(unavailable)?;
                Ok(Live::Cluster(conn.clone()))
            }
        }
    }

    /// Check that Redis answers (`PING`), e.g. for a readiness probe.
    ///
    /// ```no_run
    /// use ficx::store::{redis::RedisStore, seal::Keyring};
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = RedisStore::builder().url("rediss://cache.example:6380")
    ///     .keyring(Keyring::from_file("/run/secrets/ficx-store-key".as_ref())?).build()?;
    /// store.ping().await?; // readiness: fails with StoreError::Unavailable when Redis does not answer
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let live = self.live().await?;
        with_conn!(live, c => redis::cmd("PING").query_async::<String>(&mut c).await.map(|_| ()).map_err(unavailable))
    }
}

impl TokenStore for RedisStore {
    fn get<'a>(
        &'a self,
        key: &'a StoreKey,
    ) -> BoxFuture<'a, Result<Option<AccessToken>, StoreError>> {
        async move {
            let live = self.live().await?;
            let k = self.value_key(key);
            let v: Option<String> = with_conn!(live, c => c.get(&k).await.map_err(unavailable)?);
            v.map(|v| self.keyring.open(key.digest(), &v)).transpose()
        }
        .boxed()
    }

    fn put<'a>(
        &'a self,
        key: &'a StoreKey,
        token: &'a AccessToken,
        ttl: Duration,
        lease: Option<&'a Lease>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            let sealed = self.keyring.seal(key.digest(), token)?;
            let ttl_ms = ttl.min(MAX_ENTRY_TTL).as_millis().max(1) as u64;
            let live = self.live().await?;
            let k = self.value_key(key);
            match lease {
                Some(l) => {
                    let lk = self.lease_key(key);
                    let mut inv = self.put_fenced.key(&k);
                    inv.key(&lk).arg(&sealed).arg(ttl_ms).arg(l.fence());
                    let _: i64 = with_conn!(live, c => inv.invoke_async(&mut c).await.map_err(unavailable)?);
                }
                None => {
                    let _: () = with_conn!(live, c => redis::cmd("SET").arg(&k).arg(&sealed).arg("PX").arg(ttl_ms).query_async(&mut c).await.map_err(unavailable)?);
                }
            }
            Ok(())
        }
        .boxed()
    }

    fn try_lease<'a>(
        &'a self,
        key: &'a StoreKey,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<Lease>, StoreError>> {
        async move {
            let live = self.live().await?;
            let lease = Lease::new(key);
            let lk = self.lease_key(key);
            let ttl_ms = ttl.as_millis().max(1) as u64;
            let ok: Option<String> = with_conn!(live, c => redis::cmd("SET")
                .arg(&lk)
                .arg(lease.fence())
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms)
                .query_async(&mut c)
                .await
                .map_err(unavailable)?);
            Ok(ok.map(|_| lease))
        }
        .boxed()
    }

    fn release<'a>(
        &'a self,
        key: &'a StoreKey,
        lease: &'a Lease,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            let live = self.live().await?;
            let lk = self.lease_key(key);
            let mut inv = self.release.key(&lk);
            inv.arg(lease.fence());
            let _: i64 =
                with_conn!(live, c => inv.invoke_async(&mut c).await.map_err(unavailable)?);
            Ok(())
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(url: &str, plaintext: bool) -> Result<RedisStore, Error> {
        RedisStore::builder()
            .url(url)
            .keyring(Keyring::random("k"))
            .allow_plaintext(plaintext)
            .build()
    }

    #[test]
    fn builds_outside_a_runtime_standalone_and_cluster() {
        build("redis://127.0.0.1:1", false).expect("standalone");
        RedisStore::builder()
            .url("redis://127.0.0.1:1")
            .url("redis://127.0.0.1:2")
            .keyring(Keyring::random("k"))
            .build()
            .expect("cluster");
    }

    #[tokio::test]
    async fn an_unreachable_server_is_unavailable_not_a_panic() {
        let store = build("redis://127.0.0.1:1", false).expect("store");
        let key = StoreKey::new("https://a", "c", "t", "s/.default");
        assert!(matches!(
            store.get(&key).await,
            Err(StoreError::Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn plain_redis_only_on_loopback_unless_allowed() {
        for ok in [
            "redis://127.0.0.1:6379",
            "redis://localhost:6379",
            "redis://[::1]:6379",
            "rediss://cache.example.net:6380",
            "rediss://:s3cret@cache.example.net:6380",
        ] {
            assert!(build(ok, false).is_ok(), "{ok}");
        }
        for refused in ["redis://10.0.0.5:6379", "redis://cache.example.net:6379"] {
            let e = build(refused, false).unwrap_err().to_string();
            assert!(e.contains("rediss://"), "{e}");
            assert!(build(refused, true).is_ok());
        }
        let e = build("http://127.0.0.1:6379", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not redis or rediss"), "{e}");
    }

    #[tokio::test]
    async fn passwords_never_show() {
        let e = build("redis://:hunter2@10.0.0.5:6379", false)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
        let s = build("rediss://:hunter2@cache.example.net:6380", false).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.endpoints(), "rediss://cache.example.net:6380");
        let missing_key = RedisStore::builder().url("redis://127.0.0.1:1").build();
        assert!(missing_key.unwrap_err().to_string().contains("key"));
    }
}
