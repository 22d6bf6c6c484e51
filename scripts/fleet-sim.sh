#!/usr/bin/env bash
# A fleet on one machine: N replica processes (examples/fleet_replica.rs) × T tenants against
# `ficx emulate`, three times — each replica with only its own cache, all sharing Redis, and
# sharing Redis that is killed halfway. Prints token-endpoint and MI requests, caller latency
# and errors per scenario. Loopback only; bounded (≈ 3 × SECONDS + build).
#
#   scripts/fleet-sim.sh                                   # 8 replicas × 200 tenants, 40 s each
#   scripts/fleet-sim.sh --replicas 4 --tenants 50 --seconds 20 --lifetime 20
#
# App tokens live LIFETIME seconds (default 30), so a run crosses refreshes: a replica refreshes
# at expiry − min(5 min, lifetime/2), i.e. every 15 s by default, so a run has
# ceil(SECONDS / refresh) rounds; ideal token requests per round: T with a shared store, N×T
# without ("token/tenant/round" is then 1 and N).
set -euo pipefail
cd "$(dirname "$0")/.."

REPLICAS=8 TENANTS=200 SECONDS_EACH=40 LIFETIME=30 TASKS=16
while [ $# -gt 0 ]; do
  case "$1" in
    --replicas) REPLICAS=$2; shift 2 ;;
    --tenants) TENANTS=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --lifetime) LIFETIME=$2; shift 2 ;;
    --tasks) TASKS=$2; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done
for v in REPLICAS TENANTS SECONDS_EACH LIFETIME TASKS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "--${v,,} must be a positive integer" >&2; exit 2; }
done

step() { printf '\n==> %s  [%ds]\n' "$*" "$SECONDS" >&2; }

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
step "build: ficx, stampede (emulator config), fleet_replica (release)"
timeout 1800 cargo build --release --quiet --bin ficx --example stampede --example fleet_replica
FICX="$TARGET_DIR/release/ficx"
REPLICA="$TARGET_DIR/release/examples/fleet_replica"
OUT="$(mktemp -d)"

# shellcheck source=scripts/lib/emulator.sh
. scripts/lib/emulator.sh
# shellcheck source=scripts/lib/redis.sh
. scripts/lib/redis.sh
ensure_redis_server

step "ficx emulate with $TENANTS customer tenants, app tokens for $LIFETIME s; redis-server"
"$TARGET_DIR/release/examples/stampede" --print-config "$TENANTS" \
  | sed -E "s/^app_secs = .*/app_secs = $LIFETIME/" > "$OUT/emulator.toml"
start_emulator "$FICX" "$OUT/emulator.toml" "$OUT"
REDIS_PORT=$(free_port)
start_redis "$REDIS_PORT" "$OUT"
cleanup() {
  kill "$EMU_PID" "${REDIS_PID:-}" 2> /dev/null || true
  wait 2> /dev/null || true
  rm -rf "$OUT"
}
trap cleanup EXIT INT TERM
FICX_REDIS_KEY="k1=$(head -c 32 /dev/urandom | base64)"
export FICX_REDIS_KEY

# run_scenario NAME REDIS(0/1) KILL(0/1)
run_scenario() {
  local name=$1 redis=$2 kill_half=$3
  step "$name: $REPLICAS replicas × $TENANTS tenants, $TASKS tasks each, $SECONDS_EACH s"
  local tok0 mi0
  tok0=$(emulator_count token)
  mi0=$(emulator_count imds)
  local pids=()
  for r in $(seq "$REPLICAS"); do
    if [ "$redis" = 1 ]; then
      FICX_REDIS_URL="redis://127.0.0.1:$REDIS_PORT" FICX_REDIS_PREFIX="sim-$name" \
        "$REPLICA" --tenants "$TENANTS" --tasks "$TASKS" --seconds "$SECONDS_EACH" > "$OUT/$name-$r.txt" 2>> "$OUT/$name.err" &
    else
      env -u FICX_REDIS_URL "$REPLICA" --tenants "$TENANTS" --tasks "$TASKS" --seconds "$SECONDS_EACH" > "$OUT/$name-$r.txt" 2>> "$OUT/$name.err" &
    fi
    pids+=($!)
  done
  if [ "$kill_half" = 1 ]; then
    sleep $((SECONDS_EACH / 2))
    kill -9 "$REDIS_PID"
    wait "$REDIS_PID" 2> /dev/null || true
    echo "redis-server killed at $((SECONDS_EACH / 2)) s" >&2
  fi
  for p in "${pids[@]}"; do wait "$p"; done
  local tok mi
  tok=$(($(emulator_count token) - tok0))
  mi=$(($(emulator_count imds) - mi0))
  local p50
  p50=$(grep -ho 'p50_us=[0-9]*' "$OUT/$name"-*.txt | cut -d= -f2 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  cat "$OUT/$name"-*.txt | awk -v name="$name" -v tok="$tok" -v mi="$mi" -v t="$TENANTS" -v p50="$p50" \
    -v secs="$SECONDS_EACH" -v life="$LIFETIME" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      calls += v["calls"]; errors += v["errors"]; hits += v["store_hits"]; serr += v["store_errors"]
      if (v["p99_us"] + 0 > p99 + 0) p99 = v["p99_us"] }
    END {
      refresh = life - (life / 2 < 300 ? life / 2 : 300)
      rounds = int((secs + refresh - 1) / refresh)
      printf("| %-14s | %6d | %5d | %18.2f | %8d | %6d | %8.0f | %8.0f | %10d | %12d |\n", name, tok, mi,
        tok / rounds / t, calls, errors, p50, p99, hits, serr)
    }' | tee -a "$OUT/table.txt"
  [ -s "$OUT/$name.err" ] && { echo "stderr of $name replicas:" >&2; sort "$OUT/$name.err" | uniq -c | head -5 >&2; }
  return 0
}

run_scenario local-only 0 0
run_scenario redis 1 0
run_scenario redis-killed 1 1

ROUNDS=$(awk -v s="$SECONDS_EACH" -v l="$LIFETIME" 'BEGIN { r = l - (l / 2 < 300 ? l / 2 : 300); print int((s + r - 1) / r) }')
echo
echo "fleet-sim: $REPLICAS replicas × $TENANTS tenants, $TASKS tasks per replica, $SECONDS_EACH s per scenario, app tokens $LIFETIME s (≈ $ROUNDS refresh rounds)"
echo "ideal token requests: $((ROUNDS * TENANTS)) with a shared store (1 per tenant per round), $((ROUNDS * REPLICAS * TENANTS)) without"
echo
echo "| scenario       | token  | MI    | token/tenant/round | calls    | errors | p50 µs   | p99 µs*  | store hits | store errors |"
echo "|----------------|--------|-------|--------------------|----------|--------|----------|----------|------------|--------------|"
cat "$OUT/table.txt"
echo
echo "* p50: median of the replicas' medians; p99: the worst replica's. Calls include cache hits."
