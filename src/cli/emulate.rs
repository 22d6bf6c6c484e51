//! `ficx emulate`: the emulator in the foreground until Ctrl-C (or SIGTERM), after printing the
//! environment a client needs.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use ficx::emulator::{Emulator, EmulatorConfig, Endpoint, defaults};

use super::exit::Usage;

/// Which managed-identity source the printed environment selects.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum SourceArg {
    /// IMDS (`AZURE_POD_IDENTITY_AUTHORITY_HOST`).
    Imds,
    /// App Service (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`).
    AppService,
    /// Azure Arc (`IDENTITY_ENDPOINT` + `IMDS_ENDPOINT`).
    Arc,
    /// Azure ML (`MSI_ENDPOINT` + `MSI_SECRET`).
    AzureMl,
    /// Service Fabric (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER` + `IDENTITY_SERVER_THUMBPRINT`).
    ServiceFabric,
    /// Cloud Shell (`MSI_ENDPOINT` alone).
    CloudShell,
}

impl SourceArg {
    fn endpoint(self) -> Endpoint {
        match self {
            SourceArg::Imds => Endpoint::Imds,
            SourceArg::AppService => Endpoint::AppService,
            SourceArg::Arc => Endpoint::AzureArc,
            SourceArg::AzureMl => Endpoint::AzureMl,
            SourceArg::ServiceFabric => Endpoint::ServiceFabric,
            SourceArg::CloudShell => Endpoint::CloudShell,
        }
    }
}

/// How to print the environment.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum EnvFormat {
    /// `export NAME='value'` lines.
    Sh,
    /// One JSON object.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct EmulateArgs {
    /// Directory configuration (TOML, or JSON when the name ends in .json); default: built in.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Also serve the authority over plain http on loopback, and point AZURE_AUTHORITY_HOST at it.
    #[arg(long)]
    http: bool,
    /// Print the environment in this form (default: sh).
    #[arg(long, value_name = "FORMAT", default_value = "sh")]
    print_env: EnvFormat,
    /// Which MI source the printed environment selects.
    #[arg(long, value_name = "SOURCE", default_value = "imds")]
    source: SourceArg,
    /// Print the built-in configuration (TOML) and exit.
    #[arg(long)]
    print_default_config: bool,
    /// Port of the MI listener (0 = any free port).
    #[arg(long, value_name = "PORT")]
    mi_port: Option<u16>,
    /// Port of the https authority (0 = any free port).
    #[arg(long, value_name = "PORT")]
    authority_port: Option<u16>,
    /// Where the CA bundle and Arc key files are written (default: a fresh temporary directory).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

fn shell_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

pub(crate) async fn run(args: EmulateArgs) -> anyhow::Result<()> {
    if args.print_default_config {
        print!("{}", EmulatorConfig::default_toml());
        return Ok(());
    }
    let mut config = match &args.config {
        Some(path) => EmulatorConfig::from_file(path)
            .map_err(|e| Usage(format!("--config {}: {e}", path.display())))?,
        None => EmulatorConfig::default_config(),
    };
    if args.http {
        config.listen.authority_http = true;
    }
    if let Some(p) = args.mi_port {
        config.listen.mi_port = p;
    }
    if let Some(p) = args.authority_port {
        config.listen.authority_port = p;
    }
    let mut builder = Emulator::builder(config);
    if let Some(dir) = &args.state_dir {
        builder = builder.state_dir(dir.clone());
    }
    let emu = builder.start().await.context("starting the emulator")?;

    let mut vars = emu.env(args.source.endpoint());
    if args.http
        && let Some(http) = emu.authority_http_url()
    {
        for (k, v) in vars.iter_mut() {
            if k == "AZURE_AUTHORITY_HOST" {
                *v = http.to_owned();
            }
        }
    }
    vars.push(("FICX_CA_FILE".into(), emu.ca_file().display().to_string()));
    if args.config.is_none() {
        vars.push(("FICX_CLIENT_ID".into(), defaults::APP_CLIENT_ID.into()));
        vars.push((
            "FICX_MI_CLIENT_ID".into(),
            defaults::UAMI_TRUSTED_CLIENT_ID.into(),
        ));
    }
    match args.print_env {
        EnvFormat::Sh => {
            for (k, v) in &vars {
                println!("export {k}={}", shell_quote(v));
            }
        }
        EnvFormat::Json => {
            let map: serde_json::Map<String, serde_json::Value> = vars
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            println!("{}", serde_json::Value::Object(map));
        }
    }
    use std::io::Write;
    std::io::stdout().flush()?;
    eprintln!(
        "ficx emulator: authority {} · MI {} · Ctrl-C to stop",
        emu.authority_url(),
        emu.mi_url()
    );
    wait_for_shutdown().await;
    emu.shutdown().await;
    Ok(())
}

pub(crate) async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(super::shell_quote("a'b"), r"'a'\''b'");
    }
}
