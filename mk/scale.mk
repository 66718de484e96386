# Scale-out: PostgreSQL tracker + condition store, Redis lock store, two Rasa servers and two action
# servers behind nginx, all on loopback (README, "Scaling out"). Settings: scripts/scale-env.sh.
# (Included before the main Makefile defines MODEL, hence the spelled-out model path.)
.PHONY: scale-prereqs scale-up scale-down scale-clean test-scale test-security

scale-prereqs:  ## Install PostgreSQL, Redis and nginx from Debian when missing
	@scripts/scale-prereqs.sh

scale-up: $(STAMP) $(MODEL_DIR)/clinic-assistant.tar.gz scale-prereqs  ## Start the scaled layout (PostgreSQL, Redis, 2 Rasa + 2 action servers, nginx on :8005)
	@scripts/scale-up.sh

scale-down:  ## Stop everything `make scale-up` started (data stays in var/scale)
	@scripts/scale-down.sh

scale-clean: scale-down  ## Stop the scaled layout and delete its data (var/scale)
	rm -rf var/scale

test-scale: $(STAMP) $(MODEL_DIR)/clinic-assistant.tar.gz scale-prereqs  ## Only the scale-out tests (real PostgreSQL, Redis, nginx)
	$(PY) -m pytest -q tests/scale

test-prereqs:: scale-prereqs

test-security: $(STAMP) $(STORE_STAMP) $(MODEL_DIR)/clinic-assistant.tar.gz test-prereqs  ## Only the security tests (real servers as make run starts them, and a scaled layout)
	$(PY) -m pytest -q tests/security
