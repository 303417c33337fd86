# Start throw-away service instances for the service-backed tests (sourced by .ci/run,
# usable by hand: `source .ci/services.sh && start_postgres`). Data lives in a temp dir
# and every server is stopped by stop_services (installed as an EXIT trap by .ci/run).

SD_SERVICES_DIR="${SD_SERVICES_DIR:-$(mktemp -d /tmp/secdispatch-ci.XXXXXX)}"
chmod 755 "$SD_SERVICES_DIR"

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# PostgreSQL on 127.0.0.1:$SD_PG_PORT, trust auth, run as the postgres system user.
start_postgres() {
    apt_install postgresql
    local bindir
    bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
    local data="$SD_SERVICES_DIR/pg"
    export SD_PG_PORT="${SD_PG_PORT:-54329}"
    mkdir -p "$data" && chown postgres:postgres "$data"
    runuser -u postgres -- "$bindir/initdb" -D "$data" -U postgres --auth=trust >/dev/null
    runuser -u postgres -- "$bindir/pg_ctl" -D "$data" -l "$data/log" -w \
        -o "-p $SD_PG_PORT -k $data -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" start >/dev/null
    runuser -u postgres -- psql -h 127.0.0.1 -p "$SD_PG_PORT" -U postgres -qc "CREATE DATABASE secdispatch_test" >/dev/null
    export SECDISPATCH_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$SD_PG_PORT/secdispatch_test"
    echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$SD_PG_PORT"
}

stop_services() {
    local bindir
    if [ -f "$SD_SERVICES_DIR/redis.pid" ]; then
        kill "$(cat "$SD_SERVICES_DIR/redis.pid")" 2>/dev/null || true
    fi
    if [ -d "$SD_SERVICES_DIR/pg" ]; then
        bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
        runuser -u postgres -- "$bindir/pg_ctl" -D "$SD_SERVICES_DIR/pg" -m fast stop >/dev/null 2>&1 || true
    fi
    rm -rf "$SD_SERVICES_DIR"
}

# Redis on 127.0.0.1:$SD_REDIS_PORT, no persistence.
start_redis() {
    apt_install redis-server
    export SD_REDIS_PORT="${SD_REDIS_PORT:-63799}"
    redis-server --port "$SD_REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize yes --pidfile "$SD_SERVICES_DIR/redis.pid" --logfile "$SD_SERVICES_DIR/redis.log"
    for _ in $(seq 1 50); do redis-cli -p "$SD_REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    export SECDISPATCH_TEST_REDIS_URL="redis://127.0.0.1:$SD_REDIS_PORT/0"
    echo "Redis $(redis-server --version | awk '{print $3}') on 127.0.0.1:$SD_REDIS_PORT"
}
