//! Encryption of tokens at rest in a shared store: AES-256-GCM (ring) under an operator's
//! [`Keyring`], with the key id beside each value so keys can rotate.
//!
//! A sealed value is `v1.<key id>.<nonce>.<ciphertext+tag>` (base64url, no padding). The nonce
//! is 96 random bits per value. The associated data binds the value to its entry
//! (`ficx-v1|<key id>|<entry digest>`), so a value copied to another entry fails to open.
//! The plaintext (the token, its expiry, refresh point and type) exists only in memory and is
//! zeroed after use.
//!
//! **Key format** (file, or the `FICX_REDIS_KEY` variable): one key per line or comma,
//! `<id>=<base64 of 32 random bytes>`; the first key seals, all of them open. Make one with
//! `openssl rand -base64 32`. To rotate: put the new key first and keep the old one after it
//! until the old values have expired (one token lifetime), then drop it.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::clock::{from_unix, unix};
use crate::error::Error;
use crate::token::AccessToken;

const VERSION: &str = "v1";
const MAX_KEY_ID_LEN: usize = 32;

/// One named AES-256 key.
struct NamedKey {
    id: String,
    key: LessSafeKey,
}

/// The keys a store seals and opens with: the first seals, every one opens.
///
/// ```
/// use ficx::store::seal::Keyring;
/// let ring = Keyring::parse("k2=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=, k1=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=")?;
/// assert_eq!(ring.sealing_key_id(), "k2");
/// assert!(Keyring::parse("k1=c2hvcnQ=").is_err()); // 5 bytes, not 32
/// # Ok::<(), ficx::Error>(())
/// ```
pub struct Keyring {
    keys: Vec<NamedKey>,
    rng: SystemRandom,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field(
                "key_ids",
                &self.keys.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn bad(problem: impl Into<String>) -> Error {
    Error::InvalidInput {
        field: "token store key",
        problem: problem.into(),
    }
}

impl Keyring {
    /// Parse `id=base64key` entries separated by newlines or commas (blank lines and `#`
    /// comments skipped). Ids: 1–32 of `A-Z a-z 0-9 _ -`, unique; keys: exactly 32 bytes.
    ///
    /// ```
    /// use ficx::store::seal::Keyring;
    /// // Rotation: the new key first (seals), the old one kept to open existing values.
    /// let ring = Keyring::parse("# rotated 2025-06\nk2=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nk1=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=")?;
    /// assert_eq!(ring.sealing_key_id(), "k2");
    /// assert!(Keyring::parse("k1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=,k1=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=").is_err()); // duplicate id
    /// # Ok::<(), ficx::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the entry (never echoing key material).
    pub fn parse(spec: &str) -> Result<Self, Error> {
        let mut keys: Vec<NamedKey> = Vec::new();
        for (n, entry) in spec
            .split(['\n', ','])
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .enumerate()
        {
            let n = n + 1;
            let (id, material) = entry.split_once('=').ok_or_else(|| {
                bad(format!(
                    "entry {n} is not of the form <id>=<base64 of 32 bytes>"
                ))
            })?;
            let id = id.trim();
            if id.is_empty()
                || id.len() > MAX_KEY_ID_LEN
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(bad(format!(
                    "entry {n}: the key id must be 1-{MAX_KEY_ID_LEN} characters of A-Z a-z 0-9 _ -"
                )));
            }
            if keys.iter().any(|k| k.id == id) {
                return Err(bad(format!("entry {n}: key id \"{id}\" appears twice")));
            }
            let bytes = Zeroizing::new(
                [&STANDARD, &URL_SAFE, &URL_SAFE_NO_PAD]
                    .iter()
                    .find_map(|e| e.decode(material.trim()).ok())
                    .ok_or_else(|| bad(format!("key \"{id}\" is not valid base64")))?,
            );
            if bytes.len() != 32 {
                return Err(bad(format!(
                    "key \"{id}\" is {} bytes; expected 32 (make one with `openssl rand -base64 32`)",
                    bytes.len()
                )));
            }
            let key = LessSafeKey::new(
                UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| bad("unusable key"))?,
            );
            keys.push(NamedKey {
                id: id.to_owned(),
                key,
            });
        }
        if keys.is_empty() {
            return Err(bad(
                "no key given; expected <id>=<base64 of 32 bytes> (e.g. from `openssl rand -base64 32`)",
            ));
        }
        Ok(Self {
            keys,
            rng: SystemRandom::new(),
        })
    }

