//! `ficx serve --config FILE`: the settings file. It has one TOML key per flag: the long name
//! with `_` for `-`, so `--allow-tenant` is `allow_tenant`. Each value is checked with the flag's
//! own parser, so a bad one is reported with the file, the line and the key. The file fills in
//! only what neither a flag nor an environment variable set: flag > environment variable > file
//! > default.
//!
//! Secrets stay out of the file, because config files get copied, checked in and left readable.
//! `secret` and `redis_key` are refused with a pointer to `secret_file` / `redis_key_file` and the
//! environment, and so is a password inside `redis_url`.

use std::fmt::Display;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ficx::{ClientId, Cloud, Env, TenantId};
use serde::Deserialize;
use toml::Spanned;

use super::{LogFormat, ServeArgs, parse_listen};
use crate::cli::args::{MI_SELECTORS, parse_duration};
use crate::cli::exit::Usage;
use crate::cli::store::KEY_ENV;

/// The environment variable that holds the secret itself (read by `ServeArgs::secret`).
pub(crate) const SECRET_ENV: &str = "FICX_SERVE_SECRET";

/// The file as written. Values that need checking keep their place in the file (`Spanned`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    listen: Option<Spanned<String>>,
    unix_socket: Option<PathBuf>,
    allow_tenant: Option<Vec<Spanned<String>>>,
    allow_any_tenant: Option<Spanned<bool>>,
    secret_file: Option<PathBuf>,
    client_id: Option<Spanned<String>>,
    rate_limit: Option<u32>,
    log_format: Option<LogFormat>,
    mi_client_id: Option<Spanned<String>>,
    mi_object_id: Option<Spanned<String>>,
    mi_resource_id: Option<Spanned<String>>,
    assertion_file: Option<PathBuf>,
    cloud: Option<Spanned<String>>,
    authority_host: Option<String>,
    audience: Option<String>,
    ca_file: Option<PathBuf>,
    timeout: Option<Spanned<String>>,
    redis_url: Option<Vec<Spanned<String>>>,
    redis_cluster: Option<bool>,
    redis_key_file: Option<PathBuf>,
    redis_prefix: Option<String>,
    redis_allow_plaintext: Option<bool>,
}

/// Read and check the file at `path`. No network call; nothing but the file is read.
pub(crate) fn load(path: &Path) -> Result<Checked, Usage> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Usage(format!("config {}: {e}", path.display())))?;
    parse(&text, path)
}

/// Parse and check `text`, the contents of `path` (relative paths in it are taken from the
/// file's directory).
pub(crate) fn parse(text: &str, path: &Path) -> Result<Checked, Usage> {
    let at = Place { path, text };
    let file: ConfigFile = toml::from_str(text).map_err(|e| at.toml_error(&e))?;
    file.check(&at)?;
    Ok(Checked {
        file,
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
    })
}

/// A file whose every value passed its flag's parser, and the directory it came from.
#[derive(Debug)]
pub(crate) struct Checked {
    file: ConfigFile,
    dir: PathBuf,
}

/// Where errors point: the file and its text (to turn byte offsets into lines).
struct Place<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Place<'_> {
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn error(&self, span: Range<usize>, key: &str, problem: impl Display) -> Usage {
        Usage(format!(
            "config {}, line {}, {key}: {problem}",
            self.path.display(),
            self.line(span.start)
        ))
    }

    /// The `key = ...` a line belongs to: that line's key, or the one of the nearest line above
    /// it that has one (a multi-line array), stopping at a table header.
    fn key_of_line(&self, line: usize) -> Option<&str> {
        for l in self
            .text
            .lines()
            .take(line)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            let l = l.trim_start();
            if l.starts_with('[') {
                return None;
            }
            if let Some((key, _)) = l.split_once('=') {
                let key = key.trim();
                if !key.is_empty()
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    return Some(key);
                }
            }
        }
        None
    }

    /// toml's own error on one line: file, line, key, and toml's message (which names what was
    /// expected). The refused secret keys get their own message.
    fn toml_error(&self, e: &toml::de::Error) -> Usage {
        let message = e.message().trim().replace('\n', "; ");
        let Some(span) = e.span() else {
            return Usage(format!("config {}: {message}", self.path.display()));
        };
        let Some(key) = self.key_of_line(self.line(span.start)) else {
            return Usage(format!(
                "config {}, line {}: {message}",
                self.path.display(),
                self.line(span.start)
            ));
        };
        let refused = match key {
            "secret" => Some(format!(
                "secrets are not read from the config file; use secret_file = \"/path\" (a file only ficx can read) or the {SECRET_ENV} environment variable"
            )),
            "redis_key" => Some(format!(
                "sealing keys are not read from the config file; use redis_key_file = \"/path\" or the {KEY_ENV} environment variable"
            )),
            _ => None,
        };
        match refused {
            Some(r) if message.starts_with("unknown field") => self.error(span, key, r),
            // `allow_tenant = "contoso.onmicrosoft.com"`: show the list form.
            _ if message.ends_with("expected a sequence") => {
                self.error(span, key, format!("{message}: {key} = [\"…\", \"…\"]"))
            }
            _ => self.error(span, key, message),
        }
    }
}

