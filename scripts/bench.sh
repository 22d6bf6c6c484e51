#!/usr/bin/env bash
# Measure every row of the performance table (docs/performance.md) and print it with the target
# beside each measurement. Loopback traffic only; every step is bounded in time.
#
#   scripts/bench.sh                    # ≈ 3–4 min once built (the first build takes longer)
#   scripts/bench.sh --compare-python   # also azure-identity and MSAL Python, same emulator, same run
#
# Steps: release build of `ficx` and the `stampede` example, benches built; `ficx emulate` in the
# background (127.0.0.1, killed on exit) with 100 extra customer tenants; criterion benches with
# short measurement times; 30 fresh `ficx token` processes (wall, peak RSS); the stampedes
# 1000×1 and 1000×100 against that emulator; binary size and start-up to `--help`.
# Logs and the criterion output go to $CARGO_TARGET_DIR (default target/) under bench-report/.
set -euo pipefail
cd "$(dirname "$0")/.."

COMPARE_PYTHON=0
for a in "$@"; do
  case "$a" in
    --compare-python) COMPARE_PYTHON=1 ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $a (try --help)" >&2; exit 2 ;;
  esac
done

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
mkdir -p "$TARGET_DIR"
TARGET_DIR="$(cd "$TARGET_DIR" && pwd)"
OUT="$TARGET_DIR/bench-report"
rm -rf "$OUT"
mkdir -p "$OUT"
RUNS=30
SCOPE="https://graph.microsoft.com"
APP_CLIENT_ID="c0c0c0c0-0000-4000-8000-00000000c0c0"  # defaults::APP_CLIENT_ID
UAMI_CLIENT_ID="a1a1a1a1-0000-4000-8000-000000000001" # defaults::UAMI_TRUSTED_CLIENT_ID
TENANT="contoso.onmicrosoft.com"

step() { printf '\n==> %s  [%ds]\n' "$*" "$SECONDS" >&2; }
now_us() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }

# "median min max" of numbers on stdin.
stats() { sort -n | awk '{a[NR]=$1} END {if (NR==0) {print "na na na"; exit} m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; print m, a[1], a[NR]}'; }

# Median (ns) of a criterion benchmark, from its estimates.json; "na" when absent.
crit_ns() {
  local f="$TARGET_DIR/criterion/$1/new/estimates.json"
  [[ -f $f ]] || { echo na; return; }
  sed -E 's/.*"median":\{"confidence_interval":\{[^}]*\},"point_estimate":([0-9.eE+-]+).*/\1/' "$f"
}

fmt() { awk -v v="$1" -v d="${2:-1}" 'BEGIN { if (v == "na" || v == "") print "n/a"; else printf("%.*f", d, v) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "na" && a != "" && a + 0 <= b + 0) }'; }
verdict() { if "$@"; then echo met; else echo MISSED; fi; }

# ---------------------------------------------------------------------------------------------
step "build: ficx and the stampede example (release), benches (bench profile)"
timeout 1800 cargo build --release --quiet --bin ficx --example stampede
timeout 1800 cargo bench --quiet --no-run --bench cache_hit --bench cold_pipeline --bench parsing \
  --bench emulator_throughput 2>&1 | grep -v '^  Executable' || true
FICX="$TARGET_DIR/release/ficx"
STAMPEDE="$TARGET_DIR/release/examples/stampede"

