//! The `ficx` binary: clap parsing into plain data, one file per subcommand, and the mapping of
//! errors to exit codes (`exit.rs`). No protocol logic lives here: everything goes through the
//! `ficx` library, which makes this binary the library's first outside user.

mod args;
mod assertion;
mod demo;
mod doctor;
mod emulate;
mod exit;
mod inspect;
mod log;
mod output;
mod progress;
mod serve;
mod setup;
mod store;
mod token;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Azure cross-tenant tokens without secrets: a managed identity, trusted by a multi-tenant app
/// through a federated identity credential, exchanged for app-only tokens in other tenants.
///
/// Exit codes: 0 success; 1 other error; 2 bad usage or invalid input (no network call made);
/// 3 managed-identity leg failed; 4 exchange rejected by Entra (configuration); 5 transient
/// failure after retries.
#[derive(Debug, Parser)]
#[command(name = "ficx", version, propagate_version = true, max_term_width = 100)]
pub(crate) struct Cli {
    /// More logging on stderr (-v info, -vv debug, -vvv trace). Never prints a secret.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Get an app-only token for a customer tenant (prints only the token).
    ///
    /// Fetches the managed identity's token for the exchange audience, presents it to the
    /// tenant's token endpoint, prints the app-only token. Several --tenant: one MI request, one
    /// exchange each, one JSON line each.
    ///
    /// Examples:
    ///   ficx token --tenant contoso.onmicrosoft.com --client-id <app> --mi-client-id <uami> \
    ///     --scope https://graph.microsoft.com
    ///   curl -H "$(ficx token -o header --tenant contoso.onmicrosoft.com \
    ///     --scope https://graph.microsoft.com)" https://graph.microsoft.com/v1.0/organization
    ///   ficx token --tenant contoso.onmicrosoft.com,northwind.onmicrosoft.com \
    ///     --scope api://orders -o json
    ///   ficx token --tenant T --scope S --wait-propagation 5m   # right after creating the FIC
    #[command(verbatim_doc_comment)]
    Token(token::TokenArgs),
    /// Print the managed identity's token for the cloud's token-exchange audience.
    ///
    /// For tools that take a federated token, e.g. `az login --service-principal -u <app>
    /// --tenant <tenant> --federated-token "$(ficx assertion --mi-client-id <uami>)"`.
    ///
    /// Examples:
    ///   ficx assertion --mi-client-id <uami>
    ///   ficx assertion --mi-client-id <uami> --cloud usgov -o json
    #[command(verbatim_doc_comment)]
    Assertion(assertion::AssertionArgs),
    /// Decode a JWT without verifying it and explain what matters for this flow.
    ///
    /// Shows header and claims with human times, whether it is app-only or delegated, whether it
    /// is expired, and for an MI token the exact FIC (issuer, subject, audience) it will match;
    /// for an app token its roles and audience. Never prints the token.
    ///
    /// Examples:
    ///   ficx inspect eyJ0eXAiOi...
    ///   ficx assertion --mi-client-id <uami> | ficx inspect
    ///   ficx token --tenant T --scope S | ficx inspect -o json
    #[command(verbatim_doc_comment)]
    Inspect(inspect::InspectArgs),
    /// Print the federated credential (FIC) an admin must create, and the consent links.
    ///
    /// The values come from the managed identity's tenant and object id, from a live MI token
    /// fetched here (--from-live, with the MI selector), or from a saved token (--from-token).
    /// Formats: text (explained), json, az, graph, bicep, terraform, powershell. Warns about a
    /// system-assigned identity, a bad name, an issuer with a trailing slash or spaces, the
    /// 20-FICs-per-app limit and cross-cloud values.
    ///
    /// Examples:
    ///   ficx setup --from-live --mi-client-id <uami> --app <app> \
    ///     --consent-tenant contoso.onmicrosoft.com
    ///   ficx setup --mi-tenant <tenant A> --mi-object-id <uami object id> --app <app> --format az
    ///   ficx assertion --mi-client-id <uami> \
    ///     | ficx setup --from-token - --app <app> --format terraform
    ///   ficx setup --mi-tenant <A> --mi-object-id <oid> --app <app> --cloud usgov --format bicep
    #[command(verbatim_doc_comment)]
    Setup(setup::SetupArgs),
    /// Walk the whole flow step by step and explain the first failure with its fix.
    ///
    /// environment and detected MI source → MI token (iss/sub/aud) → the FIC that must exist →
    /// exchange per tenant → resulting token (aud, roles). Each failure comes with the fix filled
    /// in: the FIC to create, the consent URL, the app to move the FIC to.
    ///
    /// Examples:
    ///   ficx doctor --tenant contoso.onmicrosoft.com --client-id <app> --mi-client-id <uami>
    ///   ficx doctor --tenant T1,T2 --client-id <app> --mi-client-id <uami> \
    ///     --scope api://orders -o json
    #[command(verbatim_doc_comment)]
    Doctor(doctor::DoctorArgs),
    /// Run the whole flow against the embedded emulator and explain each step.
    ///
    /// Starts the emulator with its default directory (a home tenant with a user-assigned managed
    /// identity and a multi-tenant app trusting it, two customer tenants where the app is
    /// provisioned, one where it is not), then gets tokens for two customer tenants with one MI
    /// request, shows a cached call, and diagnoses the tenant that fails.
    ///
    /// Example:
    ///   ficx demo
    #[command(verbatim_doc_comment)]
    Demo,
    /// Run the emulator of the managed-identity endpoints and of Entra in the foreground.
    ///
    /// Prints the environment a client needs (`export` lines, or JSON with --print-env json),
    /// then serves until Ctrl-C.
    ///
    /// Examples:
    ///   ficx emulate
    ///   eval "$(ficx emulate --print-env sh &)"   # in a script: see README
    ///   ficx emulate --config my-directory.toml --source app-service
    ///   ficx emulate --print-default-config > my-directory.toml
    #[command(verbatim_doc_comment)]
    Emulate(emulate::EmulateArgs),
    /// Serve foreign-tenant tokens to any language (an App Service MI endpoint per tenant).
    ///
    /// A long-running loopback server. A process started with
    ///   IDENTITY_ENDPOINT=<url>/tenants/<tenant>/msi/token  IDENTITY_HEADER=<secret>
    /// gets app-only tokens for <tenant> from its unmodified Azure SDK ManagedIdentityCredential
    /// (Python, .NET, Java, Node, Go). GET /v1/token?tenant=&scope= is the plain JSON form (same
    /// X-IDENTITY-HEADER). Also /healthz, /readyz and /metrics (Prometheus text).
    ///
    /// Prints the export lines a client needs on stdout (with the secret only when it generated
    /// it), then serves until Ctrl-C or SIGTERM. Loopback only; every token call needs the secret;
    /// only --allow-tenant tenants are served; a global rate limit answers 429. Never logs a token.
    ///
    /// Settings: a flag beats its environment variable (FICX_*), which beats the --config file,
    /// which beats the default. The file (TOML) has one key per flag, the long name with _ for -
    /// (docs/serve.example.toml); it holds no secrets (secret_file, not secret).
    ///
    /// Examples:
    ///   ficx serve --client-id <app> --mi-client-id <uami> \
    ///     --allow-tenant contoso.onmicrosoft.com
    ///   ficx serve --config /etc/ficx/serve.toml --log-format json   # the flag beats the file
    ///   ficx serve --listen 127.0.0.1:0 --allow-tenant T1,T2 --secret-file /run/secrets/ficx
    ///   ficx serve --unix-socket /run/ficx/serve.sock --allow-tenant T1   # no TCP listener
    ///   ficx serve --allow-any-tenant --rate-limit 20 --log-format json
    ///   IDENTITY_ENDPOINT=http://127.0.0.1:8390/tenants/contoso.onmicrosoft.com/msi/token \
    ///     IDENTITY_HEADER="$SECRET" python app.py
    ///   curl -H "X-IDENTITY-HEADER: $SECRET" \
    ///     "http://127.0.0.1:8390/v1/token?tenant=contoso.onmicrosoft.com&scope=api://orders"
    #[command(verbatim_doc_comment)]
    Serve(serve::ServeArgs),
    /// Print a shell completion script.
    ///
    /// Example:
    ///   ficx completions bash > /etc/bash_completion.d/ficx
    #[command(verbatim_doc_comment)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Parse, run, map the outcome to an exit code.
pub(crate) fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            if !e.use_stderr() {
                let _ = e.print(); // --help, --version
                return ExitCode::from(exit::OK);
            }
            // Bad usage: one line (clap's own first line names the flag and the expected form).
            let rendered = e.render().to_string();
            let first = rendered
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("error: bad usage");
            eprintln!("{first} (see --help)");
            return ExitCode::from(exit::USAGE);
        }
    };
    // The settings file is read before logging starts: it may choose the log format.
    let mut cli = cli;
    if let Command::Serve(a) = &mut cli.command
        && let Err(e) = a.apply_config(&ficx::Env::process())
    {
        return exit::report(&e);
    }
    let (base, json) = match &cli.command {
        Command::Serve(a) => ("ficx=info", a.log_format == Some(serve::LogFormat::Json)),
        _ => ("warn", false),
    };
    log::init(cli.verbose, base, json);
    let result = match cli.command {
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "ficx", &mut std::io::stdout());
            Ok(())
        }
        Command::Demo => runtime(false).and_then(|rt| rt.block_on(demo::run())),
        Command::Token(a) => runtime(false).and_then(|rt| rt.block_on(token::run(a))),
        Command::Assertion(a) => runtime(false).and_then(|rt| rt.block_on(assertion::run(a))),
        Command::Inspect(a) => runtime(false).and_then(|rt| rt.block_on(inspect::run(a))),
        Command::Setup(a) => runtime(false).and_then(|rt| rt.block_on(setup::run(a))),
        Command::Doctor(a) => runtime(false).and_then(|rt| rt.block_on(doctor::run(a))),
        Command::Emulate(args) => runtime(true).and_then(|rt| rt.block_on(emulate::run(args))),
        Command::Serve(a) => runtime(true).and_then(|rt| rt.block_on(serve::run(a))),
    };
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => exit::report(&e),
    }
}

