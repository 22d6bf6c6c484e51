//! Running an MI request: the Arc challenge round trip, pinned TLS for Service Fabric, retries,
//! and mapping answers through [`super::reply`].

use std::path::PathBuf;

use secrecy::ExposeSecret;

use super::{Endpoint, Method, MiRequest, arc, build_request, reply};
use crate::clock::SharedClock;
use crate::error::{Error, Leg, SourceKind, TransportKind};
use crate::http::{Http, Reply};
use crate::ids::ManagedIdentity;
use crate::retry::{self, RetryObserver, RetryPolicy};
use crate::token::AccessToken;

/// Everything needed to fetch MI tokens from one endpoint for one identity.
#[derive(Clone)]
pub(crate) struct MiClient {
    pub(crate) endpoint: Endpoint,
    pub(crate) identity: ManagedIdentity,
    pub(crate) http: Http,
    pub(crate) pinned: Option<reqwest::Client>,
    pub(crate) arc_key_dir: PathBuf,
    pub(crate) clock: SharedClock,
    pub(crate) retry: RetryPolicy,
    pub(crate) observer: Option<RetryObserver>,
    /// IMDS at its default link-local address (not an override): unreachable means "no MI here".
    pub(crate) default_imds: bool,
}

impl std::fmt::Debug for MiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiClient")
            .field("endpoint", &self.endpoint)
            .field("identity", &self.identity)
            .finish()
    }
}

pub(crate) fn random_request_id() -> String {
    let n = fastrand::u128(..);
    let h = format!("{n:032x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

impl MiClient {
    /// Fetch a token for `resource`, with retries.
    pub(crate) async fn fetch(&self, resource: &str) -> Result<AccessToken, Error> {
        let span = tracing::debug_span!("mi", source = %self.endpoint.kind, identity = %self.identity, resource);
        let _e = span.enter();
        drop(_e);
        let first_try = std::sync::atomic::AtomicBool::new(true);
        let result = retry::run(&self.retry, self.clock.as_ref(), self.observer.as_ref(), |_| async {
            let r = self.fetch_once(resource).await;
            let was_first = first_try.swap(false, std::sync::atomic::Ordering::SeqCst);
            match r {
                Err(Error::Transport { kind: TransportKind::Connect, .. } | Error::Timeout { .. })
                    if was_first && self.default_imds =>
                {
                    Err(Error::NoManagedIdentity {
                        checked: format!(
                            "no IDENTITY_ENDPOINT, MSI_ENDPOINT or Arc agent in the environment, and IMDS at {} did not answer (not an Azure VM?)",
                            self.endpoint.url
                        ),
                    })
                }
                r => r,
            }
        })
        .await;
        match &result {
            Ok(t) => {
                tracing::debug!(source = %self.endpoint.kind, expires_on = t.expires_on_unix(), "MI token received")
            }
            Err(e) => {
                tracing::debug!(source = %self.endpoint.kind, error = %e, "MI token request failed")
            }
        }
        result
    }

    async fn fetch_once(&self, resource: &str) -> Result<AccessToken, Error> {
        let req = build_request(&self.endpoint, &self.identity, resource)?;
        let url = req.display_url();
        let mut reply = self.send(&req, None, &url).await?;
        if self.endpoint.kind == SourceKind::AzureArc && reply.status == 401 {
            let key = arc::read_key(reply.header("www-authenticate"), &self.arc_key_dir, &url)?;
            reply = self.send(&req, Some(key.expose_secret()), &url).await?;
        }
        let now = self.clock.now();
        if reply.status == 200 {
            let echo_required =
                self.endpoint.kind == SourceKind::AzureArc && !self.identity.is_system_assigned();
            return reply::parse_success(reply, &self.identity, echo_required, now, &url);
        }
        let secret = self.endpoint.secret.as_ref().map(|s| s.expose_secret());
        Err(reply::to_error(
            &reply,
            self.endpoint.kind,
            &self.identity,
            &secret.into_iter().collect::<Vec<_>>(),
            now,
        ))
    }

    async fn send(&self, req: &MiRequest, basic: Option<&str>, url: &str) -> Result<Reply, Error> {
        let client = self.pinned.as_ref().unwrap_or_else(|| self.http.mi());
        let mut b = match req.method {
            Method::Get => client.get(req.url.clone()),
            Method::Post => client.post(req.url.clone()),
        };
        for (name, value) in &req.headers {
            b = b.header(*name, value.clone());
        }
        b = b.header("x-ms-client-request-id", random_request_id());
        if let Some(key) = basic {
            let mut v =
                reqwest::header::HeaderValue::from_str(&format!("Basic {key}")).map_err(|_| {
                    Error::InvalidResponse {
                        leg: Leg::ManagedIdentity,
                        url: url.to_owned(),
                        detail: "the Azure Arc key file does not hold a header-safe value".into(),
                    }
                })?;
            v.set_sensitive(true);
            b = b.header("Authorization", v);
        }
        if let Some(form) = &req.form {
            b = b.form(form);
        }
        self.http.send(Leg::ManagedIdentity, b, url).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_look_like_guids() {
        let id = super::random_request_id();
        assert_eq!(id.len(), 36);
        assert!(crate::ids::ClientId::new(&id).is_ok(), "{id}");
    }
}