# ---------------------------------------------------------------------------------------------
step "ficx emulate in the background (loopback), default directory + 100 customer tenants"
"$STAMPEDE" --print-config 100 >"$OUT/emulator.toml"
# shellcheck source=scripts/lib/emulator.sh
. scripts/lib/emulator.sh
start_emulator "$FICX" "$OUT/emulator.toml" "$OUT"
cleanup() {
  kill "$EMU_PID" 2>/dev/null || true
  wait "$EMU_PID" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
EMU_CA="$FICX_CA_FILE"
echo "emulator: authority $AZURE_AUTHORITY_HOST, MI $AZURE_POD_IDENTITY_AUTHORITY_HOST" >&2

# ---------------------------------------------------------------------------------------------
CRIT=(-- --warm-up-time 1 --measurement-time 2)
step "criterion: cache hits (single thread; 1/2/8/64 tasks on 2 workers)"
timeout 300 cargo bench --quiet --bench cache_hit "${CRIT[@]}" 2>&1 | tee "$OUT/cache_hit.txt" | grep -E '^[a-z_]+/|time:|thrpt:' >&2
step "criterion: in-process cold pipeline, exchanger build by root store, fan-out over tenants"
timeout 300 cargo bench --quiet --bench cold_pipeline "${CRIT[@]}" 2>&1 | tee "$OUT/cold_pipeline.txt" | grep -E '^[a-z_]+/|time:|thrpt:' >&2
step "criterion: JWT, expiry and token-body parsing"
timeout 300 cargo bench --quiet --bench parsing -- --warm-up-time 0.5 --measurement-time 1 2>&1 | tee "$OUT/parsing.txt" | grep -E '^[a-z_]+/|time:' >&2
step "criterion: emulator throughput (token endpoint, https keep-alive) and one RS256 signature"
timeout 300 cargo bench --quiet --bench emulator_throughput "${CRIT[@]}" 2>&1 | tee "$OUT/emulator_throughput.txt" | grep -E '^[a-z_]+/|time:|thrpt:' >&2

# ---------------------------------------------------------------------------------------------
# $1 = label: "system" (no SSL_CERT_FILE/SSL_CERT_DIR, as a user's shell has it, and the emulator
# CA as --ca-file via FICX_CA_FILE: the chain verifies against the CA file, so the system store is
# never read) or "full-store" (no --ca-file; SSL_CERT_FILE = the machine's whole bundle plus the
# emulator CA, so the system store is read, as for a real authority). RUNS fresh `ficx token`
# processes; wall in µs per line; prints stats.
cli_once() {
  (
    unset SSL_CERT_DIR
    if [[ $1 == system ]]; then
      unset SSL_CERT_FILE
    else
      unset FICX_CA_FILE
      export SSL_CERT_FILE="$OUT/full-store.pem"
    fi
    exec "$FICX" token --tenant "$TENANT" --scope "$SCOPE" >/dev/null
  )
}
cli_runs() {
  local file="$OUT/cli-$1.txt" t0 t1
  : >"$file"
  cli_once "$1" # warm the page cache
  for _ in $(seq "$RUNS"); do
    t0=$(now_us); cli_once "$1"; t1=$(now_us)
    echo $((t1 - t0)) >>"$file"
  done
  stats <"$file"
}

# Peak RSS (KiB) of one command, max over 5 runs: /usr/bin/time, else Python's os.wait4.
peak_rss_kib() {
  local best=0 r
  for _ in 1 2 3 4 5; do
    if [[ -x /usr/bin/time ]]; then
      r=$(/usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1)
    elif command -v python3 >/dev/null; then
      r=$(python3 -c 'import os,sys,subprocess
p=subprocess.Popen(sys.argv[1:],stdout=subprocess.DEVNULL)
print(os.wait4(p.pid,0)[2].ru_maxrss)' "$@")
    else
      echo na; return
    fi
    [[ $r =~ ^[0-9]+$ ]] && ((r > best)) && best=$r
  done
  echo "$best"
}

step "ficx token as a fresh process ×$RUNS (system roots as on a user's machine, plus the emulator CA)"
if [[ ! -x /usr/bin/time ]] && command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
  timeout 120 apt-get install -y -qq time >/dev/null 2>&1 || true
fi
# As a user's shell has it (no SSL_CERT_FILE/SSL_CERT_DIR), the emulator CA given as --ca-file.
read -r CLI_MED CLI_MIN CLI_MAX < <(cli_runs system)
CLI_RSS=$(peak_rss_kib env -u SSL_CERT_FILE -u SSL_CERT_DIR "$FICX" token --tenant "$TENANT" --scope "$SCOPE")
# The same with the emulator CA inside a full-size store and no --ca-file: what reading the
# system store costs when a chain needs it (a real authority's does, once per process).
SYSTEM_BUNDLE=""
for f in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
  [[ -r $f ]] && SYSTEM_BUNDLE=$f && break
done
cat $SYSTEM_BUNDLE "$EMU_CA" >"$OUT/full-store.pem"
read -r CLI1_MED CLI1_MIN CLI1_MAX < <(cli_runs full-store)
echo "fresh process: median $(fmt "$CLI_MED" 0) µs (min $CLI_MIN, max $CLI_MAX), peak RSS ${CLI_RSS} KiB; reading a full store ($(grep -c 'BEGIN CERT' "$OUT/full-store.pem") certificates): median $(fmt "$CLI1_MED" 0) µs" >&2

step "start-up to --help ×$RUNS, binary size"
: >"$OUT/help.txt"
for _ in $(seq "$RUNS"); do
  t0=$(now_us); "$FICX" --help >/dev/null; t1=$(now_us); echo $((t1 - t0)) >>"$OUT/help.txt"
done
read -r HELP_MED HELP_MIN HELP_MAX < <(stats <"$OUT/help.txt")
BIN_BYTES=$(stat -c %s "$FICX")

# ---------------------------------------------------------------------------------------------
step "stampede 1000 callers × 1 tenant, then × 100 tenants (against ficx emulate)"
result() { grep '^RESULT' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
timeout 120 env FICX_TENANT="customer0.onmicrosoft.com" "$STAMPEDE" --tasks 1000 --tenants 1 | tee "$OUT/stampede-1.txt" >&2
timeout 120 "$STAMPEDE" --tasks 1000 --tenants 100 | tee "$OUT/stampede-100.txt" >&2

# ---------------------------------------------------------------------------------------------
step "RSA-2048 signing capacity of this machine (openssl speed, 1 and 2 processes)"
OSSL1=na OSSL2=na
if command -v openssl >/dev/null; then
  OSSL1=$(timeout 60 openssl speed -seconds 2 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}' | tail -1)
  OSSL2=$(timeout 60 openssl speed -seconds 2 -multi 2 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}' | tail -1)
  echo "openssl rsa2048 sign/s: 1 process ${OSSL1:-na}, 2 processes ${OSSL2:-na}" >&2
fi

# ---------------------------------------------------------------------------------------------
PY_FRESH_AI=na PY_FRESH_MSAL=na PY_RSS_AI=na PY_RSS_MSAL=na PY_HIT_AI=na PY_HIT_MSAL=na PY_BURST_AI="" PY_BURST_MSAL=""
PY_NOTE=""
if ((COMPARE_PYTHON)); then
  step "Python SDKs (azure-identity, msal): same emulator, same run"
  PY=""
  for venv in "$TARGET_DIR/sdk-compat-venv" "$TARGET_DIR/bench-python-venv"; do
    if [[ -x $venv/bin/python ]] && timeout 60 "$venv/bin/python" -c 'import azure.identity, msal, requests' 2>/dev/null; then
      PY="$venv/bin/python"; break
    fi
  done
  if [[ -z $PY ]]; then
    if ! command -v python3 >/dev/null; then
      PY_NOTE="SKIPPED: python3 is not available"
    elif ! timeout 120 python3 -m venv "$TARGET_DIR/bench-python-venv" >"$OUT/venv.log" 2>&1; then
      PY_NOTE="SKIPPED: python3 -m venv failed (see $OUT/venv.log)"
    elif ! timeout 300 "$TARGET_DIR/bench-python-venv/bin/python" -m pip install --quiet --disable-pip-version-check azure-identity msal >"$OUT/pip.log" 2>&1; then
      PY_NOTE="SKIPPED: pip install azure-identity msal failed (PyPI unreachable? see $OUT/pip.log)"
    else
      PY="$TARGET_DIR/bench-python-venv/bin/python"
    fi
  fi
  if [[ -n $PY ]]; then
    "$PY" -c 'import importlib.metadata as m; print("azure-identity", m.version("azure-identity"), "· msal", m.version("msal"))' | tee "$OUT/python-versions.txt" >&2
    export FICX_AUTHORITY="$AZURE_AUTHORITY_HOST" FICX_TENANT="$TENANT" FICX_APP_CLIENT_ID="$APP_CLIENT_ID" \
      FICX_UAMI_CLIENT_ID="$UAMI_CLIENT_ID" FICX_SCOPE="$SCOPE/.default" REQUESTS_CA_BUNDLE="$EMU_CA" SSL_CERT_FILE="$EMU_CA"
    unset AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_FEDERATED_TOKEN_FILE
    PYRUNS=10
    for sdk in azure-identity msal; do
      f="$OUT/python-fresh-$sdk.txt"; : >"$f"
      timeout 60 "$PY" scripts/bench_python.py fresh "$sdk" >/dev/null # warm the page cache
      for _ in $(seq "$PYRUNS"); do
        t0=$(now_us); timeout 60 "$PY" scripts/bench_python.py fresh "$sdk" >/dev/null; t1=$(now_us)
        echo $((t1 - t0)) >>"$f"
      done
      read -r med _ _ < <(stats <"$f")
      rss=$(peak_rss_kib timeout 60 "$PY" scripts/bench_python.py fresh "$sdk")
      hit=$(timeout 120 "$PY" scripts/bench_python.py hits "$sdk" 20000 | sed -n 's/^HIT_US=//p')
      burst=$(timeout 120 "$PY" scripts/bench_python.py burst "$sdk" 100 || true)
      echo "$sdk: fresh process median $(fmt "$med" 0) µs, peak RSS $rss KiB, cached hit $hit µs; 100 cold threads: $burst" >&2
      if [[ $sdk == azure-identity ]]; then
        PY_FRESH_AI=$med PY_RSS_AI=$rss PY_HIT_AI=$hit PY_BURST_AI=$burst
      else
        PY_FRESH_MSAL=$med PY_RSS_MSAL=$rss PY_HIT_MSAL=$hit PY_BURST_MSAL=$burst
      fi
    done
  else
    echo "$PY_NOTE" >&2
  fi
fi

# ---------------------------------------------------------------------------------------------
HIT_X=$(crit_ns cache_hit/exchanger_token)
HIT_T=$(crit_ns cache_hit/tenant_credential_get_token)
declare -A THR
for n in 1 2 8 64; do
  ns=$(crit_ns "cache_hit_concurrent/exchanger_token/$n")
  THR[$n]=$(awk -v n="$n" -v ns="$ns" 'BEGIN { if (ns == "na") print "na"; else printf("%.0f", n / ns * 1e9) }')
done
R2=$(awk -v a="${THR[2]}" -v b="${THR[1]}" 'BEGIN { if (a == "na" || b == "na") print "na"; else printf("%.2f", a / b) }')
R64=$(awk -v a="${THR[64]}" -v b="${THR[2]}" 'BEGIN { if (a == "na" || b == "na") print "na"; else printf("%.2f", a / b) }')
COLD_NS=$(crit_ns cold_pipeline/fresh_exchanger_mi_and_exchange_https)
EMU_NS=$(crit_ns emulator_throughput/token_exchange_https_keepalive)
EMU_RPS=$(awk -v ns="$EMU_NS" 'BEGIN { if (ns == "na") print "na"; else printf("%.0f", 64 / ns * 1e9) }')
SIGN_NS=$(crit_ns ring_rs256_sign_2048)
S1="$OUT/stampede-1.txt" S100="$OUT/stampede-100.txt"
ST1_MI=$(result "$S1" server_mi) ST1_TOK=$(result "$S1" server_token) ST1_P99=$(result "$S1" p99_us) ST1_SINGLE=$(result "$S1" single_us)
ST1_XMI=$(result "$S1" mi) ST1_XTOK=$(result "$S1" token)
ST1_RATIO=$(awk -v a="$ST1_P99" -v b="$ST1_SINGLE" 'BEGIN { printf("%.2f", a / b) }')
ST100_MI=$(result "$S100" server_mi) ST100_TOK=$(result "$S100" server_token) ST100_XMI=$(result "$S100" mi) ST100_XTOK=$(result "$S100" token)
ST100_P99=$(result "$S100" p99_us)

ms() { awk -v us="$1" 'BEGIN { if (us == "na") print "n/a"; else printf("%.2f ms", us / 1000) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "na" || b == "na" || a == "" || b == "" || b == 0) print "n/a"; else printf("%.0f×", a / b) }'; }

{
  echo
  echo "ficx performance — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  printf '| %-58s | %-58s | %-44s | %s\n' "what" "measured" "target" "verdict"
  printf '|%s|%s|%s|%s\n' "$(printf -- '-%.0s' {1..60})" "$(printf -- '-%.0s' {1..60})" "$(printf -- '-%.0s' {1..46})" "--------"
  printf '| %-58s | %-58s | %-44s | %s\n' "cached get_token hit, one thread (Exchanger::token)" "median $(fmt "$HIT_X") ns" "median ≤ 250 ns" "$(verdict le "$HIT_X" 250)"
  printf '| %-58s | %-58s | %-44s | %s\n' "cached get_token hit, one thread (TenantCredential)" "median $(fmt "$HIT_T") ns" "median ≤ 250 ns" "$(verdict le "$HIT_T" 250)"
  printf '| %-58s | %-58s | %-44s | %s\n' "cached hits, 1/2/8/64 tasks on 2 workers (M hits/s)" \
    "$(for n in 1 2 8 64; do awk -v t="${THR[$n]}" 'BEGIN { if (t == "na") printf("n/a "); else printf("%.2f ", t / 1e6) }'; done)" "" ""
  printf '| %-58s | %-58s | %-44s | %s\n' "  aggregate at 2 tasks / 1 task" "${R2}×" "≥ 1.8×" "$(verdict awk -v r="$R2" 'BEGIN { exit !(r != "na" && r >= 1.8) }')"
  printf '| %-58s | %-58s | %-44s | %s\n' "  aggregate at 64 tasks / 2 tasks" "${R64}×" "no collapse (≥ 0.8×)" "$(verdict awk -v r="$R64" 'BEGIN { exit !(r != "na" && r >= 0.8) }')"
  printf '| %-58s | %-58s | %-44s | %s\n' "ficx token, fresh process, MI + exchange over https" "median $(ms "$CLI_MED") (min $(ms "$CLI_MIN"), max $(ms "$CLI_MAX"))" "median ≤ 10 ms" "$(verdict le "$CLI_MED" 10000)"
  printf '| %-58s | %-58s | %-44s | %s\n' "  peak RSS" "$(awk -v k="$CLI_RSS" 'BEGIN { if (k == "na") print "n/a"; else printf("%.1f MiB", k / 1024) }')" "≤ 12 MiB" "$(verdict le "$CLI_RSS" 12288)"
  printf '| %-58s | %-58s | %-44s | %s\n' "  same, CA inside a full store read at first handshake" "median $(ms "$CLI1_MED")" "(cost of reading system roots when needed)" ""
  printf '| %-58s | %-58s | %-44s | %s\n' "in-process cold pipeline (fresh Exchanger, MI + exchange)" "median $(awk -v ns="$COLD_NS" 'BEGIN { if (ns == "na") print "n/a"; else printf("%.2f ms", ns / 1e6) }')" "median ≤ 2 ms" "$(verdict le "$COLD_NS" 2000000)"
  printf '| %-58s | %-58s | %-44s | %s\n' "1000 cold callers, one tenant: requests (server / stats)" "$ST1_MI MI + $ST1_TOK token / $ST1_XMI + $ST1_XTOK" "exactly 1 MI + 1 token" "$(verdict test "$ST1_MI/$ST1_TOK/$ST1_XMI/$ST1_XTOK" = 1/1/1/1)"
  printf '| %-58s | %-58s | %-44s | %s\n' "  p99 caller latency vs one cold call" "$(ms "$ST1_P99") vs $(ms "$ST1_SINGLE") = ${ST1_RATIO}×" "≤ 2×" "$(verdict awk -v r="$ST1_RATIO" 'BEGIN { exit !(r <= 2) }')"
  printf '| %-58s | %-58s | %-44s | %s\n' "1000 callers over 100 cold tenants: requests" "$ST100_MI MI + $ST100_TOK token / $ST100_XMI + $ST100_XTOK (p99 $(ms "$ST100_P99"))" "exactly 1 MI + 100 token" "$(verdict test "$ST100_MI/$ST100_TOK/$ST100_XMI/$ST100_XTOK" = 1/100/1/100)"
  printf '| %-58s | %-58s | %-44s | %s\n' "emulator token endpoint, https keep-alive" "$EMU_RPS responses/s (RS256 sign $(awk -v ns="$SIGN_NS" 'BEGIN { if (ns == "na") print "n/a"; else printf("%.2f ms", ns / 1e6) }'))" "≥ 2,000/s" "$(verdict awk -v r="$EMU_RPS" 'BEGIN { exit !(r != "na" && r >= 2000) }')"
  printf '| %-58s | %-58s | %-44s | %s\n' "  openssl speed rsa2048 sign/s, 1 process / 2 processes" "${OSSL1:-na} / ${OSSL2:-na}" "(the machine's RSA ceiling)" ""
  printf '| %-58s | %-58s | %-44s | %s\n' "release binary size" "$(awk -v b="$BIN_BYTES" 'BEGIN { printf("%.1f MiB (%d bytes)", b / 1048576, b) }')" "reported" ""
  printf '| %-58s | %-58s | %-44s | %s\n' "start-up to --help" "median $(ms "$HELP_MED") (min $(ms "$HELP_MIN"), max $(ms "$HELP_MAX"))" "reported" ""
  if ((COMPARE_PYTHON)); then
    if [[ -n $PY_NOTE ]]; then
      echo
      echo "Python comparison: $PY_NOTE"
    else
      echo
      printf '| %-58s | %-30s | %-30s |\n' "Python SDKs, same emulator (ratio = Python / ficx)" "azure-identity $(sed -n 's/^azure-identity \([^ ]*\).*/\1/p' "$OUT/python-versions.txt")" "msal $(sed -n 's/.*msal \([^ ]*\).*/\1/p' "$OUT/python-versions.txt")"
      printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..60})" "$(printf -- '-%.0s' {1..32})" "$(printf -- '-%.0s' {1..32})"
      printf '| %-58s | %-30s | %-30s |\n' "fresh process, full pipeline, median wall" "$(ms "$PY_FRESH_AI") ($(ratio "$PY_FRESH_AI" "$CLI_MED"))" "$(ms "$PY_FRESH_MSAL") ($(ratio "$PY_FRESH_MSAL" "$CLI_MED"))"
      printf '| %-58s | %-30s | %-30s |\n' "peak RSS" "$(awk -v k="$PY_RSS_AI" 'BEGIN { printf("%.1f MiB", k / 1024) }') ($(ratio "$PY_RSS_AI" "$CLI_RSS"))" "$(awk -v k="$PY_RSS_MSAL" 'BEGIN { printf("%.1f MiB", k / 1024) }') ($(ratio "$PY_RSS_MSAL" "$CLI_RSS"))"
      printf '| %-58s | %-30s | %-30s |\n' "cached token, per call" "${PY_HIT_AI} µs ($(ratio "$(awk -v u="$PY_HIT_AI" 'BEGIN { print u * 1000 }')" "$HIT_X"))" "${PY_HIT_MSAL} µs ($(ratio "$(awk -v u="$PY_HIT_MSAL" 'BEGIN { print u * 1000 }')" "$HIT_X"))"
      printf '| %-58s | %-30s | %-30s |\n' "100 cold threads: MI / token requests (ficx: 1 / 1)" "$(echo "$PY_BURST_AI" | sed -E 's/BURST_MI=([0-9]+) BURST_TOKEN=([0-9]+).*/\1 \/ \2/')" "$(echo "$PY_BURST_MSAL" | sed -E 's/BURST_MI=([0-9]+) BURST_TOKEN=([0-9]+).*/\1 \/ \2/')"
    fi
  fi
  echo
  echo "Logs and criterion output: $OUT, $TARGET_DIR/criterion. Total time: ${SECONDS}s."
} | tee "$OUT/table.md"
