# Sourced by scripts/scale-up.sh and scripts/scale-down.sh: the scaled layout's settings, each
# overridable from the environment (README, "Scaling out"). Everything listens on loopback.
: "${SCALE_DIR:=var/scale}"                 # state: PostgreSQL data, nginx prefix, logs, pid files
: "${SCALE_LOCAL_SERVICES:=1}"              # 1: start PostgreSQL and Redis here; 0: use running ones
: "${SCALE_HOST:=127.0.0.1}"                # every server binds this address
: "${LB_PORT:=8005}"                        # nginx: clients (REST, socket.io, Rasa HTTP API)
: "${ACTION_LB_PORT:=8055}"                 # nginx: Rasa servers -> action servers
: "${RASA_PORTS:=5105 5106}"                # one Rasa server per port
: "${ACTION_PORTS:=5155 5156}"              # one action server per port
: "${TRACKER_DB_HOST:=127.0.0.1}"
: "${TRACKER_DB_PORT:=5433}"
: "${TRACKER_DB_NAME:=clinic_tracker}"
: "${TRACKER_DB_USER:=clinic}"
: "${TRACKER_DB_PASSWORD:=clinic}"
: "${CONDITION_DB_NAME:=clinic_store}"
: "${DATABASE_URL:=postgresql://${TRACKER_DB_USER}:${TRACKER_DB_PASSWORD}@${TRACKER_DB_HOST}:${TRACKER_DB_PORT}/${CONDITION_DB_NAME}}"
: "${LOCK_STORE_HOST:=127.0.0.1}"
: "${LOCK_STORE_PORT:=6380}"
: "${LOCK_STORE_DB:=1}"
: "${ACTION_ENDPOINT_URL:=http://${SCALE_HOST}:${ACTION_LB_PORT}/webhook}"
: "${RASA_ENDPOINTS:=deploy/endpoints.scaled.yml}"
: "${RASA_MODEL:=models/clinic-assistant.tar.gz}"
: "${SCALE_START_TIMEOUT:=420}"             # seconds to wait for every server to answer
SCALE_DIR="$(mkdir -p "$SCALE_DIR" && cd "$SCALE_DIR" && pwd)"  # absolute: nginx and PostgreSQL need it
export SCALE_DIR SCALE_HOST TRACKER_DB_HOST TRACKER_DB_PORT TRACKER_DB_NAME TRACKER_DB_USER TRACKER_DB_PASSWORD \
  DATABASE_URL LOCK_STORE_HOST LOCK_STORE_PORT LOCK_STORE_DB ACTION_ENDPOINT_URL
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" SQLALCHEMY_SILENCE_UBER_WARNING=1

RUN_DIR="$SCALE_DIR/run"; LOG_DIR="$SCALE_DIR/logs"
PG_DATA="$SCALE_DIR/postgres"; PG_SOCKET="$SCALE_DIR/pgsock"; NGINX_PREFIX="$SCALE_DIR/nginx"
: "${PG_BIN:=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"

# Run a command as the postgres user when we are root (PostgreSQL refuses to run as root).
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The pid in a pid file if that process is alive, else nothing.
live_pid() {
  local pid
  [ -s "$1" ] || return 1
  pid="$(cat "$1")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}