impl ConfigFile {
    /// Each value through its flag's parser.
    fn check(&self, at: &Place<'_>) -> Result<(), Usage> {
        if let Some(l) = &self.listen {
            parse_listen(l.get_ref()).map_err(|m| at.error(l.span(), "listen", m))?;
        }
        for t in self.allow_tenant.iter().flatten() {
            TenantId::new(t.get_ref().trim()).map_err(|e| at.error(t.span(), "allow_tenant", e))?;
        }
        if let Some(any) = &self.allow_any_tenant
            && *any.get_ref()
            && self.allow_tenant.as_ref().is_some_and(|l| !l.is_empty())
        {
            return Err(at.error(
                any.span(),
                "allow_any_tenant",
                "set either allow_tenant or allow_any_tenant = true, not both",
            ));
        }
        if let Some(c) = &self.client_id {
            ClientId::new(c.get_ref()).map_err(|e| at.error(c.span(), "client_id", e))?;
        }
        // Keys follow the flags (`--mi-client-id` is `mi_client_id`), in MI_SELECTORS order.
        let values = [&self.mi_client_id, &self.mi_object_id, &self.mi_resource_id];
        let mut named = values
            .into_iter()
            .zip(MI_SELECTORS)
            .filter_map(|(v, (flag, _, make))| {
                v.as_ref()
                    .map(|v| (flag.trim_start_matches('-').replace('-', "_"), v, make))
            });
        if let Some((key, v, make)) = named.next() {
            if let Some((other, _, _)) = named.next() {
                return Err(at.error(
                    v.span(),
                    &key,
                    format!("name one managed identity: {key} or {other}, not both"),
                ));
            }
            make(v.get_ref()).map_err(|e| at.error(v.span(), &key, e))?;
        }
        if let Some(c) = &self.cloud {
            Cloud::from_name(c.get_ref()).map_err(|e| at.error(c.span(), "cloud", e))?;
        }
        if let Some(t) = &self.timeout {
            parse_duration(t.get_ref()).map_err(|e| at.error(t.span(), "timeout", e))?;
        }
        for u in self.redis_url.iter().flatten() {
            // Only whether there is a password; the URL itself is checked when the store is built.
            if url::Url::parse(u.get_ref()).is_ok_and(|p| p.password().is_some()) {
                return Err(at.error(
                    u.span(),
                    "redis_url",
                    "a password is not read from the config file; pass this URL in the FICX_REDIS_URL environment variable (or --redis-url)",
                ));
            }
        }
        Ok(())
    }
}

/// `slot` keeps what a flag or its environment variable put there; else it takes the file's.
fn fill<T>(slot: &mut Option<T>, from_file: Option<T>) {
    if slot.is_none() {
        *slot = from_file;
    }
}

