//! `ficx doctor`: walk the flow one step at a time (environment → MI token → the FIC it needs →
//! exchange per tenant → resulting token), one ✓/✗ line each, and on a failure explain it with
//! the fix filled in (`ficx::diagnose`). `-o json` gives the same report as data.

use clap::Args;
use ficx::diagnose::{Diagnosis, Facts, explain, setup_command};
use ficx::jwt::{JwtView, TokenKind, decode_unverified};
use ficx::{Cloud, Env, Error, Exchanger};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::args::{self, ExchangeArgs, Format};
use super::exit::{Reported, code_for_error};
use super::progress;

#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    #[command(flatten)]
    pub(crate) exchange: ExchangeArgs,
    /// Output format.
    #[arg(short, long, value_name = "FORMAT", default_value = "text")]
    pub(crate) output: Format,
}

/// One step of the report.
struct Step {
    name: &'static str,
    ok: bool,
    warn: bool,
    lines: Vec<String>,
    data: Value,
    diagnosis: Option<Diagnosis>,
}

impl Step {
    fn ok(name: &'static str, lines: Vec<String>, data: Value) -> Self {
        Self {
            name,
            ok: true,
            warn: false,
            lines,
            data,
            diagnosis: None,
        }
    }
}

struct Report {
    steps: Vec<Step>,
    text: bool,
}

impl Report {
    fn push(&mut self, s: Step) {
        if self.text {
            let mark = if !s.ok {
                "✗"
            } else if s.warn {
                "!"
            } else {
                "✓"
            };
            let mut lines = s.lines.iter();
            if let Some(first) = lines.next() {
                println!("{mark} {:<22} {first}", s.name);
            }
            for l in lines {
                println!("  {:<22} {l}", "");
            }
            if let Some(d) = &s.diagnosis {
                println!("\n  what went wrong: {}", d.summary);
                for f in &d.fix {
                    println!("  fix: {f}");
                }
                println!();
            }
        }
        self.steps.push(s);
    }

    fn json(&self) -> Value {
        json!({
            "ok": self.steps.iter().all(|s| s.ok),
            "steps": self.steps.iter().map(|s| json!({
                "step": s.name,
                "ok": s.ok,
                "warning": s.warn,
                "lines": s.lines,
                "data": s.data,
                "diagnosis": s.diagnosis.as_ref().map(|d| json!({"summary": d.summary, "fix": d.fix})),
            })).collect::<Vec<_>>(),
        })
    }
}

fn fail(name: &'static str, e: &Error, facts: &Facts<'_>) -> Step {
    Step {
        name,
        ok: false,
        warn: false,
        lines: vec![e.to_string()],
        data: json!({"error": e.to_string(), "aadsts": e.aadsts(), "leg": e.leg().map(|l| l.to_string()), "transient": e.is_transient()}),
        diagnosis: Some(explain(e, facts)),
    }
}

fn system_assigned(view: &JwtView) -> bool {
    view.str_claim("xms_mirid")
        .is_some_and(|id| !id.to_ascii_lowercase().contains("/userassignedidentities/"))
}

