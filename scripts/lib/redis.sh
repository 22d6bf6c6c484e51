# shellcheck shell=bash
# Sourced by scripts/test.sh and scripts/fleet-sim.sh: a throwaway redis-server on loopback.

# Install redis-server (Debian package) when it is missing.
ensure_redis_server() {
  command -v redis-server > /dev/null && return 0
  if command -v apt-get > /dev/null; then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get install -y -q redis-server > /dev/null 2>&1 \
      || { $sudo apt-get update -q > /dev/null && $sudo apt-get install -y -q redis-server > /dev/null; }
  fi
  command -v redis-server > /dev/null || {
    echo "redis-server is required (Debian: apt-get install redis-server)" >&2
    return 1
  }
}

# A free loopback TCP port.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2> /dev/null \
    || echo $((20000 + RANDOM % 20000))
}

# start_redis PORT DIR: start redis-server on 127.0.0.1:PORT (no persistence), wait until it
# accepts connections, and set REDIS_PID.
start_redis() {
  local port=$1 dir=$2
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
    > "$dir/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 200); do
    (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && return 0
    kill -0 "$REDIS_PID" 2> /dev/null || break
    sleep 0.05
  done
  echo "redis-server did not start on port $port:" >&2
  cat "$dir/redis.log" >&2
  return 1
}
