#!/usr/bin/env bash
# Exactly what CI runs (.ci/run calls this and nothing else): format, lints, docs, all tests.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "cargo fmt --check"
cargo fmt --check

step "cargo clippy --all-targets --all-features -- -D warnings"
cargo clippy --all-targets --all-features -- -D warnings

step "cargo doc (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features --quiet

step "doc audit: every public item has a compiling example"
python3 scripts/doc-audit.py

step "redis-server for the fleet tests (tests/fleet.rs)"
# shellcheck source=scripts/lib/redis.sh
. scripts/lib/redis.sh
ensure_redis_server
REDIS_PORT=$(free_port)
REDIS_DIR=$(mktemp -d)
trap 'kill "${REDIS_PID:-}" 2> /dev/null; rm -rf "$REDIS_DIR"' EXIT
start_redis "$REDIS_PORT" "$REDIS_DIR"
export FICX_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT" FICX_REQUIRE_REDIS=1
echo "redis-server $(redis-server --version | awk '{print $3}') on $FICX_TEST_REDIS_URL" >&2

step "cargo test --all-features"
cargo test --all-features

step "examples that run anywhere (against the embedded emulator)"
cargo run --quiet --all-features --example with_emulator
cargo run --quiet --all-features --example multi_tenant_service
cargo run --quiet --all-features --example custom_assertion
cargo run --quiet --all-features --example azure_sdk_client

step "cargo deny check licenses bans sources"
if ! command -v cargo-deny > /dev/null; then
  cargo install --locked cargo-deny
fi
cargo deny check licenses bans sources
