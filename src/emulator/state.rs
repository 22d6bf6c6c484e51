//! Start-up and the shared state every handler sees: keys, directory, faults, log, secrets,
//! the MI token cache and the served URLs; and the running emulator's listener tasks and
//! shutdown signal.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::config::EmulatorConfig;
use super::directory::{Directory, DirectoryHandle};
use super::faults::Faults;
use super::jwt::Signer;
use super::keys::{self, TlsMaterial};
use super::log::{Listener, RequestLog};
use super::serve::{self, ListenerCtx};
use super::{EmulatorError, EmulatorHandle, authority, control, mi};
use crate::clock::{SharedClock, unix};

/// The URLs the listeners are reachable at (no trailing slash).
#[derive(Debug, Clone)]
pub(crate) struct Urls {
    pub(crate) authority: String,
    pub(crate) authority_http: Option<String>,
    pub(crate) mi: String,
    pub(crate) service_fabric: String,
}

/// Platform secrets of this run.
pub(crate) struct Secrets {
    pub(crate) identity_header: String,
    pub(crate) msi_secret: String,
}

/// Azure Arc challenge state: where key files go and which contents are valid.
pub(crate) struct ArcState {
    pub(crate) key_dir: PathBuf,
    /// (key file content, key file path), oldest first.
    pub(crate) keys: Mutex<VecDeque<(String, PathBuf)>>,
}

/// How many Arc challenge keys stay valid at once; older key files are deleted.
pub(crate) const ARC_KEYS_KEPT: usize = 1024;

/// An MI token as cached per (identity or user object id, resource).
#[derive(Clone)]
pub(crate) struct CachedToken {
    pub(crate) jwt: Arc<str>,
    pub(crate) nbf: i64,
    pub(crate) exp: i64,
}