    /// [`parse`](Self::parse) the contents of `path`.
    ///
    /// ```
    /// use ficx::store::seal::Keyring;
    /// let file = tempfile::NamedTempFile::new().unwrap();
    /// std::fs::write(file.path(), "k1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n").unwrap();
    /// assert_eq!(Keyring::from_file(file.path())?.sealing_key_id(), "k1");
    /// assert!(Keyring::from_file("/nonexistent/key".as_ref()).is_err());
    /// # Ok::<(), ficx::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the file cannot be read or parsed.
    pub fn from_file(path: &std::path::Path) -> Result<Self, Error> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| bad(format!("cannot read the key file {}: {e}", path.display())))?,
        );
        Self::parse(&text)
    }

    /// A keyring with one fresh random key (tests, demos: values do not survive the process).
    ///
    /// ```
    /// use ficx::store::seal::Keyring;
    /// let (a, b) = (Keyring::random("demo"), Keyring::random("demo"));
    /// assert_eq!(a.sealing_key_id(), "demo");
    /// # let token = ficx::AccessToken::new("eyJ…".to_string().into(), std::time::SystemTime::now(), None, "Bearer");
    /// let sealed = a.seal("6f1c0d2e", &token)?;
    /// assert!(b.open("6f1c0d2e", &sealed).is_err()); // same id, different key
    /// # Ok::<(), ficx::store::StoreError>(())
    /// ```
    pub fn random(id: &str) -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        let rng = SystemRandom::new();
        if rng.fill(bytes.as_mut()).is_err() {
            for b in bytes.iter_mut() {
                *b = fastrand::u8(..);
            }
        }
        let key = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, bytes.as_ref()).expect("32 bytes is an AES-256 key"),
        );
        Self {
            keys: vec![NamedKey {
                id: id.to_owned(),
                key,
            }],
            rng,
        }
    }

    /// The id of the key that seals new values.
    ///
    /// ```
    /// use ficx::store::seal::Keyring;
    /// let ring = Keyring::parse("new=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=, old=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=")?;
    /// assert_eq!(ring.sealing_key_id(), "new"); // the first entry
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn sealing_key_id(&self) -> &str {
        &self.keys[0].id
    }

    /// Seal `token` for the entry named `digest`.
    ///
    /// ```
    /// use ficx::store::seal::Keyring;
    /// # let token = ficx::AccessToken::new("eyJ…".to_string().into(), std::time::SystemTime::now(), None, "Bearer");
    /// let ring = Keyring::random("k1");
    /// let sealed = ring.seal("6f1c0d2e", &token)?;
    /// assert!(!sealed.contains("eyJ")); // AES-256-GCM: the token is not in the value
    /// assert_ne!(sealed, ring.seal("6f1c0d2e", &token)?); // a fresh nonce each time
    /// # Ok::<(), ficx::store::StoreError>(())
    /// ```
    ///
    /// # Errors
    /// [`StoreError::Other`] when the system random source fails.
    pub fn seal(&self, digest: &str, token: &AccessToken) -> Result<String, StoreError> {
        let named = &self.keys[0];
        let payload = Payload {
            t: token.secret().expose_secret(),
            e: token.expires_on_unix(),
            r: token.refresh_on().map(unix),
            y: token.token_type(),
        };
        let mut buf = Zeroizing::new(
            serde_json::to_vec(&payload).map_err(|e| StoreError::Other(e.to_string()))?,
        );
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| StoreError::Other("no system randomness for a nonce".into()))?;
        let aad = aad(&named.id, digest);
        named
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut *buf,
            )
            .map_err(|_| StoreError::Other("encryption failed".into()))?;
        Ok(format!(
            "{VERSION}.{}.{}.{}",
            named.id,
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(&*buf)
        ))
    }

    /// Open a value sealed for the entry named `digest`.
    ///
    /// ```
    /// use ficx::store::{StoreError, seal::Keyring};
    /// # let token = ficx::AccessToken::new("eyJ…".to_string().into(), std::time::SystemTime::now(), None, "Bearer");
    /// let ring = Keyring::random("k1");
    /// let sealed = ring.seal("6f1c0d2e", &token)?;
    /// assert_eq!(ring.open("6f1c0d2e", &sealed)?.expires_on_unix(), token.expires_on_unix());
    /// // Bound to its entry: a value copied under another key does not open.
    /// assert!(matches!(ring.open("0000aaaa", &sealed), Err(StoreError::Undecryptable { .. })));
    /// # Ok::<(), StoreError>(())
    /// ```
    ///
    /// # Errors
    /// [`StoreError::Undecryptable`] for an unknown key id, a malformed value, or one that
    /// fails authentication (wrong key, tampered, or copied from another entry).
    pub fn open(&self, digest: &str, sealed: &str) -> Result<AccessToken, StoreError> {
        let fail = |reason: &str| StoreError::Undecryptable {
            digest: digest.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parts = sealed.splitn(4, '.');
        let (Some(VERSION), Some(id), Some(nonce), Some(body)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(fail("not a ficx v1 sealed value"));
        };
        let named = self.keys.iter().find(|k| k.id == id).ok_or_else(|| {
            let id: String = id.chars().take(MAX_KEY_ID_LEN).collect();
            fail(&format!("unknown key id \"{}\"", id.escape_debug()))
        })?;
        let nonce: [u8; NONCE_LEN] = URL_SAFE_NO_PAD
            .decode(nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| fail("malformed nonce"))?;
        let mut buf = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(body)
                .map_err(|_| fail("malformed ciphertext"))?,
        );
        let aad = aad(&named.id, digest);
        let plain = named
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| fail("authentication failed"))?;
        let p: OwnedPayload =
            serde_json::from_slice(plain).map_err(|_| fail("unreadable plaintext"))?;
        Ok(AccessToken::new(
            p.t,
            from_unix(p.e),
            p.r.map(from_unix),
            p.y,
        ))
    }
}

