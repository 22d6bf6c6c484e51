# shellcheck shell=bash
# Sourced by scripts/bench.sh and scripts/fleet-sim.sh: `ficx emulate` in the background.

# start_emulator FICX CONFIG OUT: run `FICX emulate --config CONFIG` in the background (state and
# logs under OUT), wait for its environment, export it plus the default app and identity, and set
# EMU_PID. Kill it with `kill "$EMU_PID"`.
start_emulator() {
  local ficx=$1 config=$2 out=$3
  "$ficx" emulate --config "$config" --state-dir "$out/emulator-state" --print-env sh \
    > "$out/emulator.env" 2> "$out/emulator.log" &
  EMU_PID=$!
  for _ in $(seq 300); do
    grep -q AZURE_AUTHORITY_HOST "$out/emulator.env" 2> /dev/null && break
    kill -0 "$EMU_PID" 2> /dev/null || { cat "$out/emulator.log" >&2; return 1; }
    sleep 0.1
  done
  grep -q AZURE_AUTHORITY_HOST "$out/emulator.env" || { echo "the emulator did not start" >&2; return 1; }
  set -a
  # shellcheck disable=SC1091
  . "$out/emulator.env"
  set +a
  export FICX_CLIENT_ID="c0c0c0c0-0000-4000-8000-00000000c0c0"    # defaults::APP_CLIENT_ID
  export FICX_MI_CLIENT_ID="a1a1a1a1-0000-4000-8000-000000000001" # defaults::UAMI_TRUSTED_CLIENT_ID
  export NO_PROXY="127.0.0.1,localhost" no_proxy="127.0.0.1,localhost"
  unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy IDENTITY_ENDPOINT IDENTITY_HEADER MSI_ENDPOINT MSI_SECRET IMDS_ENDPOINT
}

# emulator_count NAME: the emulator's request count for one endpoint (imds, token, ...).
emulator_count() {
  curl -s --noproxy '*' "$AZURE_POD_IDENTITY_AUTHORITY_HOST/_ficx/log/counts" \
    | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"
}
