//! Exit codes (README "Exit codes") and how an error chain is printed: the `{:#}` chain once,
//! then the hint and Entra's support ids on their own lines. Never a token.

use std::process::ExitCode;

use ficx::Error;

/// Success (a broken pipe on stdout also counts).
pub(crate) const OK: u8 = 0;
/// Anything else (a bug, an unexpected I/O error).
pub(crate) const OTHER: u8 = 1;
/// Bad usage or invalid input, caught before any network call.
pub(crate) const USAGE: u8 = 2;
// 3: the managed-identity leg failed; 4: Entra rejected the exchange (configuration);
// 5: transient failure after retries. Mapped by `ficx::Error::exit_code`.

/// An error the CLI raises itself for bad input (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Usage(pub(crate) String);

/// A failure the command already explained on its own output; `report` prints one short line.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct Reported {
    /// The exit code.
    pub(crate) code: u8,
    /// One short line for stderr.
    pub(crate) message: String,
}

/// The library error in an anyhow chain, if any.
pub(crate) fn find_error(e: &anyhow::Error) -> Option<&Error> {
    e.chain().find_map(|c| c.downcast_ref::<Error>())
}

/// The exit code for an error chain.
pub(crate) fn code_for(e: &anyhow::Error) -> u8 {
    if e.chain().any(|c| c.downcast_ref::<Usage>().is_some()) {
        return USAGE;
    }
    if let Some(r) = e.chain().find_map(|c| c.downcast_ref::<Reported>()) {
        return r.code;
    }
    match find_error(e) {
        Some(err) => code_for_error(err),
        None => OTHER,
    }
}

/// The exit code for a library error (the mapping lives in the library, next to the error).
pub(crate) fn code_for_error(err: &Error) -> u8 {
    err.exit_code()
}

/// True when the chain is a broken pipe on stdout.
pub(crate) fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Print the error to stderr and return its exit code.
pub(crate) fn report(e: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(e) {
        return ExitCode::from(OK);
    }
    if let Some(r) = e.downcast_ref::<Reported>() {
        eprintln!("error: {}", r.message);
        return ExitCode::from(r.code);
    }
    eprintln!("error: {e:#}");
    if let Some(err) = find_error(e) {
        if let Some(h) = err.hint() {
            eprintln!("hint: {h}");
        }
        if let Some(entra) = err.entra() {
            let ids: Vec<String> = [
                entra.trace_id.as_deref().map(|t| format!("trace id {t}")),
                entra
                    .correlation_id
                    .as_deref()
                    .map(|c| format!("correlation id {c}")),
                entra.timestamp.as_deref().map(|t| format!("at {t}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !ids.is_empty() {
                eprintln!("entra: {}", ids.join(", "));
            }
        }
    }
    ExitCode::from(code_for(e))
}
