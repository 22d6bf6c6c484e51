//! A token for one foreign tenant from the real environment (run it on Azure compute with a
//! user-assigned managed identity):
//!
//! ```sh
//! cargo run --example get_token -- <tenant> <app-client-id> <mi-client-id> [scope]
//! ```

use ficx::{Exchanger, ManagedIdentity};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [tenant, app, mi, rest @ ..] = args.as_slice() else {
        eprintln!("usage: get_token <tenant> <app-client-id> <mi-client-id> [scope]");
        std::process::exit(2);
    };
    let scope = rest
        .first()
        .map(String::as_str)
        .unwrap_or("https://graph.microsoft.com/.default");
    let exchanger = Exchanger::builder()
        .client_id(app)
        .managed_identity(ManagedIdentity::client_id(mi)?)
        .build()?;
    match exchanger.token(tenant, scope).await {
        Ok(t) => println!(
            "got a {} token, {} bytes, expires at {} (Unix)",
            t.token_type(),
            t.len(),
            t.expires_on_unix()
        ),
        Err(e) => {
            eprintln!(
                "error ({} leg): {e}",
                e.leg().map(|l| l.to_string()).unwrap_or_default()
            );
            if let Some(h) = e.hint() {
                eprintln!("hint: {h}");
            }
            std::process::exit(1);
        }
    }
    Ok(())
}
