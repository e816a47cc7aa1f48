# A throwaway PostgreSQL cluster for the tests, run as an unprivileged user.
#
# Source this file, then call `postgres_start`: it installs Debian's PostgreSQL when
# missing, creates a cluster in a temporary folder owned by `nobody`, listens on
# 127.0.0.1 on a free port (password authentication, so the wrong-password test is
# real) and exports FAQBOT_TEST_DATABASE_URL plus FAQBOT_TEST_PG_CTL (the tests stop
# and start the server for the fault tests). `postgres_stop` removes it all; .ci/run
# calls it from a trap. For local development:
#
#     source .ci/postgres.sh && postgres_start && .venv/bin/pytest tests/test_store_pg.py
#     postgres_stop

postgres_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    return 1
}

postgres_start() {
    local bin port user password
    if ! bin=$(postgres_bin); then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
            postgresql >/dev/null
        bin=$(postgres_bin)
    fi
    user=nobody
    FAQBOT_PG_DIR=$(mktemp -d /tmp/faqbot-pg.XXXXXX)
    chmod 0755 "$FAQBOT_PG_DIR"
    password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
    printf '%s\n' "$password" >"$FAQBOT_PG_DIR/pwfile"
    chown -R "$user" "$FAQBOT_PG_DIR"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    runuser -u "$user" -- "$bin/initdb" -D "$FAQBOT_PG_DIR/data" -U faqbot \
        --pwfile="$FAQBOT_PG_DIR/pwfile" --auth=scram-sha-256 -E UTF8 --no-instructions >/dev/null
    rm -f "$FAQBOT_PG_DIR/pwfile"
    cat >>"$FAQBOT_PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$FAQBOT_PG_DIR'
fsync = off
max_connections = 200
CONF
    FAQBOT_TEST_PG_CTL="runuser -u $user -- $bin/pg_ctl -D $FAQBOT_PG_DIR/data -w -l $FAQBOT_PG_DIR/log"
    $FAQBOT_TEST_PG_CTL start >/dev/null
    export FAQBOT_PG_DIR FAQBOT_TEST_PG_CTL
    export FAQBOT_TEST_DATABASE_URL="postgresql://faqbot:$password@127.0.0.1:$port/postgres"
    echo "PostgreSQL for the tests on 127.0.0.1:$port ($FAQBOT_PG_DIR)"
}

postgres_stop() {
    if [ -n "${FAQBOT_PG_DIR:-}" ] && [ -d "$FAQBOT_PG_DIR" ]; then
        $FAQBOT_TEST_PG_CTL stop -m immediate >/dev/null 2>&1 || true
        rm -rf "$FAQBOT_PG_DIR"
    fi
}