impl Checked {
    /// Fill in what neither a flag nor an environment variable set. clap has already put flags
    /// and the variables it knows into `a`; the few variables read later are looked up in `env`.
    pub(crate) fn fill(self, a: &mut ServeArgs, env: &Env) {
        let Checked { file: f, dir } = self;
        // Relative paths in the file are relative to the file, not to where ficx was started.
        let path = |p: Option<PathBuf>| p.map(|p| dir.join(p));
        let text = |s: Option<Spanned<String>>| s.map(Spanned::into_inner);

        fill(&mut a.listen, text(f.listen));
        fill(&mut a.unix_socket, path(f.unix_socket));
        // The allow-list is one setting: a flag or variable naming tenants replaces the file's.
        if a.allow_tenants.is_empty() && !a.allow_any_tenant {
            a.allow_tenants = f
                .allow_tenant
                .into_iter()
                .flatten()
                .map(Spanned::into_inner)
                .collect();
            a.allow_any_tenant = f.allow_any_tenant.is_some_and(Spanned::into_inner);
        }
        if env.var(SECRET_ENV).is_none() {
            fill(&mut a.secret_file, path(f.secret_file));
        }
        fill(&mut a.client_id, text(f.client_id));
        fill(&mut a.rate_limit, f.rate_limit);
        fill(&mut a.log_format, f.log_format);

        // The managed-identity selector is one setting, as between flags and FICX_MI_*.
        if !a.mi.selector_given(env) {
            a.mi.mi_client_id = text(f.mi_client_id);
            a.mi.mi_object_id = text(f.mi_object_id);
            a.mi.mi_resource_id = text(f.mi_resource_id);
        }
        fill(&mut a.mi.assertion_file, path(f.assertion_file));

        fill(&mut a.conn.cloud, text(f.cloud));
        fill(&mut a.conn.authority_host, f.authority_host);
        fill(&mut a.conn.audience, f.audience);
        fill(&mut a.conn.ca_file, path(f.ca_file));
        // Checked in `ConfigFile::check`, so this parse cannot fail.
        let timeout: Option<Duration> = f.timeout.and_then(|t| parse_duration(t.get_ref()).ok());
        fill(&mut a.conn.timeout, timeout);

        if a.store.urls.is_empty() {
            a.store.urls = f
                .redis_url
                .into_iter()
                .flatten()
                .map(Spanned::into_inner)
                .collect();
        }
        a.store.redis_cluster |= f.redis_cluster.unwrap_or(false);
        if env.var(KEY_ENV).is_none() {
            fill(&mut a.store.redis_key_file, path(f.redis_key_file));
        }
        fill(&mut a.store.redis_prefix, f.redis_prefix);
        a.store.redis_allow_plaintext |= f.redis_allow_plaintext.unwrap_or(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::{CommandFactory, Parser};

    const SAMPLE: &str = include_str!("../../../docs/serve.example.toml");

    fn err(text: &str) -> String {
        parse(text, Path::new("/etc/ficx/serve.toml"))
            .unwrap_err()
            .0
    }

    fn serve_args(argv: &[&str]) -> ServeArgs {
        let mut full = vec!["ficx", "serve"];
        full.extend(argv);
        match Cli::try_parse_from(full).unwrap().command {
            crate::cli::Command::Serve(a) => a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn the_sample_parses_and_checks() {
        let c = parse(SAMPLE, Path::new("/etc/ficx/serve.toml")).expect("docs/serve.example.toml");
        let mut a = serve_args(&[]);
        c.fill(&mut a, &Env::from_vars::<&str, &str>([]));
        let checked = a
            .check(&Env::from_vars::<&str, &str>([]))
            .expect("the sample is a working configuration");
        assert!(checked.listen.is_some_and(|l| l.ip().is_loopback()));
        assert_eq!(
            a.secret_file.as_deref(),
            Some(Path::new("/run/secrets/ficx-serve"))
        );
    }

    /// Every `serve` flag has its key, and the sample shows each one (set or commented out).
    #[test]
    fn every_flag_has_a_key_and_the_sample_shows_it() {
        let cmd = Cli::command();
        let serve = cmd.find_subcommand("serve").unwrap();
        let mut keys = 0;
        for arg in serve.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "config" | "help" | "verbose") {
                continue;
            }
            let key = long.replace('-', "_");
            keys += 1;
            let probe = err(&format!("{key} = {{}}"));
            assert!(
                !probe.contains("unknown field"),
                "--{long} has no `{key}` in the config file: {probe}"
            );
            assert!(
                SAMPLE.lines().any(|l| l
                    .trim_start_matches(['#', ' '])
                    .starts_with(&format!("{key} = "))),
                "docs/serve.example.toml does not show `{key}`"
            );
        }
        assert!(keys >= 20, "{keys}");
    }

    #[test]
    fn errors_name_the_file_the_line_the_key_and_the_expected_form() {
        let e = err("listen = \"127.0.0.1:0\"\nfrobnicate = 1\n");
        assert!(
            e.starts_with("config /etc/ficx/serve.toml, line 2, frobnicate: unknown field `frobnicate`, expected one of `listen`"),
            "{e}"
        );
        assert_eq!(e.lines().count(), 1, "{e}");
        let e = err("rate_limit = \"fast\"");
        assert!(e.contains("line 1, rate_limit: invalid type"), "{e}");
        assert!(e.contains("expected u32"), "{e}");
        let e = err("allow_tenant = \"contoso.onmicrosoft.com\"");
        assert!(
            e.ends_with("allow_tenant: invalid type: string \"contoso.onmicrosoft.com\", expected a sequence: allow_tenant = [\"…\", \"…\"]"),
            "{e}"
        );
        let e = err("log_format = \"xml\"");
        assert!(e.contains("log_format: unknown variant `xml`"), "{e}");
        let e = err("\n\nallow_tenant = [\n  \"contoso.onmicrosoft.com\",\n  \"con/toso\",\n]");
        assert!(e.contains("line 5, allow_tenant: "), "{e}");
        let e = err("listen = \"0.0.0.0:8390\"");
        assert!(
            e.contains("line 1, listen: ") && e.contains("loopback only"),
            "{e}"
        );
        let e = err("timeout = \"5 parsecs\"");
        assert!(
            e.contains("timeout: ") && e.contains("expected ms, s, m or h"),
            "{e}"
        );
        let e = err(
            "mi_client_id = \"a1a1a1a1-0000-4000-8000-000000000001\"\nmi_object_id = \"b1b1b1b1-0000-4000-8000-000000000001\"",
        );
        assert!(e.contains("not both"), "{e}");
        assert!(e.contains("line 1, mi_client_id: "), "{e}");
        // Each key reaches its own constructor: an object id is not a resource id.
        let e = err("mi_object_id = \"/subscriptions/s\"");
        assert!(
            e.contains("line 1, mi_object_id: invalid mi object id"),
            "{e}"
        );
        let e = err("\nmi_resource_id = \"b1b1b1b1-0000-4000-8000-000000000001\"");
        assert!(
            e.contains("line 2, mi_resource_id: invalid mi resource id"),
            "{e}"
        );
        let e = err("allow_tenant = [\"contoso.onmicrosoft.com\"]\nallow_any_tenant = true");
        assert!(e.contains("line 2, allow_any_tenant"), "{e}");
        let e = err("client_id = \"nope\"");
        assert!(e.contains("client_id: "), "{e}");
        let e = err("cloud = \"mars\"");
        assert!(e.contains("cloud: "), "{e}");
        let e = err("listen = ");
        assert!(e.starts_with("config /etc/ficx/serve.toml, line 1"), "{e}");
    }

    #[test]
    fn secrets_are_refused_and_not_echoed() {
        let e = err("listen = \"127.0.0.1:0\"\nsecret = \"hunter2-hunter2-hunter2\"");
        assert!(
            e.contains(
                "line 2, secret: secrets are not read from the config file; use secret_file"
            ),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
        let e = err("redis_key = \"k1=AAAA\"");
        assert!(e.contains("redis_key_file"), "{e}");
        assert!(!e.contains("AAAA"), "{e}");
        let e = err("redis_url = [\"rediss://:pa55word@redis.internal:6380\"]");
        assert!(e.contains("redis_url: a password"), "{e}");
        assert!(!e.contains("pa55word"), "{e}");
        assert!(
            parse(
                "redis_url = [\"rediss://redis.internal:6380\"]",
                Path::new("x")
            )
            .is_ok()
        );
    }

    #[test]
    fn flags_and_environment_beat_the_file() {
        let file = "listen = \"127.0.0.1:9000\"\nrate_limit = 7\nallow_tenant = [\"northwind.onmicrosoft.com\"]\nclient_id = \"c1c1c1c1-0000-4000-8000-000000000001\"\nmi_client_id = \"a1a1a1a1-0000-4000-8000-000000000001\"\nsecret_file = \"secret\"\nredis_key_file = \"keys\"\n";
        let c = || parse(file, Path::new("/etc/ficx/serve.toml")).unwrap();
        let none = Env::from_vars::<&str, &str>([]);

        // The file alone: its values, its paths taken from its directory.
        let mut a = serve_args(&[]);
        c().fill(&mut a, &none);
        assert_eq!(a.listen.as_deref(), Some("127.0.0.1:9000"));
        assert_eq!(a.rate_limit, Some(7));
        assert_eq!(a.allow_tenants, ["northwind.onmicrosoft.com"]);
        assert_eq!(
            a.secret_file.as_deref(),
            Some(Path::new("/etc/ficx/secret"))
        );
        assert_eq!(
            a.mi.mi_client_id.as_deref(),
            Some("a1a1a1a1-0000-4000-8000-000000000001")
        );

        // Flags win, setting by setting; the rest still comes from the file.
        let mut a = serve_args(&[
            "--listen",
            "127.0.0.1:0",
            "--allow-any-tenant",
            "--mi-object-id",
            "b1b1b1b1-0000-4000-8000-000000000001",
        ]);
        c().fill(&mut a, &none);
        assert_eq!(a.listen.as_deref(), Some("127.0.0.1:0"));
        assert!(a.allow_any_tenant && a.allow_tenants.is_empty());
        assert_eq!(a.mi.mi_client_id, None, "the selector is one setting");
        assert_eq!(a.rate_limit, Some(7));
        assert!(a.check(&none).is_ok());

        // Variables read after parsing (FICX_MI_*, FICX_SERVE_SECRET, FICX_REDIS_KEY) beat the file.
        let env = Env::from_vars([
            ("FICX_MI_RESOURCE_ID", "/subscriptions/x"),
            (SECRET_ENV, "0123456789abcdef0123"),
            (KEY_ENV, "k1=AAAA"),
        ]);
        let mut a = serve_args(&[]);
        c().fill(&mut a, &env);
        assert_eq!(a.mi.mi_client_id, None);
        assert_eq!(a.secret_file, None, "FICX_SERVE_SECRET beats secret_file");
        assert_eq!(a.store.redis_key_file, None);
    }
}
