#!/usr/bin/env bash
# Soak (bounded, loopback only): many tasks over many tenants with rolling faults and short
# token lifetimes. Usage: scripts/soak.sh [seconds] (default 60). Exits non-zero if any error was
# returned while a still-valid token existed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
cargo run --quiet --release --example soak -- --seconds "$seconds" --tasks 64 --tenants 50
