#!/usr/bin/env bash
# secdispatch lb against haproxy 2.6 in TCP mode, in the same run, to the same backend.
#
#   bench/lb.sh [CONNECTIONS] [CONCURRENCY] [BULK_MIB] [ROUNDS]
#
# Five paths to one backend process (crates/server/examples/lb_bench.rs, which runs the
# gateway's front end and then counts the client's bytes; no TLS, so handshakes do not
# hide the load balancer):
#   direct      client → backend (no header): the baseline for added latency
#   lb-tlslb    client → secdispatch lb, TLS-LB proxy_header (sealed, answered) → backend
#   lb-proxyv2  client → secdispatch lb, PROXY v2 with CRC32C → backend
#   haproxy     client → haproxy 2.6 (mode tcp, nbthread 1), send-proxy-v2 crc32c → backend
#   haproxy-smart  the same with `option tcp-smart-accept` and `option tcp-smart-connect`
#               (delayed ACKs at connection start, as our lb's default `delayed_acks`)
# Each load balancer is pinned to CPU 1 (taskset); load generator and backend share CPU 0.
# Every client connection has the shape of a TLS one: a real ClientHello, then it waits
# for the backend's first flight (128 bytes, as a TLS client waits for the ServerHello),
# half-closes and waits for the backend's byte count. Each load balancer's CPU time
# (user + system, from /proc) is reported per connection and per GiB moved; SPLICE=off
# runs secdispatch lb without splice(2). Per round and path: new connections/s and whole-connection
# latency p50/p99 (CONNECTIONS at CONCURRENCY), then one BULK_MIB upload (MiB/s); each round
# starts at another path. Medians of ROUNDS rounds at the end, then each of our paths
# against haproxy (and haproxy-smart) as the median of the per-round ratios. Installs haproxy from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
C=${2:-32}
MIB=${3:-2048}
ROUNDS=${4:-3}
TARGET=${CARGO_TARGET_DIR:-target}
SPLICE=${SPLICE:-auto}   # secdispatch lb's `splice` setting: auto or off
cargo build --release -q -p secdispatch-cli
cargo build --release -q -p secdispatch-server --example lb_bench
BIN=$TARGET/release/secdispatch
TOOL=$TARGET/release/examples/lb_bench
command -v haproxy >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; }
# Many short connections: allow reuse of ports in TIME_WAIT and widen the ephemeral range
# for the run (ignored where not permitted); both are put back on exit, since a wide range
# lets connections take the fixed ports other benchmarks listen on.
OLD_TW=$(sysctl -n net.ipv4.tcp_tw_reuse 2>/dev/null || true)
OLD_RANGE=$(sysctl -n net.ipv4.ip_local_port_range 2>/dev/null | tr -s '\t ' ' ' || true)
sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="20000 65000" 2>/dev/null || true

W=$(mktemp -d /tmp/sd-bench-lb.XXXXXX)
cleanup() {
    kill $(jobs -p) 2>/dev/null || true
    rm -rf "$W"
    [ -n "$OLD_TW" ] && sysctl -qw net.ipv4.tcp_tw_reuse="$OLD_TW" 2>/dev/null || true
    [ -n "$OLD_RANGE" ] && sysctl -qw net.ipv4.ip_local_port_range="$OLD_RANGE" 2>/dev/null || true
}
trap cleanup EXIT

TLSLB=19001; PROXY=19002; PLAIN=19003; SD_TLSLB=19000; SD_PROXY=19005; HAP=19010; HAPS=19011
"$BIN" -q --data-dir "$W/a" lb keygen --out "$W/keys" >/dev/null
taskset -c 0 "$TOOL" backend --keys "$W/keys" --tlslb 127.0.0.1:$TLSLB --proxy 127.0.0.1:$PROXY --plain 127.0.0.1:$PLAIN >/dev/null &
BACKEND=$!

declare -A PID
for spec in "a $SD_TLSLB tls-lb $TLSLB 19090" "b $SD_PROXY proxy-v2 $PROXY 19091"; do
    set -- $spec
    cat > "$W/$1.toml" <<CONF
[log]
level = "warn"
[admin]
listen = "127.0.0.1:$5"
[lb]
listen = "127.0.0.1:$2"
header = "$3"
key_file = "$W/keys"
splice = "$SPLICE"
[[lb.pools]]
backends = ["127.0.0.1:$4"]
CONF
    # One thread on one CPU, as haproxy runs with nbthread 1 (with TOKIO_WORKER_THREADS=1
    # secdispatch runs tokio's single-threaded scheduler).
    TOKIO_WORKER_THREADS=1 taskset -c 1 "$BIN" -q --config "$W/$1.toml" --data-dir "$W/$1" lb >/dev/null &
    PID[$1]=$!
done

cat > "$W/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 8000
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend f
  bind 127.0.0.1:$HAP
  default_backend b
backend b
  server s 127.0.0.1:$PROXY send-proxy-v2 proxy-v2-options crc32c
