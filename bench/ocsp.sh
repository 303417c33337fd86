#!/usr/bin/env bash
# secdispatch ocsp serve against nginx serving the same pre-signed DER as a static file,
# in the same run, for the same GET request path.
#
#   bench/ocsp.sh [THREADS] [CONNECTIONS] [SECONDS] [ROUNDS]
#
# A third row, sd-nonce, POSTs a request with a nonce (RFC 9654): signed fresh every time
# (P-256), which is what a nonce costs.
# A P-256 root with sequential serials and one leaf are made in a fresh data directory; the
# responder pre-signs at start. The GET path of a SHA-256 CertID request for the leaf
# (RFC 9919: url-encoded base64, no nonce) is fetched once from the responder and that
# exact DER is written where nginx (1 worker, access_log off, keepalive) serves it for any
# path. wrk then GETs the same path from both over loopback keep-alive connections.
# Each server is pinned to CPU 1 (taskset), wrk to CPU 0. Prints requests/s and latency per
# round, the medians of ROUNDS rounds and the ratio secdispatch / nginx.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:-2}
C=${2:-64}
D=${3:-10}
ROUNDS=${4:-3}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p secdispatch-cli
BIN=$TARGET/release/secdispatch
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
command -v nginx >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }

W=$(mktemp -d /tmp/sd-bench-ocsp.XXXXXX)
cleanup() { kill $(jobs -p) 2>/dev/null || true; [ -f "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

SD=19445; NGX=19446; ADMIN=19096
"$BIN" -q --data-dir "$W/d" ca init --alg ecdsa-p256-sha256 --subject "CN=Bench Root" --sequential-serials --out "$W/root.pem"
"$BIN" -q --data-dir "$W/d" ca issue --ca root --profile client --subject "CN=bench leaf" --key-out "$W/leaf.key" --out "$W/leaf.pem" >/dev/null
openssl ocsp -issuer "$W/root.pem" -sha256 -cert "$W/leaf.pem" -no_nonce -reqout "$W/req.der" >/dev/null
openssl ocsp -issuer "$W/root.pem" -sha256 -cert "$W/leaf.pem" -reqout "$W/req-nonce.der" >/dev/null
cat > "$W/nonce.lua" <<'LUA'
-- POST one request with a nonce: the responder signs every answer afresh (nonce = "sign").
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/ocsp-request"
local f = io.open(os.getenv("REQ"), "rb")
wrk.body = f:read("*all")
f:close()
LUA
REQPATH=/$(python3 -c 'import base64,sys,urllib.parse; print(urllib.parse.quote(base64.b64encode(open(sys.argv[1],"rb").read()).decode(), safe=""))' "$W/req.der")

cat > "$W/sd.toml" <<CONF
[log]
level = "warn"
[admin]
listen = "127.0.0.1:$ADMIN"
[ocsp]
listen = "127.0.0.1:$SD"
CONF
taskset -c 1 "$BIN" -q --config "$W/sd.toml" --data-dir "$W/d" ocsp serve >/dev/null &

mkdir -p "$W/www" "$W/ngx"
chmod 755 "$W" "$W/www"   # nginx workers run as an unprivileged user
cat > "$W/nginx.conf" <<CONF
worker_processes 1;
pid $W/nginx.pid;
error_log $W/ngx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_temp_path $W/ngx; proxy_temp_path $W/ngx; fastcgi_temp_path $W/ngx;
  uwsgi_temp_path $W/ngx; scgi_temp_path $W/ngx;
  server {
    listen 127.0.0.1:$NGX;
    location / { root $W/www; default_type application/ocsp-response; try_files /resp.der =404; }
  }
}
CONF

for port in $SD; do
    up=""
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && { up=1; break; }; sleep 0.1; done
    [ -n "$up" ] || { echo "nothing listens on 127.0.0.1:$port (the responder failed to start)" >&2; exit 1; }
done
sleep 1
curl -sf -o "$W/www/resp.der" "http://127.0.0.1:$SD$REQPATH"
chmod 644 "$W/www/resp.der"
openssl ocsp -respin "$W/www/resp.der" -issuer "$W/root.pem" -sha256 -cert "$W/leaf.pem" -no_nonce -CAfile "$W/root.pem" 2>&1 | grep -q "leaf.pem: good" \
    || { echo "the responder's answer does not verify" >&2; exit 1; }
taskset -c 1 nginx -c "$W/nginx.conf" -p "$W/ngx" 2>/dev/null
sleep 0.5
cmp -s <(curl -sf "http://127.0.0.1:$NGX$REQPATH") "$W/www/resp.der" || { echo "nginx does not serve the same bytes" >&2; exit 1; }
echo "response: $(stat -c %s "$W/www/resp.der") bytes; path ${#REQPATH} bytes; wrk -t$T -c$C -d${D}s"

printf '%-6s %-12s %12s %10s %10s\n' round server req/s p50 p99
for r in $(seq "$ROUNDS"); do
    for s in secdispatch nginx sd-nonce; do
        if [ $s = sd-nonce ]; then
            out=$(REQ="$W/req-nonce.der" taskset -c 0 wrk -t"$T" -c"$C" -d"${D}s" --latency -s "$W/nonce.lua" "http://127.0.0.1:$SD/")
        else
            port=$SD; [ $s = nginx ] && port=$NGX
            out=$(taskset -c 0 wrk -t"$T" -c"$C" -d"${D}s" --latency "http://127.0.0.1:$port$REQPATH")
        fi
        rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
        p50=$(awk '$1=="50%" {print $2}' <<<"$out")
        p99=$(awk '$1=="99%" {print $2}' <<<"$out")
        errs=$(grep -E "Non-2xx|Socket errors" <<<"$out" || true)
        [ -z "$errs" ] || echo "warning ($s): $errs" >&2
        printf '%-6s %-12s %12s %10s %10s\n' "$r" "$s" "$rps" "$p50" "$p99" | tee -a "$W/results" >/dev/null
        printf '%-6s %-12s %12s %10s %10s\n' "$r" "$s" "$rps" "$p50" "$p99"
        sleep 1
    done
done
echo
python3 - "$W/results" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
med = {}
for s in ("secdispatch", "nginx", "sd-nonce"):
    med[s] = statistics.median(float(r[2]) for r in rows if r[1] == s)
    print("median %-12s %10.0f req/s" % (s, med[s]))
print("ratio secdispatch / nginx: %.2f" % (med["secdispatch"] / med["nginx"]))
PY
