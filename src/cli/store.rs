//! The shared token store flags (`--redis-*`), common to `token` and `serve`.

use std::path::PathBuf;

use clap::Args;
use ficx::store::redis::RedisStore;
use ficx::store::seal::Keyring;
use ficx::{Env, ExchangerBuilder};

use super::exit::Usage;

/// Env var holding the sealing keys inline (`<id>=<base64 of 32 bytes>`, comma-separated).
pub(crate) const KEY_ENV: &str = "FICX_REDIS_KEY";

/// Fleet-wide token sharing through Redis.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Shared token store (Redis)")]
pub(crate) struct StoreArgs {
    /// Share app tokens with other processes through this Redis: rediss://[:password@]host:port,
    /// or redis://127.0.0.1:port; repeat for cluster seed nodes (env FICX_REDIS_URL).
    #[arg(long = "redis-url", env = "FICX_REDIS_URL", value_name = "URL")]
    pub(crate) urls: Vec<String>,
    /// The Redis is a cluster (implied by several --redis-url).
    #[arg(long)]
    pub(crate) redis_cluster: bool,
    /// File with the keys that seal tokens in Redis, `<id>=<base64 of 32 bytes>` per line, first
    /// one seals (env FICX_REDIS_KEY_FILE; or the keys inline in env FICX_REDIS_KEY).
    #[arg(long, env = "FICX_REDIS_KEY_FILE", value_name = "FILE")]
    pub(crate) redis_key_file: Option<PathBuf>,
    /// Key prefix in Redis, to share one Redis between fleets (env FICX_REDIS_PREFIX; default ficx).
    #[arg(long, env = "FICX_REDIS_PREFIX", value_name = "PREFIX")]
    pub(crate) redis_prefix: Option<String>,
    /// Allow redis:// without TLS off loopback (values stay sealed; the password does not).
    #[arg(long)]
    pub(crate) redis_allow_plaintext: bool,
}

impl StoreArgs {
    /// The Redis store these flags describe, if any (validated; no connection yet).
    pub(crate) fn store(&self, env: &Env) -> anyhow::Result<Option<RedisStore>> {
        if self.urls.is_empty() {
            if self.redis_key_file.is_some() || self.redis_cluster {
                return Err(Usage(
                    "--redis-key-file/--redis-cluster need --redis-url (or FICX_REDIS_URL)".into(),
                )
                .into());
            }
            return Ok(None);
        }
        let keyring = match (&self.redis_key_file, env.var(KEY_ENV)) {
            (Some(path), _) => Keyring::from_file(path),
            (None, Some(inline)) => Keyring::parse(&inline),
            (None, None) => {
                return Err(Usage(format!(
                    "--redis-url needs the sealing key: --redis-key-file FILE or {KEY_ENV}=<id>=<base64 of 32 bytes> (make one with `openssl rand -base64 32`)"
                ))
                .into());
            }
        }
        .map_err(|e| Usage(e.to_string()))?;
        let mut b = RedisStore::builder()
            .keyring(keyring)
            .cluster(self.redis_cluster)
            .allow_plaintext(self.redis_allow_plaintext);
        for u in &self.urls {
            b = b.url(u);
        }
        if let Some(p) = &self.redis_prefix {
            b = b.prefix(p);
        }
        Ok(Some(b.build().map_err(|e| Usage(e.to_string()))?))
    }

    /// Add the store to an exchanger builder.
    pub(crate) fn apply(&self, b: ExchangerBuilder, env: &Env) -> anyhow::Result<ExchangerBuilder> {
        Ok(match self.store(env)? {
            Some(store) => {
                tracing::info!(redis = store.endpoints(), "sharing tokens through Redis");
                b.token_store(store)
            }
            None => b,
        })
    }
}
