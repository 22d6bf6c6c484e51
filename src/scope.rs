//! [`Scope`]: exactly one `<resource>/.default`, the only scope form client credentials accept.
//!
//! A bare resource (`https://graph.microsoft.com`, `api://orders`, an app id GUID) gets
//! `/.default` appended; several resources, whitespace, query or fragment characters, control
//! characters and over-long values are refused before any request (protocol.md §3.1, §4 70011,
//! 1002012).

use std::fmt;

use crate::error::{Error, quote};

/// The suffix every client-credentials scope carries.
///
/// ```
/// use ficx::{Scope, scope::DEFAULT_SUFFIX};
/// assert!(Scope::new("api://orders")?.as_str().ends_with(DEFAULT_SUFFIX));
/// # Ok::<(), ficx::Error>(())
/// ```
pub const DEFAULT_SUFFIX: &str = "/.default";

/// Longest scope accepted.
///
/// ```
/// use ficx::{Scope, scope::MAX_SCOPE_LEN};
/// assert!(Scope::new(&format!("api://{}", "x".repeat(MAX_SCOPE_LEN))).is_err());
/// ```
pub const MAX_SCOPE_LEN: usize = 256;

/// A validated `<resource>/.default` scope.
///
/// ```
/// use ficx::Scope;
/// let scope: Scope = "https://vault.azure.net".parse()?;
/// assert_eq!(scope.as_str(), "https://vault.azure.net/.default");
/// assert_eq!(scope.resource(), "https://vault.azure.net");
/// # Ok::<(), ficx::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(Box<str>);

impl Scope {
    /// Parse `value` as one resource, with or without `/.default`.
    ///
    /// ```
    /// use ficx::Scope;
    /// assert_eq!(Scope::new("https://graph.microsoft.com").unwrap().as_str(),
    ///            "https://graph.microsoft.com/.default");
    /// assert!(Scope::new("https://graph.microsoft.com/.default api://x/.default").is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] with field `scope`.
    pub fn new(value: &str) -> Result<Self, Error> {
        if value.ends_with(DEFAULT_SUFFIX) && quick_ok(value) {
            return Ok(Self(value.into()));
        }
        Self::slow(value)
    }

    #[cold]
    fn slow(value: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::InvalidInput {
            field: "scope",
            problem: format!(
                "{} {why}; expected exactly one resource, e.g. https://graph.microsoft.com/.default",
                quote(value)
            ),
        };
        let v = value.trim();
        if v.is_empty() {
            return Err(bad("is empty"));
        }
        if v.split_whitespace().count() > 1 {
            return Err(bad(
                "names more than one resource (client credentials take one)",
            ));
        }
        if value.len() > MAX_SCOPE_LEN {
            return Err(bad("is too long"));
        }
        if let Some(c) = v
            .chars()
            .find(|c| c.is_control() || matches!(c, '?' | '#' | '%' | ' ' | '"' | '\\'))
        {
            return Err(bad(&format!("contains {c:?}")));
        }
        let resource = v.strip_suffix(DEFAULT_SUFFIX).unwrap_or(v);
        let resource = resource.trim_end_matches('/');
        if resource.is_empty() {
            return Err(bad("has no resource"));
        }
        if resource.ends_with("/.default") || resource.contains("/.default/") {
            return Err(bad("repeats /.default"));
        }
        if resource.ends_with(".default") || resource.ends_with("./default") {
            return Err(bad("has a mangled /.default suffix"));
        }
        Ok(Self(format!("{resource}{DEFAULT_SUFFIX}").into()))
    }

    /// The scope, always ending in `/.default`.
    ///
    /// ```
    /// let scope = ficx::Scope::new("https://graph.microsoft.com/.default")?;
    /// assert_eq!(scope.as_str(), "https://graph.microsoft.com/.default");
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The resource: the scope without `/.default` (what MI endpoints take as `resource`).
    ///
    /// ```
    /// let scope = ficx::Scope::new("https://graph.microsoft.com/.default")?;
    /// assert_eq!(scope.resource(), "https://graph.microsoft.com"); // what an MI endpoint takes
    /// # Ok::<(), ficx::Error>(())
    /// ```
    pub fn resource(&self) -> &str {
        self.0.strip_suffix(DEFAULT_SUFFIX).unwrap_or(&self.0)
    }
}

fn quick_ok(value: &str) -> bool {
    let resource = &value[..value.len() - DEFAULT_SUFFIX.len()];
    value.len() <= MAX_SCOPE_LEN
        && !resource.is_empty()
        && !resource.ends_with('/')
        && !resource.ends_with("/.default")
        && value
            .bytes()
            .all(|b| b > 0x20 && b < 0x7f && !matches!(b, b'?' | b'#' | b'%' | b'"' | b'\\'))
}

impl std::str::FromStr for Scope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::new(s)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({})", self.0)
    }
}

impl AsRef<str> for Scope {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

// Hash/Eq of `Scope` are those of its text, so maps keyed by `Scope` can be searched by `&str`.
impl std::borrow::Borrow<str> for Scope {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        for (input, want) in [
            (
                "https://graph.microsoft.com/.default",
                "https://graph.microsoft.com/.default",
            ),
            (
                "https://graph.microsoft.com",
                "https://graph.microsoft.com/.default",
            ),
            (
                "https://graph.microsoft.com/",
                "https://graph.microsoft.com/.default",
            ),
            ("api://orders", "api://orders/.default"),
            (
                "00000003-0000-0000-c000-000000000000",
                "00000003-0000-0000-c000-000000000000/.default",
            ),
            (" api://orders/.default ", "api://orders/.default"),
        ] {
            assert_eq!(Scope::new(input).unwrap().as_str(), want, "{input}");
        }
        assert_eq!(
            Scope::new("api://orders").unwrap().resource(),
            "api://orders"
        );
    }

    #[test]
    fn refused_forms() {
        for bad in [
            "",
            "  ",
            "https://graph.microsoft.com/.default https://management.azure.com/.default",
            "api://x/.default?x=1",
            "api://x#frag",
            "api://x%2f",
            "api://x\u{7}",
            "/.default",
            "api://x/.default/.default",
            "api://AzureADTokenExchange./default",
        ] {
            let e = Scope::new(bad).unwrap_err();
            assert!(e.to_string().starts_with("invalid scope"), "{bad:?}: {e}");
        }
        assert!(Scope::new(&format!("api://{}", "x".repeat(300))).is_err());
    }
}
