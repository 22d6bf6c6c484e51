//! The environment, injected: [`Env`] reads process variables (the one place that does) or an
//! in-memory map, plus the few file-existence probes detection needs (the Arc agent's `himds`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Environment variables and file probes, real or simulated.
///
/// ```
/// use ficx::Env;
/// let env = Env::from_vars([("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi"), ("IDENTITY_HEADER", "h")]);
/// assert_eq!(env.var("IDENTITY_HEADER").as_deref(), Some("h"));
/// assert_eq!(env.var("MSI_ENDPOINT"), None);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Env {
    simulated: Option<Simulated>,
}

#[derive(Debug, Clone, Default)]
struct Simulated {
    vars: HashMap<String, String>,
    files: HashSet<PathBuf>,
}

impl Env {
    /// The real process environment and file system.
    ///
    /// ```
    /// let env = ficx::Env::process();
    /// assert_eq!(env.var("PATH"), std::env::var("PATH").ok().filter(|p| !p.trim().is_empty()));
    /// ```
    pub fn process() -> Self {
        Self { simulated: None }
    }

    /// A simulated environment holding exactly these variables and no files.
    ///
    /// ```
    /// let env = ficx::Env::from_vars([("MSI_ENDPOINT", "http://127.0.0.1:1/msi"), ("MSI_SECRET", "")]);
    /// assert!(env.var("MSI_ENDPOINT").is_some());
    /// assert_eq!(env.var("MSI_SECRET"), None); // empty counts as unset
    /// ```
    pub fn from_vars<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            simulated: Some(Simulated {
                vars: vars
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
                files: HashSet::new(),
            }),
        }
    }

    /// Add (or replace) a variable; turns a process environment into a simulated copy of it
    /// holding only the variables set this way.
    ///
    /// ```
    /// let env = ficx::Env::process().with_var("IMDS_ENDPOINT", "http://127.0.0.1:40342");
    /// assert_eq!(env.var("IMDS_ENDPOINT").as_deref(), Some("http://127.0.0.1:40342"));
    /// assert_eq!(env.var("PATH"), None); // now a simulated copy: only what was set
    /// ```
    pub fn with_var(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.simulated
            .get_or_insert_with(Default::default)
            .vars
            .insert(key.into(), value.into());
        self
    }

    /// Make a simulated environment report `path` as existing.
    ///
    /// ```
    /// use std::path::Path;
    /// let env = ficx::Env::from_vars::<String, String>([]).with_file("/opt/azcmagent/bin/himds");
    /// assert!(env.file_exists(Path::new("/opt/azcmagent/bin/himds")));
    /// ```
    pub fn with_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.simulated
            .get_or_insert_with(Default::default)
            .files
            .insert(path.into());
        self
    }

    /// The variable's value; `None` when unset, empty, or not valid UTF-8.
    ///
    /// ```
    /// let env = ficx::Env::from_vars([("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us")]);
    /// assert_eq!(env.var("AZURE_AUTHORITY_HOST").as_deref(), Some("https://login.microsoftonline.us"));
    /// assert_eq!(env.var("IDENTITY_ENDPOINT"), None);
    /// ```
    #[allow(clippy::disallowed_methods)] // the one place that reads process variables
    pub fn var(&self, name: &str) -> Option<String> {
        let v = match &self.simulated {
            Some(s) => s.vars.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        v.filter(|v| !v.trim().is_empty())
    }

    /// True when `path` exists.
    ///
    /// ```
    /// use std::path::Path;
    /// let env = ficx::Env::from_vars::<String, String>([]);
    /// assert!(!env.file_exists(Path::new("/opt/azcmagent/bin/himds"))); // simulated: no files
    /// ```
    pub fn file_exists(&self, path: &Path) -> bool {
        match &self.simulated {
            Some(s) => s.files.contains(path),
            None => path.exists(),
        }
    }
}
