# Sourced by scripts/serve.sh, scripts/shell.sh and scripts/run.sh: what every way of starting the
# assistant shares. Files the servers write (conversations, logs, secrets) are private to this user.
umask 077
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" SQLALCHEMY_SILENCE_UBER_WARNING=1
: "${SECRETS_DIR:=var/secrets}"
export SECRETS_DIR

# secret NAME: the contents of $SECRETS_DIR/NAME; on first use, 32 random bytes (hex) are written to it
# with mode 0600 (git-ignored under var/). README, "Security".
secret() {
  local file="$SECRETS_DIR/$1" tmp
  if [ ! -s "$file" ]; then
    mkdir -p "$SECRETS_DIR" && chmod 700 "$SECRETS_DIR"
    tmp="$(mktemp "$file.XXXXXX")"
    od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$tmp"
    chmod 600 "$tmp" && mv -n "$tmp" "$file" && rm -f "$tmp"
  fi
  cat "$file"
}

# local_endpoints: the endpoints file Rasa should read. RASA_ENDPOINTS (a file of the caller's) is used
# as it is; otherwise endpoints.yml, rewritten into a private temporary file when ACTION_PORT is not
# 5055 (the action server's address) or TRACKER_DB names another SQLite file for the conversations.
# Sets ENDPOINTS, and ENDPOINTS_TMP when it wrote a file (the caller removes it on exit).
local_endpoints() {
  ENDPOINTS_TMP=""
  if [ -n "${RASA_ENDPOINTS:-}" ]; then
    ENDPOINTS="$RASA_ENDPOINTS"
    return 0
  fi
  ENDPOINTS=endpoints.yml
  if [ "${ACTION_PORT:-5055}" = 5055 ] && [ -z "${TRACKER_DB:-}" ]; then
    return 0
  fi
  mkdir -p var
  ENDPOINTS_TMP="$(mktemp var/endpoints.XXXXXX.yml)"
  ENDPOINTS="$ENDPOINTS_TMP"
  ACTION_PORT="${ACTION_PORT:-5055}" TRACKER_DB="${TRACKER_DB:-}" .venv/bin/python - endpoints.yml "$ENDPOINTS_TMP" <<'PY'
import os, sys
import yaml

source, target = sys.argv[1:3]
endpoints = yaml.safe_load(open(source))
url = endpoints["action_endpoint"]["url"]
endpoints["action_endpoint"]["url"] = url.replace(":5055/", ":%s/" % os.environ["ACTION_PORT"])
if os.environ["TRACKER_DB"]:
    endpoints["tracker_store"]["db"] = os.environ["TRACKER_DB"]
with open(target, "w") as out:
    yaml.safe_dump(endpoints, out, sort_keys=False)
PY
}
