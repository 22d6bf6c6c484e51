//! Bad input: one clear line naming the flag and the expected form, exit 2, no request sent.

use crate::support::Cli;

async fn refused(cli: &Cli, args: &[&str], expect: &str) {
    let before = cli.requests();
    let o = cli.run(args).await;
    assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
    let lines: Vec<&str> = o
        .stderr
        .lines()
        .filter(|l| !l.starts_with("warning:"))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{args:?}: one line expected, got:\n{}",
        o.stderr
    );
    assert!(
        lines[0].contains(expect),
        "{args:?}: {:?} does not mention {expect:?}",
        lines[0]
    );
    assert!(o.stdout.is_empty(), "{args:?}: nothing on stdout");
    assert_eq!(cli.requests(), before, "{args:?}: no request may be sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_one_line_exit_2_and_no_request() {
    let cli = Cli::start().await;
    let g = "https://graph.microsoft.com";
    refused(
        &cli,
        &[
            "token",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--scope",
            g,
            "--client-id",
            "not-a-guid",
        ],
        "--client-id",
    )
    .await;
    refused(
        &cli,
        &[
            "token",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--scope",
            g,
            "--mi-client-id",
            "1234",
        ],
        "--mi-client-id",
    )
    .await;
    refused(
        &cli,
        &[
            "token",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--scope",
            g,
            "--cloud",
            "mars",
        ],
        "--cloud",
    )
    .await;
    refused(
        &cli,
        &[
            "token",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--scope",
            g,
            "--mi-client-id",
            "a1a1a1a1-0000-4000-8000-000000000001",
            "--mi-object-id",
            "b1b1b1b1-0000-4000-8000-000000000001",
        ],
        "only one managed-identity selector",
    )
    .await;
    refused(
        &cli,
        &[
            "token",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--scope",
            "https://graph.microsoft.com/.default https://management.azure.com/.default",
        ],
        "scope",
    )
    .await;
    refused(&cli, &["token", "--scope", g], "missing --tenant").await;
    refused(
        &cli,
        &["token", "--tenant", "contoso.onmicrosoft.com"],
        "missing --scope",
    )
    .await;
    refused(
        &cli,
        &["token", "--tenant", "con/toso", "--scope", g],
        "tenant",
    )
    .await;
    refused(
        &cli,
        &[
            "token",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--scope",
            g,
            "--authority-host",
            "http://login.example.com",
        ],
        "plain http off loopback",
    )
    .await;
    refused(
        &cli,
        &[
            "token",
            "--tenant",
            "a.com,b.com",
            "--scope",
            g,
            "-o",
            "header",
        ],
        "-o header",
    )
    .await;
    refused(
        &cli,
        &[
            "token",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--scope",
            g,
            "--ca-file",
            "/nonexistent.pem",
        ],
        "ca file",
    )
    .await;
    refused(&cli, &["inspect", "not-a-jwt"], "not a JWT").await;
    refused(&cli, &["doctor", "--client-id", "x"], "tenant").await;
    refused(
        &cli,
        &[
            "token",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--scope",
            g,
            "--timeout",
            "5 parsecs",
        ],
        "--timeout",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_flag_and_help() {
    let cli = Cli::start().await;
    let o = cli.run(&["token", "--frobnicate"]).await;
    assert_eq!(o.code, 2);
    let o = cli.run(&["--help"]).await;
    assert_eq!(o.code, 0);
    for sub in [
        "token",
        "assertion",
        "inspect",
        "setup",
        "doctor",
        "emulate",
        "demo",
        "serve",
        "completions",
    ] {
        assert!(o.stdout.contains(sub), "--help lists {sub}");
        let h = cli.run(&[sub, "--help"]).await;
        assert_eq!(h.code, 0, "{sub} --help");
        // Examples keep their own lines (clap would otherwise fold them into one paragraph).
        let example_lines = h
            .stdout
            .lines()
            .skip_while(|l| !l.starts_with("Example"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .collect::<Vec<_>>();
        assert!(
            !example_lines.is_empty() && example_lines.iter().all(|l| l.starts_with("  ")),
            "{sub} --help has examples, one per indented line:\n{}",
            h.stdout
        );
        assert!(
            example_lines
                .iter()
                .any(|l| l.contains(&format!("ficx {sub}"))),
            "{sub} --help shows `ficx {sub}` in an example:\n{}",
            h.stdout
        );
    }
    let v = cli.run(&["--version"]).await;
    assert!(v.stdout.starts_with("ficx "), "{}", v.stdout);
    let c = cli.run(&["completions", "bash"]).await;
    assert_eq!(c.code, 0);
    assert!(c.stdout.contains("_ficx"), "a bash completion script");
    assert_eq!(cli.requests(), 0);
}
