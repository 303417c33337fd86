#!/usr/bin/env bash
# Lifecycle ingest throughput against tshark, in the same run, on one core.
#
#   bench/lifecycle-ingest.sh [TARGET_MB] [ROUNDS]
#
# Builds a capture of at least TARGET_MB (default 1024) MB in a temporary directory (never
# in the repository) by concatenating the largest shared capture
# (../shared/data/lifecycle/beacon-tls-2s.pcap, GPL: read, never copied here) with one pcap
# header and each copy's timestamps shifted past the previous one, so the result is one
# valid, time-ordered capture of a long beacon. Then, pinned to CPU 0 with taskset, ROUNDS
# times alternating:
#   ours:   lifecycle analysis of BIG.pcap, JSON report to /dev/null (full analysis)
#   tshark: tshark -n -r BIG.pcap -q -z conv,tcp                   (-n: no name lookups, which
#           only makes tshark faster; this machine has no DNS)
# and prints MB/s, packets/s and peak RSS (GNU time) for each, the medians and the ratios.
# "ours" is the crate's `ingest` example (the same Session and JSON report as the CLI,
# built in seconds: cargo build --release -p secdispatch-lifecycle --example ingest); set
# SECDISPATCH_BIN=target/release/secdispatch to time the full binary instead.
# Installs tshark from Debian when missing; runs tshark as root as the container does.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET_MB=${1:-1024}
ROUNDS=${2:-3}
TARGET=${CARGO_TARGET_DIR:-target}
SRC=${SECDISPATCH_SHARED_DATA:-../shared/data}/lifecycle/beacon-tls-2s.pcap
if [ -n "${SECDISPATCH_BIN:-}" ]; then
    OURS_CMD=("$SECDISPATCH_BIN" -q lifecycle analyze --format json --no-progress)
else
    cargo build --release -q -p secdispatch-lifecycle --example ingest
    OURS_CMD=("$TARGET/release/examples/ingest")
fi
[ -f "$SRC" ] || { echo "shared capture not found: $SRC" >&2; exit 1; }
command -v tshark >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null; }
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
command -v python3 >/dev/null || { echo "python3 is needed to build the capture" >&2; exit 1; }

W=$(mktemp -d /tmp/sd-bench-lc.XXXXXX)
trap 'rm -rf "$W"' EXIT
BIG="$W/big.pcap"

PACKETS=$(python3 - "$SRC" "$BIG" "$TARGET_MB" <<'EOF'
import struct, sys
src, dst, target_mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, 'rb').read()
magic = data[:4]
endian = '<' if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
recs, pos = [], 24
while pos + 16 <= len(data):
    ts, frac, incl, orig = struct.unpack(endian + 'IIII', data[pos:pos + 16])
    recs.append((ts, data[pos + 4:pos + 16], data[pos + 16:pos + 16 + incl]))
    pos += 16 + incl
span = recs[-1][0] - recs[0][0] + 10
copies = -(-target_mb * 1_000_000 // len(data))
with open(dst, 'wb') as out:
    out.write(data[:24])
    for k in range(copies):
        shift = k * span
        out.write(b''.join(struct.pack(endian + 'I', ts + shift) + rest + body for ts, rest, body in recs))
print(len(recs) * copies)
EOF
)
SIZE=$(stat -c %s "$BIG")
MB=$(python3 -c "print(round($SIZE/1e6, 1))")
echo "capture: $BIG, $MB MB, $PACKETS packets ($(basename "$SRC") repeated, timestamps shifted)"

# run NAME CMD...: prints "seconds maxrss_kb"
measure() {
    local log="$W/time.$1"; shift
    taskset -c 0 /usr/bin/time -f "%e %M" -o "$log" "$@" >/dev/null 2>"$W/err" || {
        local rc=$?
        # exit 3 from secdispatch means "records skipped": still a completed run
        [ "$rc" = 3 ] || { echo "failed ($rc): $*" >&2; cat "$W/err" >&2; exit 1; }
    }
    tail -1 "$log"
}

declare -a OURS THEIRS OURS_RSS THEIRS_RSS
printf '%-6s %-8s %10s %10s %14s %12s\n' round tool seconds MB/s packets/s peak_RSS_MB
for r in $(seq 1 "$ROUNDS"); do
    read -r s m < <(measure ours "${OURS_CMD[@]}" "$BIG")
    OURS+=("$s"); OURS_RSS+=("$m")
    printf '%-6s %-8s %10s %10.1f %14.0f %12.1f\n' "$r" ours "$s" "$(python3 -c "print($SIZE/1e6/max($s,0.01))")" "$(python3 -c "print($PACKETS/max($s,0.01))")" "$(python3 -c "print($m/1024)")"
    read -r s m < <(measure tshark tshark -n -r "$BIG" -q -z conv,tcp)
    THEIRS+=("$s"); THEIRS_RSS+=("$m")
    printf '%-6s %-8s %10s %10.1f %14.0f %12.1f\n' "$r" tshark "$s" "$(python3 -c "print($SIZE/1e6/max($s,0.01))")" "$(python3 -c "print($PACKETS/max($s,0.01))")" "$(python3 -c "print($m/1024)")"
done
python3 - "$SIZE" "$PACKETS" "${OURS[*]}" "${THEIRS[*]}" "${OURS_RSS[*]}" "${THEIRS_RSS[*]}" <<'EOF'
import statistics, sys
size, packets = int(sys.argv[1]), int(sys.argv[2])
ours, theirs = [float(x) for x in sys.argv[3].split()], [float(x) for x in sys.argv[4].split()]
ours_rss, theirs_rss = [int(x) for x in sys.argv[5].split()], [int(x) for x in sys.argv[6].split()]
o, t = statistics.median(ours), statistics.median(theirs)
print(f"\nmedian  ours   {o:.2f} s  {size/1e6/o:.1f} MB/s  {packets/o:,.0f} packets/s  peak RSS {max(ours_rss)/1024:.1f} MB")
print(f"median  tshark {t:.2f} s  {size/1e6/t:.1f} MB/s  {packets/t:,.0f} packets/s  peak RSS {max(theirs_rss)/1024:.1f} MB")
print(f"ratio   ours/tshark throughput {t/o:.1f}x   (target: at least 20x)")
EOF
