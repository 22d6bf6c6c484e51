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

step "redis-server for the fleet tests (tests/fleet.rs)"
if ! command -v redis-server > /dev/null; then
  if command -v apt-get > /dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get install -y -q redis-server > /dev/null 2>&1 \
      || { $SUDO apt-get update -q > /dev/null && $SUDO apt-get install -y -q redis-server > /dev/null; }
  fi
fi
command -v redis-server > /dev/null || { echo "redis-server is required (Debian: apt-get install redis-server)" >&2; exit 1; }
REDIS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 16379)
REDIS_DIR=$(mktemp -d)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$REDIS_DIR" > "$REDIS_DIR/log" 2>&1 &
REDIS_PID=$!
trap 'kill "$REDIS_PID" 2> /dev/null; rm -rf "$REDIS_DIR"' EXIT
for _ in $(seq 100); do
  (exec 3<> "/dev/tcp/127.0.0.1/$REDIS_PORT") 2> /dev/null && break
  sleep 0.05
done
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
