//! Start-up refusals: exit 2 with one line, before anything listens.

use crate::support::{emulator, env, run_to_end};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_loopback_and_missing_allow_list_are_refused() {
    let emu = emulator().await;
    let cases: [(&[&str], &str); 5] = [
        (
            &["serve", "--listen", "0.0.0.0:0", "--allow-any-tenant"],
            "loopback only",
        ),
        (
            &[
                "serve",
                "--listen",
                "192.168.1.10:8390",
                "--allow-any-tenant",
            ],
            "loopback only",
        ),
        (&["serve", "--listen", "127.0.0.1:0"], "--allow-tenant"),
        (
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--allow-any-tenant",
                "--allow-tenant",
                "contoso.onmicrosoft.com",
            ],
            "not both",
        ),
        (
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--allow-tenant",
                "not a tenant",
            ],
            "--allow-tenant",
        ),
    ];
    for (args, expected) in cases {
        let (code, stdout, stderr) = run_to_end(args, env(&emu));
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(
            stdout.is_empty(),
            "{args:?}: nothing printed before the checks: {stdout}"
        );
    }
    let mut short = env(&emu);
    short.push(("FICX_SERVE_SECRET".into(), "short".into()));
    let (code, _, stderr) = run_to_end(
        &["serve", "--listen", "127.0.0.1:0", "--allow-any-tenant"],
        short,
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("FICX_SERVE_SECRET"), "{stderr}");
    assert!(
        !stderr.contains("short"),
        "the rejected secret is not echoed: {stderr}"
    );
}
