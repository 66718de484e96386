# Staff report (issue 13): what patients asked that the documents did not answer, answers marked not
# helpful, counts per topic and per day (bot/report.py). Included by the Makefile.
.PHONY: report test-report

REPORT_DIR  ?= reports/staff
REPORT_DAYS ?= 30

report: $(STAMP)  ## Staff report from the tracker store of endpoints.yml (RASA_ENDPOINTS / TRACKER_DB for another): reports/staff/
	$(PY) -m bot report --days $(REPORT_DAYS) --out $(REPORT_DIR) --nlu-candidates

test-report: $(STAMP)  ## Tests of the staff report only (SQLite, PostgreSQL when installed, Chromium for the page)
	$(PY) -m pytest -q tests/bot/test_report.py