fn runtime(multi_thread: bool) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut b = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    Ok(b.enable_all().build()?)
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::Parser;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Argument parsing and validation never panics, whatever the flags and values.
        #[test]
        fn arbitrary_arguments_never_panic(
            args in proptest::collection::vec(prop_oneof![
                Just("token".to_string()), Just("doctor".to_string()), Just("inspect".to_string()),
                Just("--tenant".to_string()), Just("--scope".to_string()), Just("--client-id".to_string()),
                Just("--mi-client-id".to_string()), Just("--timeout".to_string()), Just("-o".to_string()),
                Just("--cloud".to_string()), Just("--wait-propagation".to_string()),
                ".{0,40}",
            ], 0..8)
        ) {
            let mut argv = vec!["ficx".to_string()];
            argv.extend(args);
            if let Ok(cli) = Cli::try_parse_from(argv) {
                if let super::Command::Token(a) = &cli.command {
                    let _ = a.exchange.check(&ficx::Env::from_vars::<&str, &str>([]), true);
                }
                if let super::Command::Doctor(a) = &cli.command {
                    let _ = a.exchange.check(&ficx::Env::from_vars::<&str, &str>([]), false);
                }
            }
        }

        #[test]
        fn durations_never_panic(s in ".{0,30}") {
            let _ = super::args::parse_duration(&s);
        }
    }
}
