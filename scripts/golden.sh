#!/usr/bin/env bash
# Regenerate every golden file, then show what changed. Review the diff before committing.
#
# Each golden test compares with files under tests/golden/ and rewrites them instead when
# FICX_UPDATE_GOLDEN=1 is set. To add a snapshot set (e.g. `ficx --help`), add its test here as
# "<integration test target> <test name>".
set -euo pipefail
cd "$(dirname "$0")/.."

GOLDEN_TESTS=(
  "setup golden_files" # tests/golden/setup/: `ficx setup` in every format
)

export FICX_UPDATE_GOLDEN=1
for entry in "${GOLDEN_TESTS[@]}"; do
  read -r target name <<<"$entry"
  printf '==> %s: %s\n' "$target" "$name" >&2
  cargo test --quiet --all-features --test "$target" -- --exact "$name"
done

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git status --short -- tests/golden
fi
