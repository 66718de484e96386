# Channels (issue 5): the web widget and its demo page, Telegram, the shell. Included by the Makefile.
.PHONY: widget web-serve test-channels

WEB_DIR      := web
WIDGET_JS    := $(WEB_DIR)/dist/clinic-chat.js
WEB_NPM      := $(WEB_DIR)/node_modules/.package-lock.json
WEB_PORT     ?= 8080
CHROMIUM     ?= /usr/bin/chromium

# socket.io-client from npm, exactly as in web/package-lock.json (vendored into the widget: no CDN), and
# rasa-webchat (a dev dependency: tests/channels/test_webchat.py serves its bundle to check our replies in it).
$(WEB_NPM): $(WEB_DIR)/package.json $(WEB_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install -y npm (or Node.js 18+)" >&2; exit 1; }
	cd $(WEB_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(WIDGET_JS): $(STAMP) $(WEB_NPM) $(WEB_DIR)/build.py $(wildcard $(WEB_DIR)/src/*) config/clinic.yml bot/texts.py
	$(PY) $(WEB_DIR)/build.py

widget: $(WIDGET_JS)  ## Build the web chat widget (web/dist/clinic-chat.js, one <script> tag)

web-serve: $(WIDGET_JS)  ## Serve the demo clinic page with the widget (http://localhost:8080; Rasa on RASA_PORT)
	@scripts/web-serve.sh

# Chromium from Debian for the browser test (never a Playwright download); the widget's npm packages.
test-prereqs:: $(STAMP) $(WIDGET_JS)
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  echo "Installing Chromium from Debian for the widget test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

test-channels: $(STAMP) $(STORE_STAMP) $(MODEL_DIR)/clinic-assistant.tar.gz test-prereqs  ## Channel tests only: widget and rasa-webchat in Chromium, Telegram stand-in, shell
	$(PY) -m pytest -q tests/channels

# `make run` serves the demo page with the widget: build the widget first.
run-prereqs:: $(WIDGET_JS)
