#!/usr/bin/env bash
# Start the scaled layout on this machine (`make scale-up`), every server on loopback:
#   PostgreSQL (tracker store + condition store) and Redis (lock store), unless SCALE_LOCAL_SERVICES=0;
#   the condition store built into PostgreSQL; two action servers; two Rasa servers reading
#   deploy/endpoints.scaled.yml; nginx in front (deploy/nginx.conf.template).
# Settings: scripts/scale-env.sh (all overridable from the environment). Idempotent: what is already
# running is left alone, so it also restarts a server that died. `make scale-down` stops everything.
# SCALE_ONLY="postgresql redis" (either or both) starts only those services.
# Security (README, "Security"): generated passwords (PostgreSQL with scram-sha-256 for every
# connection, Redis with requirepass), files private to this user, no Rasa HTTP API, and nginx
# passing only the chat channels and /health, with a per-address rate limit.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/scale-env.sh

fail() { echo "scale-up: $*" >&2; exit 1; }
mkdir -p "$RUN_DIR" "$LOG_DIR" "$NGINX_PREFIX/logs" "$NGINX_PREFIX/tmp"
# PostgreSQL (as the postgres user) must reach its folders, nginx's workers (as nobody) their temp files.
chmod 711 "$SCALE_DIR" "$NGINX_PREFIX"
chmod 755 "$NGINX_PREFIX/tmp"
[ -f "$RASA_MODEL" ] || fail "no model at $RASA_MODEL: run \`make train\` first"
[ -x .venv/bin/rasa ] || fail "no .venv: run \`make venv\` first"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[ -x "$NGINX" ] || fail "nginx is not installed: run \`make scale-prereqs\`"

start_postgres() {
  [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || fail "PostgreSQL is not installed: run \`make scale-prereqs\`"
  mkdir -p "$PG_SOCKET" "$PG_DATA"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_SOCKET" "$PG_DATA" && chmod 700 "$PG_DATA"
  local superuser_pw
  superuser_pw="$(secret postgres-password)"
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    # Every connection, local socket included, needs a password (never `trust`).
    # (initdb reads the password from a file that only the postgres user can read, removed right after.)
    printf '%s\n' "$superuser_pw" | as_postgres sh -c 'umask 077; cat >"$1"' _ "$PG_SOCKET/initdb-pw"
    as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --no-locale --pwfile="$PG_SOCKET/initdb-pw" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 >"$LOG_DIR/initdb.log" 2>&1 \
      || { rm -f "$PG_SOCKET/initdb-pw"; cat "$LOG_DIR/initdb.log" >&2; fail "initdb failed"; }
    rm -f "$PG_SOCKET/initdb-pw"
  fi
  if ! as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 \
      -o "-h $TRACKER_DB_HOST -p $TRACKER_DB_PORT -k $PG_SOCKET -N 200 -c log_min_error_statement=panic" start >/dev/null \
      || { tail -20 "$PG_DATA/server.log" >&2; fail "PostgreSQL did not start"; }
    echo "postgresql on $TRACKER_DB_HOST:$TRACKER_DB_PORT (data: $PG_DATA)"
  fi
  if grep -Eq '^[^#].*[[:space:]]trust[[:space:]]*$' "$PG_DATA/pg_hba.conf"; then
    # A data folder made by an earlier version with `trust`: give postgres a password, then require it.
    as_postgres env PGPASSWORD="$superuser_pw" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET" -p "$TRACKER_DB_PORT" \
      -U postgres -d postgres -v pw="$superuser_pw" <<<"SELECT format('ALTER ROLE postgres PASSWORD %L', :'pw') \gexec" >/dev/null
    as_postgres sed -i -E 's/^([^#].*[[:space:]])trust[[:space:]]*$/\1scram-sha-256/' "$PG_DATA/pg_hba.conf"
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" reload >/dev/null
  fi
  # The application's role and its two databases (idempotent).
  as_postgres env PGPASSWORD="$superuser_pw" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET" -p "$TRACKER_DB_PORT" -U postgres -d postgres \
    -v user="$TRACKER_DB_USER" -v pw="$TRACKER_DB_PASSWORD" -v tdb="$TRACKER_DB_NAME" -v cdb="$CONDITION_DB_NAME" <<'SQL' >/dev/null
SELECT format('CREATE ROLE %I LOGIN', :'user') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'user', :'pw') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'tdb', :'user') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'tdb') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'cdb', :'user') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'cdb') \gexec
SQL
}

redis_ping() {
  REDISCLI_AUTH="$LOCK_STORE_PASSWORD" redis-cli --no-auth-warning -h "$LOCK_STORE_HOST" -p "$LOCK_STORE_PORT" ping | grep -qx PONG
}

start_redis() {
  command -v redis-server >/dev/null || fail "Redis is not installed: run \`make scale-prereqs\`"
  live_pid "$RUN_DIR/redis.pid" >/dev/null && return 0
  mkdir -p "$SCALE_DIR/redis"
  # A lock store only: nothing is written to disk. The password goes in a private file, not argv.
  printf 'requirepass "%s"\n' "$LOCK_STORE_PASSWORD" >"$SCALE_DIR/redis/redis.conf"
  redis-server "$SCALE_DIR/redis/redis.conf" --bind "$LOCK_STORE_HOST" --port "$LOCK_STORE_PORT" --save '' --appendonly no \
    --daemonize yes --pidfile "$RUN_DIR/redis.pid" --logfile "$LOG_DIR/redis.log" --dir "$SCALE_DIR/redis"
  for _ in $(seq 1 100); do redis_ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis_ping >/dev/null || fail "Redis did not start (see $LOG_DIR/redis.log)"
  echo "redis on $LOCK_STORE_HOST:$LOCK_STORE_PORT"
}