pub(crate) async fn run(a: DoctorArgs) -> anyhow::Result<()> {
    let env = Env::process();
    let c = a.exchange.check(&env, false)?;
    let conn = &a.exchange.conn;
    let cloud = Cloud::resolve(conn.cloud()?, conn.authority_host.as_deref(), &env)
        .unwrap_or(Cloud::Public);
    let mut report = Report {
        steps: Vec::new(),
        text: a.output == Format::Text,
    };
    let mut first_error: Option<Error> = None;

    // 1. Environment and MI source.
    let built = args::builder(
        &c.client_id,
        &c.identity,
        &a.exchange.mi,
        conn,
        &env,
        progress::observer(),
    )
    .and_then(args::build);
    let exchanger: Exchanger = match built {
        Ok(x) => x,
        Err(e) => {
            let err = e
                .downcast::<Error>()
                .unwrap_or_else(|e| Error::Unsupported(format!("{e:#}")));
            let facts = Facts {
                client_id: c.client_id.as_str(),
                tenant: None,
                scope: None,
                cloud: &cloud,
                audience: cloud.exchange_audience(),
                assertion: None,
                identity: Some(&c.identity),
            };
            report.push(fail("environment", &err, &facts));
            return finish(report, Some(err), a.output);
        }
    };
    let audience = exchanger.audience().to_owned();
    let mut env_lines = Vec::new();
    let env_data = match (exchanger.detection(), &a.exchange.mi.assertion_file) {
        (Some(d), _) => {
            env_lines.push(format!("{} at {}", d.kind, d.endpoint));
            env_lines.push(if d.decided_by.is_empty() {
                "decided by: nothing set, so the IMDS default".to_owned()
            } else {
                format!("decided by: {}", d.decided_by.join(", "))
            });
            env_lines.push(format!("identity: {}", c.identity));
            json!({"source": d.kind.as_str(), "endpoint": d.endpoint, "decided_by": d.decided_by, "identity": c.identity.to_string()})
        }
        (None, Some(path)) => {
            env_lines.push(format!("assertion from the file {}", path.display()));
            json!({"source": "token_file", "path": path.display().to_string()})
        }
        (None, None) => json!({}),
    };
    env_lines.push(format!(
        "authority {} · exchange audience {audience}",
        exchanger.authority()
    ));
    let mut env_step = Step::ok("environment", env_lines, env_data);
    if c.identity.is_system_assigned() && a.exchange.mi.assertion_file.is_none() {
        env_step.warn = true;
        env_step.lines.push("no user-assigned identity named: the documented FIC flow supports only user-assigned identities".into());
    }
    report.push(env_step);

    // 2. The MI token (assertion).
    let deadline = conn.deadline();
    let assertion = match tokio::time::timeout(deadline, exchanger.assertion()).await {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout {
            leg: ficx::Leg::ManagedIdentity,
            url: exchanger.authority().to_owned(),
            after: deadline,
        }),
    };
    let view = match assertion {
        Ok(t) => decode_unverified(t.secret().expose_secret()).ok(),
        Err(e) => {
            let facts = Facts {
                client_id: c.client_id.as_str(),
                tenant: None,
                scope: None,
                cloud: &cloud,
                audience: &audience,
                assertion: None,
                identity: Some(&c.identity),
            };
            report.push(fail("managed identity token", &e, &facts));
            return finish(report, Some(e), a.output);
        }
    };
    let Some(view) = view else {
        let e = Error::Assertion {
            source_name: exchanger.source().describe(),
            message: "the assertion is not a JWT".into(),
        };
        report.push(Step {
            name: "managed identity token",
            ok: false,
            warn: false,
            lines: vec![e.to_string()],
            data: json!({}),
            diagnosis: None,
        });
        return finish(report, Some(e), a.output);
    };
    let (iss, sub, aud) = (
        view.str_claim("iss").unwrap_or("?").to_owned(),
        view.str_claim("sub").unwrap_or("?").to_owned(),
        view.audience().unwrap_or("?").to_owned(),
    );
    let mut mi_step = Step::ok(
        "managed identity token",
        vec![
            format!("iss {iss}"),
            format!("sub {sub}"),
            format!("aud {aud}"),
        ],
        json!({"issuer": iss, "subject": sub, "audience": aud, "tenant": view.str_claim("tid"), "kind": if view.kind() == TokenKind::AppOnly { "app_only" } else { "delegated" }}),
    );
    if view.kind() != TokenKind::AppOnly {
        mi_step.ok = false;
        mi_step
            .lines
            .push("this is a delegated (user) token: Entra will refuse it (AADSTS700229)".into());
    }
    if system_assigned(&view) {
        mi_step.warn = true;
        mi_step.lines.push("this is a system-assigned identity's token; the documented flow needs a user-assigned one".into());
    }
    if aud != cloud.exchange_audience()
        && conn.audience.is_none()
        && !matches!(cloud, Cloud::Custom { .. })
    {
        mi_step.warn = true;
        mi_step.lines.push(format!(
            "audience {aud} is not this cloud's exchange audience {}",
            cloud.exchange_audience()
        ));
    }
    report.push(mi_step);

    // 3. The FIC that must exist.
    let facts_base = Facts {
        client_id: c.client_id.as_str(),
        tenant: None,
        scope: Some(c.scope.as_str()),
        cloud: &cloud,
        audience: &audience,
        assertion: Some(&view),
        identity: Some(&c.identity),
    };
    report.push(Step::ok(
        "federated credential",
        vec![
            format!(
                "app {} (registered in tenant {}) must hold a FIC with exactly:",
                c.client_id,
                view.str_claim("tid").unwrap_or("?")
            ),
            format!("issuer {iss}"),
            format!("subject {sub}"),
            format!("audience {aud}"),
            format!(
                "to print it for az/Graph/Bicep/Terraform/PowerShell: {}",
                setup_command(&facts_base)
            ),
        ],
        json!({"issuer": iss, "subject": sub, "audiences": [aud], "app": c.client_id.as_str()}),
    ));

    // 4 + 5. Exchange per tenant, and the resulting token.
    for tenant in &c.tenants {
        let facts = Facts {
            tenant: Some(tenant.as_str()),
            ..facts_base
        };
        let r = match tokio::time::timeout(
            deadline,
            exchanger.token(tenant.as_str(), c.scope.as_str()),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout {
                leg: ficx::Leg::Exchange,
                url: exchanger.authority().to_owned(),
                after: deadline,
            }),
        };
        match r {
            Err(e) => {
                report.push(fail("exchange", &e, &facts));
                first_error.get_or_insert(e);
            }
            Ok(t) => {
                let app = decode_unverified(t.secret().expose_secret()).ok();
                let roles: Vec<String> = app
                    .as_ref()
                    .map(|v| v.roles().into_iter().map(str::to_owned).collect())
                    .unwrap_or_default();
                let app_aud = app
                    .as_ref()
                    .and_then(|v| v.audience().map(str::to_owned))
                    .unwrap_or_default();
                report.push(Step::ok(
                    "exchange",
                    vec![format!("{tenant}: app-only token for {}", c.scope)],
                    json!({"tenant": tenant.as_str()}),
                ));
                let mut tok = Step::ok(
                    "resulting token",
                    vec![format!(
                        "{tenant}: aud {app_aud}, tid {}",
                        app.as_ref().and_then(|v| v.str_claim("tid")).unwrap_or("?")
                    )],
                    json!({"tenant": tenant.as_str(), "audience": app_aud, "roles": roles, "expires_on": t.expires_on_unix()}),
                );
                if roles.is_empty() {
                    tok.warn = true;
                    tok.lines.push(format!("no roles: grant the app's service principal in {tenant} an app role on {app_aud}, or calls will get 403"));
                } else {
                    tok.lines.push(format!("roles: {}", roles.join(", ")));
                }
                report.push(tok);
            }
        }
    }
    finish(report, first_error, a.output)
}

fn finish(report: Report, err: Option<Error>, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        println!("{}", report.json());
    }
    match err {
        None => {
            if format == Format::Text {
                println!("\nall checks passed");
            }
            Ok(())
        }
        Some(e) => Err(Reported {
            code: code_for_error(&e),
            message: format!(
                "doctor found a problem ({}); see the explanation above",
                e.aadsts().map(|c| format!("AADSTS{c}")).unwrap_or_else(|| e
                    .leg()
                    .map(|l| format!("{l} leg"))
                    .unwrap_or_else(|| "configuration".into()))
            ),
        }
        .into()),
    }
}