CONF
taskset -c 1 haproxy -db -f "$W/haproxy.cfg" >/dev/null 2>&1 &
PID[hap]=$!
sed -e "s/:$HAP\$/:$HAPS/" -e 's/^defaults$/defaults\n  option tcp-smart-accept\n  option tcp-smart-connect/' "$W/haproxy.cfg" > "$W/haproxy-smart.cfg"
taskset -c 1 haproxy -db -f "$W/haproxy-smart.cfg" >/dev/null 2>&1 &
PID[haps]=$!
# CPU time (user + system, in clock ticks) a load balancer process has used so far.
ticks() { [ -n "$1" ] && awk '{print $14 + $15}' "/proc/$1/stat" || echo 0; }
HZ=$(getconf CLK_TCK)

for port in $TLSLB $SD_TLSLB $SD_PROXY $HAP $HAPS; do
    up=""
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && { up=1; break; }; sleep 0.1; done
    [ -n "$up" ] || { echo "nothing listens on 127.0.0.1:$port (a process failed to start)" >&2; exit 1; }
done
sleep 1
# A port answered by a leftover process of an earlier run would be measured instead of ours.
for pid in $BACKEND "${PID[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a process of this run exited at start (ports taken by an earlier run?)" >&2; exit 1; }
done

declare -A PORT=([direct]=$PLAIN [lb-tlslb]=$SD_TLSLB [lb-proxyv2]=$SD_PROXY [haproxy]=$HAP [haproxy-smart]=$HAPS)
declare -A LB=([direct]="" [lb-tlslb]=${PID[a]} [lb-proxyv2]=${PID[b]} [haproxy]=${PID[hap]} [haproxy-smart]=${PID[haps]})
PATHS="direct lb-tlslb lb-proxyv2 haproxy haproxy-smart"
printf '%-6s %-13s %12s %9s %9s %9s %12s %12s\n' round path conn/s p50_us p99_us MiB/s lb_us/conn lb_ms/GiB
for r in $(seq "$ROUNDS"); do
    # Each round starts at a different path, so that no path always runs first or last
    # (TIME_WAIT sockets and the host's noise build up over a round).
    P=($PATHS)
    k=$(( (r - 1) % ${#P[@]} ))
    ORDER="${P[*]:k} ${P[*]:0:k}"
    for p in $ORDER; do
        t0=$(ticks "${LB[$p]}")
        c=$(taskset -c 0 "$TOOL" connect --target 127.0.0.1:${PORT[$p]} --connections "$N" --concurrency "$C")
        t1=$(ticks "${LB[$p]}")
        b=$(taskset -c 0 "$TOOL" bulk --target 127.0.0.1:${PORT[$p]} --megabytes "$MIB")
        t2=$(ticks "${LB[$p]}")
        # The load balancer's CPU per connection (µs) and per GiB moved (ms); 0 for direct.
        us_conn=$(( (t1 - t0) * 1000000 / HZ / N ))
        ms_gib=$(( (t2 - t1) * 1000 * 1024 / HZ / MIB ))
        rate=$(sed -E 's/.*conn_per_s=([0-9]+).*/\1/' <<<"$c")
        p50=$(sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$c")
        p99=$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$c")
        failed=$(sed -E 's/.*failed=([0-9]+).*/\1/' <<<"$c")
        mibs=$(sed -E 's/.*mib_per_s=([0-9]+).*/\1/' <<<"$b")
        [ "$failed" = 0 ] || echo "warning: $failed failed connections on $p" >&2
        printf '%-6s %-13s %12s %9s %9s %9s %12s %12s\n' "$r" "$p" "$rate" "$p50" "$p99" "$mibs" "$us_conn" "$ms_gib" | tee -a "$W/results"
        sleep 2
    done
done
echo
echo "medians:"
for p in $PATHS; do
    awk -v p="$p" '$2==p {print $3, $4, $5, $6, $7, $8}' "$W/results" | python3 -c '
import sys, statistics
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
cols = list(zip(*rows))
print("  %-13s conn/s %8.0f  p50 %6.0f us  p99 %6.0f us  %6.0f MiB/s  lb %4.0f us/conn %5.0f ms/GiB" % ((sys.argv[1],) + tuple(statistics.median(c) for c in cols)))
' "$p"
done
echo
echo "against haproxy and haproxy-smart, paired by round (median of each round's ratio: the paths"
echo "of one round ran minutes apart at most, so the host's drift cancels better than in a ratio of"
echo "medians):"
python3 - "$W/results" <<'PY'
import sys, statistics
rounds = {}
for line in open(sys.argv[1]):
    f = line.split()
    rounds.setdefault(f[0], {})[f[1]] = (float(f[2]), float(f[5]))
for peer in ("haproxy", "haproxy-smart"):
    for path in ("lb-tlslb", "lb-proxyv2"):
        both = [r for r in rounds.values() if path in r and peer in r]
        conn = [r[path][0] / r[peer][0] for r in both]
        bulk = [r[path][1] / r[peer][1] for r in both]
        print("  %-11s vs %-13s conn/s %.2fx (rounds %s)  bulk %.2fx" % (
            path, peer, statistics.median(conn), " ".join("%.2f" % c for c in conn), statistics.median(bulk)))
PY