/// Everything handlers share.
pub(crate) struct State {
    pub(crate) config: EmulatorConfig,
    pub(crate) clock: SharedClock,
    pub(crate) signer: Signer,
    pub(crate) directory: DirectoryHandle,
    pub(crate) faults: Faults,
    pub(crate) log: RequestLog,
    pub(crate) secrets: Secrets,
    /// `issuer_host` without a trailing slash.
    pub(crate) issuer_host: String,
    pub(crate) mi_cache: Mutex<HashMap<(String, String), CachedToken>>,
    pub(crate) arc: ArcState,
    pub(crate) urls: Urls,
    pub(crate) ml_default_client_id: Option<String>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

impl State {
    pub(crate) fn now(&self) -> i64 {
        unix(self.clock.now())
    }
}

/// A running emulator (behind [`EmulatorHandle`]).
pub(crate) struct Running {
    pub(crate) state: Arc<State>,
    pub(crate) tls: TlsMaterial,
    pub(crate) ca_file: PathBuf,
    pub(crate) state_dir: PathBuf,
    remove_state_dir: bool,
    shutdown_tx: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Running {
    pub(crate) async fn shutdown(&self) {
        let _ = self.shutdown_tx.send(true);
        let tasks: Vec<_> = self
            .tasks
            .lock()
            .map(|mut t| t.drain(..).collect())
            .unwrap_or_default();
        for t in tasks {
            let _ = t.await;
        }
        self.remove_dir();
    }

    fn remove_dir(&self) {
        if self.remove_state_dir {
            let _ = std::fs::remove_dir_all(&self.state_dir);
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
        self.remove_dir();
    }
}

fn random_hex(bytes: usize) -> String {
    use ring::rand::SecureRandom;
    let mut b = vec![0u8; bytes];
    // The OS RNG failing leaves no way to make secrets.
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .expect("system random source");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn bind_ip(host: &str) -> IpAddr {
    if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }
}

async fn bind(
    ip: IpAddr,
    port: u16,
    listener: &'static str,
) -> Result<(TcpListener, String), EmulatorError> {
    let addr = SocketAddr::new(ip, port);
    let l = TcpListener::bind(addr)
        .await
        .map_err(|e| EmulatorError::Bind {
            listener,
            addr: addr.to_string(),
            source: e,
        })?;
    let local = l.local_addr().map_err(|e| EmulatorError::Bind {
        listener,
        addr: addr.to_string(),
        source: e,
    })?;
    // SocketAddr's Display brackets IPv6, which is the URL form.
    Ok((l, local.to_string()))
}

pub(crate) async fn start(
    config: EmulatorConfig,
    clock: SharedClock,
    state_dir: Option<PathBuf>,
    log_capacity: usize,
) -> Result<EmulatorHandle, EmulatorError> {
    config.validate()?;

    // Key material in parallel with binding: RSA generation dominates start-up.
    let key_task = {
        let pem = config.signing_key_pem.clone();
        async move {
            let der = match pem {
                Some(p) => keys::rsa_pkcs8_from_pem(&p)?,
                None => keys::generate_rsa_pkcs8().await?,
            };
            keys::signing_key(&der)
        }
    };
    let tls_task = async {
        tokio::task::spawn_blocking(keys::generate_tls)
            .await
            .map_err(|e| EmulatorError::Crypto(format!("certificate generation panicked: {e}")))?
    };
    let ip = bind_ip(&config.listen.host);
    let l = &config.listen;
    let binds = async {
        let mi = bind(ip, l.mi_port, "mi").await?;
        let authority = bind(ip, l.authority_port, "authority").await?;
        let sf = bind(ip, l.service_fabric_port, "service_fabric").await?;
        let http = if l.authority_http {
            Some(bind(ip, l.authority_http_port, "authority_http").await?)
        } else {
            None
        };
        Ok::<_, EmulatorError>((mi, authority, sf, http))
    };
    let (key, tls, binds) = tokio::join!(key_task, tls_task, binds);
    let ((key, key_cert), tls, (mi_l, auth_l, sf_l, http_l)) = (key?, tls?, binds?);

    let (state_dir, remove_state_dir) = match state_dir {
        Some(d) => (d, false),
        None => (
            std::env::temp_dir().join(format!(
                "ficx-emulator-{}-{}",
                std::process::id(),
                random_hex(6)
            )),
            true,
        ),
    };
    let io = |what: String| move |e| EmulatorError::Io { what, source: e };
    std::fs::create_dir_all(&state_dir).map_err(io(format!("creating {}", state_dir.display())))?;
    let ca_file = state_dir.join("ca.pem");
    std::fs::write(&ca_file, &tls.ca_pem).map_err(io(format!("writing {}", ca_file.display())))?;
    let key_dir = config
        .arc
        .key_dir
        .clone()
        .unwrap_or_else(|| state_dir.join("arc-tokens"));
    std::fs::create_dir_all(&key_dir).map_err(io(format!("creating {}", key_dir.display())))?;
    let key_dir = std::fs::canonicalize(&key_dir).unwrap_or(key_dir);

    let urls = Urls {
        authority: format!("https://{}", auth_l.1),
        authority_http: http_l.as_ref().map(|h| format!("http://{}", h.1)),
        mi: format!("http://{}", mi_l.1),
        service_fabric: format!("https://{}", sf_l.1),
    };
    let start_unix = unix(clock.now());
    let dir = Directory::from_config(&config, start_unix);
    let ml_default_client_id = dir
        .host
        .azure_ml
        .map(|i| dir.identities[i].client_id.clone());
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let secrets = Secrets {
        identity_header: config
            .secrets
            .identity_header
            .clone()
            .unwrap_or_else(|| random_hex(16)),
        msi_secret: config
            .secrets
            .msi_secret
            .clone()
            .unwrap_or_else(|| random_hex(16)),
    };
    let state = Arc::new(State {
        issuer_host: config.issuer_host.trim_end_matches('/').to_owned(),
        directory: DirectoryHandle::new(dir, clock.clone()),
        config,
        clock,
        signer: Signer::new(key, key_cert),
        faults: Faults::default(),
        log: RequestLog::with_capacity(log_capacity),
        secrets,
        mi_cache: Mutex::new(HashMap::new()),
        arc: ArcState {
            key_dir,
            keys: Mutex::new(VecDeque::new()),
        },
        urls: urls.clone(),
        ml_default_client_id,
        shutdown: shutdown_rx.clone(),
    });

    let authority_router = authority::router()
        .merge(control::router())
        .with_state(state.clone());
    let mi_router = mi::router()
        .merge(control::router())
        .with_state(state.clone());
    let sf_router = mi::service_fabric::router().with_state(state.clone());
    let mut tasks = vec![
        serve::spawn(
            mi_l.0,
            None,
            mi_router,
            ListenerCtx::new(Listener::Mi, &urls.mi),
            state.clone(),
        ),
        serve::spawn(
            auth_l.0,
            Some(tls.authority.clone()),
            authority_router.clone(),
            ListenerCtx::new(Listener::Authority, &urls.authority),
            state.clone(),
        ),
        serve::spawn(
            sf_l.0,
            Some(tls.service_fabric.clone()),
            sf_router,
            ListenerCtx::new(Listener::ServiceFabric, &urls.service_fabric),
            state.clone(),
        ),
    ];
    if let (Some((l, _)), Some(url)) = (http_l, urls.authority_http.as_deref()) {
        tasks.push(serve::spawn(
            l,
            None,
            authority_router,
            ListenerCtx::new(Listener::AuthorityHttp, url),
            state.clone(),
        ));
    }
    tracing::debug!(authority = %urls.authority, mi = %urls.mi, "ficx emulator started");
    Ok(EmulatorHandle {
        inner: Arc::new(Running {
            state,
            tls,
            ca_file,
            state_dir,
            remove_state_dir,
            shutdown_tx,
            tasks: Mutex::new(tasks),
        }),
    })
}
