# Sourced by scripts/scale-up.sh and scripts/scale-down.sh: the scaled layout's settings, each
# overridable from the environment (README, "Scaling out"). Everything listens on loopback. Every
# file under $SCALE_DIR is private to this user (umask 077); passwords and tokens are generated on
# first use into $SCALE_DIR/secrets (mode 0600) unless given in the environment.
: "${SCALE_DIR:=var/scale}"                 # state: PostgreSQL data, nginx prefix, logs, pid files, secrets
SCALE_DIR="$(mkdir -p "$SCALE_DIR" && cd "$SCALE_DIR" && pwd)"  # absolute: nginx and PostgreSQL need it
SECRETS_DIR="$SCALE_DIR/secrets"
. scripts/common.sh                         # umask 077, secret NAME
: "${SCALE_LOCAL_SERVICES:=1}"              # 1: start PostgreSQL and Redis here; 0: use running ones
: "${SCALE_HOST:=127.0.0.1}"                # every server binds this address
: "${LB_PORT:=8005}"                        # nginx: clients (chat channels and /health only)
: "${ACTION_LB_PORT:=8055}"                 # nginx: Rasa servers -> action servers
: "${LB_RATE:=10r/s}"                       # nginx: requests per client address to the chat channels ...
: "${LB_BURST:=20}"                         # ... and how many more it may send at once
: "${RASA_PORTS:=5105 5106}"                # one Rasa server per port
: "${ACTION_PORTS:=5155 5156}"              # one action server per port
: "${RASA_MAX_BODY:=1048576}"               # largest request a Rasa server accepts (bytes)
: "${ACTION_MAX_BODY:=67108864}"            # largest action call (a long conversation's tracker) (bytes)
: "${TRACKER_DB_HOST:=127.0.0.1}"
: "${TRACKER_DB_PORT:=5433}"
: "${TRACKER_DB_NAME:=clinic_tracker}"
: "${TRACKER_DB_USER:=clinic}"
: "${TRACKER_DB_PASSWORD:=$(secret db-password)}"
: "${CONDITION_DB_NAME:=clinic_store}"
: "${DATABASE_URL:=postgresql://${TRACKER_DB_USER}:${TRACKER_DB_PASSWORD}@${TRACKER_DB_HOST}:${TRACKER_DB_PORT}/${CONDITION_DB_NAME}}"
: "${LOCK_STORE_HOST:=127.0.0.1}"
: "${LOCK_STORE_PORT:=6380}"
: "${LOCK_STORE_DB:=1}"
: "${LOCK_STORE_PASSWORD:=$(secret redis-password)}"
: "${ACTION_ENDPOINT_URL:=http://${SCALE_HOST}:${ACTION_LB_PORT}/webhook}"
: "${RASA_ENDPOINTS:=deploy/endpoints.scaled.yml}"
: "${RASA_MODEL:=models/clinic-assistant.tar.gz}"
: "${SCALE_START_TIMEOUT:=420}"             # seconds to wait for every server to answer
export SCALE_DIR SCALE_HOST TRACKER_DB_HOST TRACKER_DB_PORT TRACKER_DB_NAME TRACKER_DB_USER TRACKER_DB_PASSWORD \
  DATABASE_URL LOCK_STORE_HOST LOCK_STORE_PORT LOCK_STORE_DB LOCK_STORE_PASSWORD ACTION_ENDPOINT_URL
[ -n "${REST_CHANNEL_TOKEN:-}" ] || secret rest-token >/dev/null  # the Rasa servers read it from $SECRETS_DIR

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