fn aad(key_id: &str, digest: &str) -> String {
    format!("ficx-{VERSION}|{key_id}|{digest}")
}

#[derive(Serialize)]
struct Payload<'a> {
    t: &'a str,
    e: i64,
    r: Option<i64>,
    y: &'a str,
}

#[derive(Deserialize)]
struct OwnedPayload {
    t: SecretString,
    e: i64,
    r: Option<i64>,
    y: String,
}

/// How long a sealed entry may live at most, whatever the token says (a safety net against a
/// clock far off).
///
/// ```
/// use ficx::store::seal::MAX_ENTRY_TTL;
/// // A RedisStore entry expires with its token, and after a day at most, even if the token's
/// // expiry is far off because a clock was wrong.
/// assert_eq!(MAX_ENTRY_TTL.as_secs(), 24 * 3600);
/// ```
pub const MAX_ENTRY_TTL: Duration = Duration::from_secs(24 * 3600);

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn token() -> AccessToken {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        AccessToken::new(
            SecretString::from("eyJhbGciOi.secret-token-text".to_owned()),
            now + Duration::from_secs(3600),
            Some(now + Duration::from_secs(3300)),
            "Bearer",
        )
    }

    #[test]
    fn round_trip_and_no_clear_text() {
        let ring = Keyring::random("k1");
        let sealed = ring.seal("d1", &token()).unwrap();
        assert!(sealed.starts_with("v1.k1."));
        assert!(!sealed.contains("secret-token-text"));
        let back = ring.open("d1", &sealed).unwrap();
        assert_eq!(
            back.secret().expose_secret(),
            token().secret().expose_secret()
        );
        assert_eq!(back.expires_on(), token().expires_on());
        assert_eq!(back.refresh_on(), token().refresh_on());
        // Two seals of the same token differ (random nonce).
        assert_ne!(sealed, ring.seal("d1", &token()).unwrap());
    }

    #[test]
    fn refuses_other_entry_wrong_key_tamper_unknown_id() {
        let ring = Keyring::random("k1");
        let sealed = ring.seal("d1", &token()).unwrap();
        let undecryptable =
            |r: Result<AccessToken, StoreError>| matches!(r, Err(StoreError::Undecryptable { .. }));
        assert!(
            undecryptable(ring.open("d2", &sealed)),
            "bound to its entry"
        );
        assert!(undecryptable(Keyring::random("k1").open("d1", &sealed)));
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(undecryptable(
            ring.open("d1", std::str::from_utf8(&tampered).unwrap())
        ));
        assert!(undecryptable(Keyring::random("k9").open("d1", &sealed)));
        assert!(undecryptable(ring.open("d1", "v1.k1.garbage")));
        assert!(undecryptable(ring.open("d1", "")));
    }

    #[test]
    fn rotation_opens_old_values() {
        let old = "old=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let new = "new=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
        let before = Keyring::parse(old).unwrap();
        let sealed = before.seal("d", &token()).unwrap();
        let after = Keyring::parse(&format!("{new}\n{old}")).unwrap();
        assert_eq!(after.sealing_key_id(), "new");
        assert!(after.open("d", &sealed).is_ok());
        assert!(after.seal("d", &token()).unwrap().starts_with("v1.new."));
        let dropped = Keyring::parse(new).unwrap();
        assert!(dropped.open("d", &sealed).is_err());
    }

    #[test]
    fn bad_specs_name_the_problem_without_key_material() {
        for (spec, needle) in [
            ("", "no key"),
            ("k1", "form"),
            ("=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "key id"),
            ("k 1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "key id"),
            ("k1=%%%", "base64"),
            ("k1=c2hvcnQ=", "32"),
            (
                "k1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=,k1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                "twice",
            ),
        ] {
            let e = Keyring::parse(spec).unwrap_err().to_string();
            assert!(e.contains(needle), "{spec:?}: {e}");
            assert!(!e.contains("AAECAwQF"), "never echoes key material: {e}");
        }
    }
}
