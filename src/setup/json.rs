//! `json`: the plan's `serde` form, pretty-printed. The fields are documented on
//! [`SetupPlan`](super::SetupPlan); `tests/setup.rs` checks that exactly those appear.

use super::SetupPlan;

pub(super) fn render(p: &SetupPlan) -> String {
    // Serialising plain strings, bools and options cannot fail.
    let mut out = serde_json::to_string_pretty(p).unwrap_or_default();
    out.push('\n');
    out
}
