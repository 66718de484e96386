# Benchmark (issue 6): accuracy and speed of the assistant vs Rasa's default pipeline and a BM25 search box.
# Included by the Makefile. Heavy: trains two models with fresh caches and load-tests both on 127.0.0.1.
.PHONY: bench test-bench

BENCH_WORK := var/bench

bench: $(STAMP) $(NLU_VOCAB)  ## Benchmark (about 30-40 min on 2 shared cores): writes reports/bench.md, bench.json and plots
	@mkdir -p $(BENCH_WORK) reports
	set -o pipefail; $(PY) -m bench 2>&1 | tee $(BENCH_WORK)/bench.log

test-bench: $(STAMP)  ## Fast tests of the benchmark code (no training, no servers)
	$(PY) -m pytest -q tests/bench
