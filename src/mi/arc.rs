//! Azure Arc: `GET $IDENTITY_ENDPOINT` (or the agent's default) twice. The first answer must be
//! 401 with `WWW-Authenticate: Basic realm=<key file>`; the key file is read only if it sits
//! directly in the platform directory, ends in `.key`, is a regular file (no symlink) and is at
//! most 4096 bytes (stat first); its content goes back as `Authorization: Basic <content>`
//! (managed-identity-authentication.md).
//!
//! Arc officially serves only the system identity. A user-assigned selector is sent as
//! `client_id` / `object_id` / `msi_res_id`, and the reply must echo it, because older agents
//! silently answer with the system identity (MSAL Python and Go fail closed the same way).

use std::path::{Component, Path};

use secrecy::SecretString;

use super::{Endpoint, MiRequest};
use crate::error::{Error, Leg, quote};
use crate::ids::ManagedIdentity;

/// The api-version sent to Arc.
pub(crate) const API_VERSION: &str = "2020-06-01";
/// Largest key file read.
pub(crate) const MAX_KEY_FILE_BYTES: u64 = 4096;

pub(crate) fn request(ep: &Endpoint, identity: &ManagedIdentity, resource: &str) -> MiRequest {
    let r = MiRequest::token_get(ep, API_VERSION, resource)
        .selector(identity, ["client_id", "object_id", "msi_res_id"]);
    r.header("Metadata", "true")
}

fn refuse(url: &str, why: String) -> Error {
    Error::InvalidResponse {
        leg: Leg::ManagedIdentity,
        url: url.to_owned(),
        detail: format!("Azure Arc challenge refused: {why}"),
    }
}

/// The key-file path named by a `WWW-Authenticate: Basic realm=<path>` header.
pub(crate) fn realm_path(header: &str) -> Option<&str> {
    let rest = header.trim().strip_prefix("Basic")?.trim_start();
    let rest = rest.strip_prefix("realm=")?;
    let p = rest.trim().trim_matches('"');
    (!p.is_empty()).then_some(p)
}

/// Validate the challenge's key file against `key_dir` and read it. Nothing is read unless every
/// check passes.
pub(crate) fn read_key(
    header: Option<&str>,
    key_dir: &Path,
    url: &str,
) -> Result<SecretString, Error> {
    let header =
        header.ok_or_else(|| refuse(url, "401 without a WWW-Authenticate header".into()))?;
    let realm = realm_path(header)
        .ok_or_else(|| refuse(url, "WWW-Authenticate is not `Basic realm=<path>`".into()))?;
    let path = Path::new(realm);
    let shown = quote(realm);
    if !path.is_absolute()
        || path
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return Err(refuse(
            url,
            format!("key file {shown} is not a plain absolute path"),
        ));
    }
    if path.extension().and_then(|e| e.to_str()) != Some("key") {
        return Err(refuse(
            url,
            format!("key file {shown} does not end in .key"),
        ));
    }
    let parent = path
        .parent()
        .ok_or_else(|| refuse(url, format!("key file {shown} has no directory")))?;
    let want = std::fs::canonicalize(key_dir).map_err(|_| {
        refuse(
            url,
            format!("the Arc key directory {} does not exist", key_dir.display()),
        )
    })?;
    let got = std::fs::canonicalize(parent).map_err(|_| {
        refuse(
            url,
            format!("key file {shown} is in a directory that does not exist"),
        )
    })?;
    if got != want {
        return Err(refuse(
            url,
            format!(
                "key file {shown} is outside the Arc agent directory {}",
                key_dir.display()
            ),
        ));
    }
    let meta = std::fs::symlink_metadata(path)
        .map_err(|_| refuse(url, format!("key file {shown} cannot be examined")))?;
    if meta.file_type().is_symlink() || !meta.is_file() {
        return Err(refuse(
            url,
            format!("key file {shown} is not a regular file"),
        ));
    }
    if meta.len() > MAX_KEY_FILE_BYTES {
        return Err(refuse(
            url,
            format!(
                "key file {shown} is {} bytes, over the {MAX_KEY_FILE_BYTES}-byte limit",
                meta.len()
            ),
        ));
    }
    let content = std::fs::read_to_string(path).map_err(|e| {
        refuse(
            url,
            format!("key file {shown} cannot be read: {}", e.kind()),
        )
    })?;
    Ok(SecretString::from(content.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn realm_parsing() {
        assert_eq!(
            realm_path("Basic realm=/var/opt/azcmagent/tokens/a.key"),
            Some("/var/opt/azcmagent/tokens/a.key")
        );
        assert_eq!(realm_path("Basic realm=\"/x/a.key\""), Some("/x/a.key"));
        assert_eq!(realm_path("Bearer realm=/x"), None);
        assert_eq!(realm_path("Basic"), None);
    }

    #[cfg(unix)]
    #[test]
    fn hostile_realms_are_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("tokens");
        let other = dir.path().join("other");
        std::fs::create_dir_all(&keys).unwrap();
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(keys.join("good.key"), "k3y-content\n").unwrap();
        std::fs::write(other.join("outside.key"), "x").unwrap();
        std::fs::write(keys.join("wrong.txt"), "x").unwrap();
        std::fs::write(keys.join("big.key"), "x".repeat(5000)).unwrap();
        std::os::unix::fs::symlink(other.join("outside.key"), keys.join("link.key")).unwrap();
        let h = |p: &Path| format!("Basic realm={}", p.display());
        let ok = read_key(Some(&h(&keys.join("good.key"))), &keys, "u").unwrap();
        assert_eq!(ok.expose_secret(), "k3y-content");
        for (path, why) in [
            (other.join("outside.key"), "outside"),
            (keys.join("../other/outside.key"), "plain absolute"),
            (keys.join("wrong.txt"), ".key"),
            (keys.join("big.key"), "limit"),
            (keys.join("link.key"), "regular file"),
            (Path::new("relative.key").to_path_buf(), "plain absolute"),
        ] {
            let e = read_key(Some(&h(&path)), &keys, "u").unwrap_err();
            assert!(e.to_string().contains(why), "{path:?}: {e}");
        }
        assert!(read_key(None, &keys, "u").is_err());
    }
}
