# Health FAQ assistant: `make run` builds what is missing and starts everything; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
PY          := $(VENV)/bin/python
RASA        := $(PY) -m bot.rasa
STAMP       := $(VENV)/.installed
DOCUMENTS   := data/documents
VOCABULARY  := data/vocabulary.yml
NLU_VOCAB   := data/nlu/vocabulary_generated.yml
MODEL_DIR   := models
STORE_STAMP := var/.store-built

# Rasa must never phone home with patient text; Python and TensorFlow stay quiet and local.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

# Rasa 3.6 needs Python 3.10: a working python3.10 on PATH first (the pyenv shim may refuse), then pyenv's.
PYTHON310 ?= $(shell for p in python3.10 "$$(pyenv root 2>/dev/null)/versions/3.10.13/bin/python3.10" /root/.pyenv/versions/3.10.13/bin/python3.10 /usr/bin/python3.10; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { command -v "$$p" || echo "$$p"; } && break; done)

# pip warns once per package about find-links folders this machine's pip config names but lacks.
PIP_QUIET   := { grep -v "is ignored: it is neither a file nor a directory" || true; }

-include mk/*.mk

.PHONY: help venv store nlu-vocab train validate lint test test-unit serve shell run bench clean

MODEL       := $(MODEL_DIR)/clinic-assistant.tar.gz
RASA_PORT   ?= 5005
ACTION_PORT ?= 5055

help:  ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	@test -n "$(PYTHON310)" || { echo "Python 3.10 not found: install it (pyenv install 3.10.13) and retry." >&2; exit 1; }
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	set -o pipefail; $(PY) -m pip install --quiet --upgrade pip 'setuptools<71' 2>&1 | $(PIP_QUIET)
	set -o pipefail; $(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt 2>&1 | $(PIP_QUIET)
	touch $@

venv: $(STAMP)  ## Create the Python 3.10 virtualenv .venv with Rasa, spaCy and the test tools

# A new, changed or removed document (the folder's own time changes), the vocabulary, the fact rules or
# the lexicon's data rebuild the store; the NLU lookup tables and the model follow from the store.
$(STORE_STAMP): $(STAMP) $(VOCABULARY) data/fact_rules.yml $(DOCUMENTS) $(wildcard $(DOCUMENTS)/*) $(wildcard data/lexicon/*.yml) $(wildcard bot/*.py)
	$(PY) -m bot build-store --documents $(DOCUMENTS)
	@mkdir -p $(@D) && touch $@

store: $(STAMP)  ## (Re)build the condition store from data/documents (idempotent); says what each document taught it
	$(PY) -m bot build-store --documents $(DOCUMENTS)
	@mkdir -p var && touch $(STORE_STAMP)
	$(PY) -m bot export-nlu --output $(NLU_VOCAB)

$(NLU_VOCAB): $(STAMP) $(STORE_STAMP)
	$(PY) -m bot export-nlu --output $@

nlu-vocab: $(NLU_VOCAB)  ## Generate the NLU lookup tables and synonyms from the store (vocabulary.yml + what the documents taught it)

validate: $(NLU_VOCAB)  ## Check the Rasa training data and domain
	$(RASA) data validate --fail-on-warnings --quiet

$(MODEL): $(STAMP) $(NLU_VOCAB) config.yml domain.yml $(wildcard data/nlu/*.yml data/stories/*.yml) $(wildcard bot/rasa/*.py)
	$(RASA) train --fixed-model-name clinic-assistant --out $(MODEL_DIR) --quiet
	@touch $@

train: $(MODEL)  ## Train the assistant (Rasa caches: unchanged data is not retrained)

serve: $(STORE_STAMP) $(MODEL)  ## Action server (5055) and Rasa server (5005, REST + socketio) in the foreground; Ctrl-C stops both
	@scripts/serve.sh

shell: $(STORE_STAMP) $(MODEL)  ## Chat in the terminal (starts the action server too)
	@scripts/shell.sh

run: $(STORE_STAMP) $(MODEL) run-prereqs  ## Build what is missing, then start the action server, the Rasa server and the web widget
	@scripts/run.sh

# Extra set-up for `make run` (the widget's files): mk/*.mk add recipes with `run-prereqs::`.
run-prereqs:: $(STAMP)

lint: $(STAMP)  ## ruff (ruff.toml) and mypy (mypy.ini) on the library, the actions and the tests
	$(VENV)/bin/ruff check bot actions tests bench
	$(VENV)/bin/mypy

test-unit: $(STAMP)  ## Python tests only (no Rasa training)
	$(PY) -m pytest -q tests/bot tests/actions

# Extra set-up that tests need (Chromium, PostgreSQL, ...): mk/*.mk add recipes with `test-prereqs::`.
test-prereqs:: $(STAMP)

test: $(STAMP) $(STORE_STAMP) $(MODEL) test-prereqs lint  ## Every test: lint and types, library, actions, Rasa data, NLU, stories, end to end
	$(PY) -m pytest -q tests

clean:  ## Remove generated files (keeps .venv)
	rm -rf var $(MODEL_DIR) results reports/*.tmp .rasa $(NLU_VOCAB)
