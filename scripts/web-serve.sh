#!/usr/bin/env bash
# Serve the demo clinic page with the chat widget (make web-serve); the Rasa server must be running too.
# WEB_INTERFACE (127.0.0.1): the demo page is for this machine; a clinic hosts web/dist/clinic-chat.js itself.
set -euo pipefail
cd "$(dirname "$0")/.."
WEB_PORT="${WEB_PORT:-8080}" RASA_PORT="${RASA_PORT:-5005}"
test -f web/dist/clinic-chat.js || { echo "web/dist/clinic-chat.js is missing: run make widget" >&2; exit 1; }
exec python3 web/serve.py --host "${WEB_INTERFACE:-127.0.0.1}" --port "$WEB_PORT" --rasa-url "${RASA_URL:-http://localhost:$RASA_PORT}"
