#!/usr/bin/env bash
# Three ocpp-inspector proxies behind HAProxy, a simulated CSMS and a fleet of simulated
# chargers (OCPP 1.6, 2.0.1 and 2.1), all on 127.0.0.1. Shows that
#   1. every station stays on one proxy across reconnects (consistent hashing on the path),
#   2. a rolling restart of one proxy (drain: /readyz 503, closes with 1001 over
#      --drain-seconds) has every station reconnected through the others, and
#   3. every frame the chargers exchanged is in the proxies' recordings, and `check --merge`
#      judges them as one.
# Needs haproxy (Debian: apt-get install haproxy) and python3. Environment:
#   OCPP_INSPECTOR  the binary (default: target/release/ocpp-inspector, built if missing)
#   CHARGERS        simulated chargers (default 300)
#   PHASE_SECONDS   seconds per phase (default 15)
#   DRAIN_SECONDS   the restarted proxy's --drain-seconds (default 5)
#   BASE_PORT       first of the ports used (default 19100)
#   OUT             output folder (default: a new temporary folder, kept)
# Exit code 0 when every check holds, 1 otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BIN=${OCPP_INSPECTOR:-$root/target/release/ocpp-inspector}
if [ ! -x "$BIN" ]; then
    (cd "$root" && cargo build --release --quiet)
fi
command -v haproxy >/dev/null || { echo "haproxy is not installed (apt-get install haproxy)" >&2; exit 2; }
CHARGERS=${CHARGERS:-300}
PHASE=${PHASE_SECONDS:-15}
DRAIN=${DRAIN_SECONDS:-5}
BASE=${BASE_PORT:-19100}
OUT=${OUT:-$(mktemp -d -t ocpp-fleet-XXXXXX)}
mkdir -p "$OUT"
export FRONT_PORT=$((BASE + 1)) CSMS_PORT=$((BASE + 2))
export P1_PORT=$((BASE + 11)) P2_PORT=$((BASE + 12)) P3_PORT=$((BASE + 13))
export A1_PORT=$((BASE + 21)) A2_PORT=$((BASE + 22)) A3_PORT=$((BASE + 23))
export MAXCONN=$((CHARGERS + 1000))
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
say() { echo "== $*"; }

# GET or POST on an admin port, with bash's /dev/tcp: prints the status code.
http_status() { # PORT METHOD PATH
    exec 3<>"/dev/tcp/127.0.0.1/$1" || { echo 000; return; }
    printf '%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n' "$2" "$3" >&3
    head -1 <&3 | cut -d' ' -f2
    exec 3<&-
}
wait_ready() { # PORT
    for _ in $(seq 1 100); do
        [ "$(http_status "$1" GET /readyz 2>/dev/null)" = 200 ] && return 0
        sleep 0.2
    done
    echo "admin port $1 never became ready" >&2
    return 1
}

start_proxy() { # N RECORDING-SUFFIX
    local n=$1 suffix=$2 lp ap
    lp=P${n}_PORT; ap=A${n}_PORT
    "$BIN" proxy --listen "127.0.0.1:${!lp}" --upstream "ws://127.0.0.1:$CSMS_PORT/ocpp" \
        --no-tui --admin "127.0.0.1:${!ap}" --proxy-protocol --drain-seconds "$DRAIN" \
        --instance "proxy-$n" --record "$OUT/proxy-$n$suffix.jsonl" \
        --findings-jsonl "$OUT/findings-$n$suffix.jsonl" 2>"$OUT/proxy-$n$suffix.log" &
    proxy_pid[$n]=$!
    pids+=("$!")
    wait_ready "${!ap}"
}

start_chargers() { # PHASE-NAME
    "$BIN" sim charger --url "ws://127.0.0.1:$FRONT_PORT/ocpp" --count "$CHARGERS" \
        --prefix CP- --ocpp 1.6,2.0.1,2.1 --idle 1 --meter-interval 1 --samples 3 \
        --record "$OUT/chargers-$1.jsonl" >"$OUT/chargers-$1.log" 2>&1 &
    chargers_pid=$!
    pids+=("$!")
}
stop_chargers() {
    kill -INT "$chargers_pid" 2>/dev/null || true
    wait "$chargers_pid" 2>/dev/null || true
}

say "output in $OUT"
"$BIN" sim csms --listen "127.0.0.1:$CSMS_PORT" --heartbeat-interval 5 >"$OUT/csms.log" 2>&1 &
pids+=("$!")
declare -a proxy_pid
for n in 1 2 3; do start_proxy "$n" ""; done
haproxy -db -f "$here/haproxy.cfg" >"$OUT/haproxy.log" 2>&1 &
haproxy_pid=$!
pids+=("$!")
sleep 1.5 # the first health checks
kill -0 "$haproxy_pid" 2>/dev/null || { cat "$OUT/haproxy.log" >&2; echo "haproxy did not start" >&2; exit 2; }

say "phase 1: $CHARGERS chargers connect through HAProxy for $PHASE s"
start_chargers 1
sleep "$PHASE"
stop_chargers
say "phase 2: the same chargers reconnect for $PHASE s"
start_chargers 2
sleep "$PHASE"
say "phase 3: rolling restart of proxy-2 under load (POST /drain, --drain-seconds $DRAIN)"
date -u +%Y-%m-%dT%H:%M:%S.%6NZ >"$OUT/drain-at"
echo "proxy-2 /drain: $(http_status "$A2_PORT" POST /drain)  /readyz: $(http_status "$A2_PORT" GET /readyz)"
wait "${proxy_pid[2]}" || true
start_proxy 2 "-restarted"
sleep "$PHASE"
stop_chargers
for n in 1 2 3; do kill -TERM "${proxy_pid[$n]}" 2>/dev/null || true; done
for n in 1 2 3; do wait "${proxy_pid[$n]}" 2>/dev/null || true; done

say "results"
python3 "$here/verify.py" "$OUT" "$CHARGERS"
"$BIN" check --merge "$OUT"/proxy-*.jsonl --fail-on none --format json -o "$OUT/merged-report.json" 2>&1 | tail -1