# Start a server in its own session (so `scale-down` can stop its whole process group by pid).
start_server() {
  local name="$1"; shift
  if live_pid "$RUN_DIR/$name.pid" >/dev/null; then echo "$name is already running"; return 0; fi
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$name.pid"
}

# Wait until `curl URL` succeeds (and, when given, its body contains TEXT); fail if PIDFILE's process died.
wait_for() {
  local name="$1" url="$2" text="${3:-}" deadline=$((SECONDS + SCALE_START_TIMEOUT)) body
  while [ $SECONDS -lt $deadline ]; do
    if body="$(curl -fsS --max-time 5 "$url" 2>/dev/null)" && [[ "$body" == *"$text"* ]]; then return 0; fi
    if [ -e "$RUN_DIR/$name.pid" ] && ! live_pid "$RUN_DIR/$name.pid" >/dev/null; then
      tail -n 30 "$LOG_DIR/$name.log" >&2; fail "$name exited during start-up (log: $LOG_DIR/$name.log)"
    fi
    sleep 1
  done
  tail -n 30 "$LOG_DIR/$name.log" >&2 2>/dev/null; fail "$name did not answer at $url within ${SCALE_START_TIMEOUT} s"
}

if [ -n "${SCALE_ONLY:-}" ]; then
  # Start only these services of a running layout ("postgresql", "redis"): after `SCALE_ONLY=...
  # scale-down.sh` stopped them (tests/scale/test_outage.py: a database restart under load).
  for service in $SCALE_ONLY; do
    case "$service" in
      postgresql) start_postgres ;;
      redis) start_redis ;;
      *) fail "SCALE_ONLY: no service named $service (postgresql, redis)" ;;
    esac
  done
  exit 0
fi

if [ "$SCALE_LOCAL_SERVICES" = 1 ]; then
  start_postgres
  start_redis
fi

echo "building the condition store in PostgreSQL ($CONDITION_DB_NAME)"
.venv/bin/python -m bot build-store >"$LOG_DIR/build-store.log" 2>&1 \
  || { tail -n 5 "$LOG_DIR/build-store.log" >&2; fail "building the condition store failed (DATABASE_URL; log: $LOG_DIR/build-store.log)"; }

i=0
for port in $ACTION_PORTS; do
  i=$((i + 1))
  start_server "action-$i" env SANIC_HOST="$SCALE_HOST" SANIC_REQUEST_MAX_SIZE="$ACTION_MAX_BODY" \
    .venv/bin/python -m actions --actions actions --port "$port"
done
i=0
for port in $RASA_PORTS; do
  i=$((i + 1))
  start_server "rasa-$i" env SECRETS_DIR="$SECRETS_DIR" SANIC_REQUEST_MAX_SIZE="$RASA_MAX_BODY" \
    .venv/bin/python -m bot.rasa run --cors "*" --interface "$SCALE_HOST" --port "$port" \
    --credentials "${RASA_CREDENTIALS:-credentials.yml}" --endpoints "$RASA_ENDPOINTS" --model "$RASA_MODEL"
done

# nginx: render the template, check it, start (or reload) it.
upstream_lines() { for port in $1; do printf '        server %s:%s max_fails=1 fail_timeout=10s;\n' "$SCALE_HOST" "$port"; done; }
conf="$(cat deploy/nginx.conf.template)"
conf="${conf//@PREFIX@/$NGINX_PREFIX}"
conf="${conf//@LB_HOST@/$SCALE_HOST}"
conf="${conf//@LB_PORT@/$LB_PORT}"
conf="${conf//@ACTION_LB_PORT@/$ACTION_LB_PORT}"
conf="${conf//@LB_RATE@/$LB_RATE}"
conf="${conf//@LB_BURST@/$LB_BURST}"
conf="${conf//@ACTION_MAX_BODY@/$ACTION_MAX_BODY}"
conf="${conf//@RASA_SERVERS@/$(upstream_lines "$RASA_PORTS")}"
conf="${conf//@ACTION_SERVERS@/$(upstream_lines "$ACTION_PORTS")}"
printf '%s\n' "$conf" >"$NGINX_PREFIX/nginx.conf"
nginx_cmd=("$NGINX" -p "$NGINX_PREFIX" -c "$NGINX_PREFIX/nginx.conf" -e "$NGINX_PREFIX/logs/error.log")
"${nginx_cmd[@]}" -t -q || fail "nginx configuration rejected ($NGINX_PREFIX/nginx.conf)"
if live_pid "$NGINX_PREFIX/nginx.pid" >/dev/null; then "${nginx_cmd[@]}" -s reload; else "${nginx_cmd[@]}"; fi

i=0
for port in $ACTION_PORTS; do i=$((i + 1)); wait_for "action-$i" "http://$SCALE_HOST:$port/health" '"ok"'; done
i=0
for port in $RASA_PORTS; do i=$((i + 1)); wait_for "rasa-$i" "http://$SCALE_HOST:$port/webhooks/rest/" '"ok"'; done
wait_for nginx "http://$SCALE_HOST:$LB_PORT/health" '"ok"'

cat <<MSG
scaled layout up:
  clients (REST /webhooks/rest/webhook with the token in $SECRETS_DIR/rest-token, socket.io /socket.io/): http://$SCALE_HOST:$LB_PORT
  Rasa servers: $RASA_PORTS   action servers: $ACTION_PORTS (behind http://$SCALE_HOST:$ACTION_LB_PORT)
  tracker store: postgresql $TRACKER_DB_HOST:$TRACKER_DB_PORT/$TRACKER_DB_NAME   lock store: redis $LOCK_STORE_HOST:$LOCK_STORE_PORT/$LOCK_STORE_DB
  logs: $LOG_DIR   stop: make scale-down
MSG
