#!/usr/bin/env bash
# Gateway throughput and latency against nginx as a TLS-terminating reverse proxy, in the
# same run, to the same backend (an nginx worker answering a small static body).
#
#   bench/gateway.sh [DURATION_SECONDS] [CONNECTIONS] [ROUNDS]
#   WORKERS=N bench/gateway.sh ...   # event loops of each proxy (default 1)
#
# Both proxies: TLS 1.3, keep-alive, the same ECDSA P-256 certificate, access logs off,
# WORKERS event loops each (nginx `worker_processes`, secdispatch `[gateway] workers`).
# secdispatch additionally strips and sets forwarding fields and signs every forwarded
# request with RFC 9421 (ed25519); nginx only proxies. wrk (1 thread) drives each proxy in
# turn, ROUNDS times alternating; the table shows each round and the medians. Besides
# requests/s and p99 it shows each proxy's CPU time per request (user + system of the proxy
# processes only, from /proc, over the run): on a shared 2-core VM throughput moves by ±20%
# between runs, CPU per request much less. The backend runs in its own nginx instance so
# that its CPU is not counted for either proxy.
# Installs nginx and wrk from Debian when missing. Needs a release build
# (cargo build --release -p secdispatch-cli).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
CONNS=${2:-32}
ROUNDS=${3:-3}
WORKERS=${WORKERS:-1}
BIN=${SECDISPATCH_BIN:-target/release/secdispatch}
[ -x "$BIN" ] || { echo "build first: cargo build --release -p secdispatch-cli" >&2; exit 1; }
for p in nginx wrk; do
    command -v "$p" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null; }
done

W=$(mktemp -d /tmp/sd-bench-gw.XXXXXX)
cleanup() {
    kill $(jobs -p) 2>/dev/null || true
    for p in "$W/nginx.pid" "$W/backend.pid"; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT

BACKEND=18091; NGINX_TLS=18443; SD_TLS=18444; SD_ADMIN=18445
# A classical PKI both proxies load.
"$BIN" -q --data-dir "$W/data" ca init --alg ecdsa-p256-sha256 --subject "CN=bench root" -o "$W/root.pem"
"$BIN" -q --data-dir "$W/data" ca issue --subject CN=localhost --san DNS:localhost --key-out "$W/server.key" -o "$W/server.pem"

cat > "$W/backend.conf" <<CONF
worker_processes 1;
pid $W/backend.pid;
error_log $W/backend-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    server { listen 127.0.0.1:$BACKEND; location / { return 200 "ok\n"; } }
}
CONF
nginx -c "$W/backend.conf"
cat > "$W/nginx.conf" <<CONF
worker_processes $WORKERS;
pid $W/nginx.pid;
error_log $W/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    upstream backend { server 127.0.0.1:$BACKEND; keepalive 64; }
    server {
        listen 127.0.0.1:$NGINX_TLS ssl;
        ssl_protocols TLSv1.3;
        ssl_certificate $W/server.pem;
        ssl_certificate_key $W/server.key;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$remote_addr;
        }
    }
}
CONF
nginx -c "$W/nginx.conf"

cat > "$W/sd.toml" <<CONF
[log]
level = "warn"
[gateway]
listen = "127.0.0.1:$SD_TLS"
workers = $WORKERS
[[gateway.certificates]]
cert = "$W/server.pem"
key = "$W/server.key"
[[gateway.routes]]
path_prefix = "/"
upstreams = ["http://127.0.0.1:$BACKEND"]
CONF
"$BIN" --config "$W/sd.toml" --data-dir "$W/data" gateway --admin "127.0.0.1:$SD_ADMIN" > "$W/sd.log" 2>&1 &
SD_PID=$!
for _ in $(seq 1 100); do curl -sk "https://localhost:$SD_TLS/" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sk "https://localhost:$SD_TLS/" | grep -q ok || { echo "gateway did not come up"; cat "$W/sd.log"; exit 1; }

# CPU clock ticks (user + system) of a proxy: our process, or nginx's master and workers.
ticks() {
    local pids
    if [ "$1" = secdispatch ]; then pids=$SD_PID; else
        pids="$(cat "$W/nginx.pid") $(pgrep -P "$(cat "$W/nginx.pid")" | tr '\n' ' ')"
    fi
    for p in $pids; do awk '{print $14 + $15}' "/proc/$p/stat"; done | awk '{s += $1} END {print s}'
}
HZ=$(getconf CLK_TCK)
run() { # name port
    local t0 t1 rps p99 n
    t0=$(ticks "$1")
    wrk -t1 -c"$CONNS" -d"${DUR}s" --latency "https://localhost:$2/" > "$W/$1.out"
    t1=$(ticks "$1")
    rps=$(awk '/Requests\/sec/ {print $2}' "$W/$1.out")
    p99=$(awk '$1=="99%" {print $2}' "$W/$1.out")
    n=$(awk '/requests in/ {print $1}' "$W/$1.out")
    echo "$1 $rps $p99 $(awk -v d=$((t1 - t0)) -v n="$n" -v hz="$HZ" 'BEGIN {printf "%.1f", d * 1e6 / hz / n}')"
}
echo "round  proxy        requests/s   p99      CPU µs/request"
: > "$W/results"
for r in $(seq 1 "$ROUNDS"); do
    for proxy in "secdispatch $SD_TLS" "nginx $NGINX_TLS"; do
        set -- $proxy
        line=$(run "$1" "$2")
        echo "$r $line" >> "$W/results"
        printf "%-6s %-12s %-12s %-8s %s\n" "$r" $line
    done
done
python3 - "$W/results" <<'PY'
import sys, statistics
rows=[l.split() for l in open(sys.argv[1])]
def ms(v):
    v=v.strip()
    for suf,mul in (("us",0.001),("ms",1.0),("s",1000.0)):
        if v.endswith(suf): return float(v[:-len(suf)])*mul
    return float(v)
med={}
for name in ("secdispatch","nginx"):
    rps=[float(r[2]) for r in rows if r[1]==name]
    p99=[ms(r[3]) for r in rows if r[1]==name]
    cpu=[float(r[4]) for r in rows if r[1]==name]
    med[name]=(statistics.median(rps), statistics.median(p99), statistics.median(cpu))
    print(f"median {name:<12} {med[name][0]:>10.0f} req/s   p99 {med[name][1]:.2f} ms   CPU {med[name][2]:.1f} µs/request")
print(f"ratio secdispatch/nginx throughput: {med['secdispatch'][0]/med['nginx'][0]:.2f}")
print(f"ratio secdispatch/nginx CPU per request: {med['secdispatch'][2]/med['nginx'][2]:.2f}")
PY
