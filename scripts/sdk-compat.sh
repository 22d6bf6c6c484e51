#!/usr/bin/env bash
# Run the Python SDK compatibility test (azure-identity and MSAL Python against the emulator)
# with its output shown. The first run creates <target>/sdk-compat-venv and pip-installs the SDKs.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --no-default-features --features emulator --test sdk_compat -- --nocapture "$@"
