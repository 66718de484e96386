#!/usr/bin/env bash
# Stop what scripts/scale-up.sh started (`make scale-down`): nginx, the Rasa servers, the action
# servers, then Redis and PostgreSQL (their data stays in $SCALE_DIR; `make scale-clean` removes it).
# Only processes named in $SCALE_DIR/run/*.pid are stopped. SCALE_KEEP_SERVICES=1 keeps PostgreSQL and Redis;
# SCALE_ONLY="postgresql redis" (either or both) stops only those services.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/scale-env.sh

# TERM the process group a pid file names (each server was started in its own session), KILL after 20 s.
stop_pidfile() {
  local pidfile="$1" pid i
  pid="$(live_pid "$pidfile")" || { rm -f "$pidfile"; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "scale-down: $(basename "$pidfile" .pid) did not stop in 20 s, killing it" >&2
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
  echo "stopped $(basename "$pidfile" .pid)"
}

stop_redis() {
  if pid="$(live_pid "$RUN_DIR/redis.pid")"; then
    kill -TERM "$pid"
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$RUN_DIR/redis.pid"
    echo "stopped redis"
  fi
}
stop_postgres() {
  if [ -f "$PG_DATA/postmaster.pid" ] && [ -n "$PG_BIN" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null && echo "stopped postgresql"
  fi
}

if [ -n "${SCALE_ONLY:-}" ]; then
  for service in $SCALE_ONLY; do
    case "$service" in
      postgresql) stop_postgres ;;
      redis) stop_redis ;;
      *) echo "scale-down: SCALE_ONLY: no service named $service (postgresql, redis)" >&2; exit 1 ;;
    esac
  done
  exit 0
fi

if pid="$(live_pid "$NGINX_PREFIX/nginx.pid")"; then
  kill -QUIT "$pid"
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -TERM "$pid"
  echo "stopped nginx"
fi
# The servers stop side by side (each waits for its own process), not one after the other.
for pidfile in "$RUN_DIR"/rasa-*.pid "$RUN_DIR"/action-*.pid; do
  [ -e "$pidfile" ] && stop_pidfile "$pidfile" &
done
wait
if [ "${SCALE_KEEP_SERVICES:-0}" != 1 ]; then
  stop_redis
  stop_postgres
fi
exit 0
