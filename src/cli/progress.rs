//! The progress line on stderr during long waits (retry back-off, propagation waits): only when
//! stderr is a terminal and the wait is at least a second, so scripts and logs stay clean.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use ficx::{RetryEvent, RetryObserver};

/// Waits shorter than this draw nothing.
const MIN_WAIT: Duration = Duration::from_secs(1);

/// An observer that draws the progress line, or `None` when stderr is not a terminal.
pub(crate) fn observer() -> Option<RetryObserver> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    Some(Arc::new(|e: &RetryEvent| {
        if e.delay >= MIN_WAIT {
            eprintln!("… {}", line(e));
        }
    }))
}

fn line(e: &RetryEvent) -> String {
    let reason: String = e.reason.chars().take(120).collect();
    format!(
        "waiting {:.1} s before attempt {} ({reason})",
        e.delay.as_secs_f64(),
        e.attempt + 1
    )
}
