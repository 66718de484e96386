# Benchmark (issues 6, 10, 11, 13, 15, 18): accuracy, scope, safety and speed of the assistant, lighter NLU
# pipelines, Rasa's default pipeline and a BM25 search box. Included by the Makefile. Heavy: trains every
# pipeline with a fresh cache (one at a time, waiting for any other `bot.rasa train` on the machine) and
# load-tests each on 127.0.0.1. Knobs: BENCH_REPEATS, BENCH_SYSTEMS, BENCH_SIZES, BENCH_PROFILE, BENCH_QUICK
# (bench/README.md).
.PHONY: bench bench-report test-bench

BENCH_WORK := var/bench

bench: $(STAMP) $(NLU_VOCAB)  ## Benchmark (1-2 h on 2 shared cores): writes reports/bench.md, bench.json and plots
	@mkdir -p $(BENCH_WORK) reports
	set -o pipefail; $(PY) -m bench 2>&1 | tee $(BENCH_WORK)/bench.log

bench-report: $(STAMP)  ## Rewrite reports/bench.* from the last run's measurements (var/bench/raw.json)
	$(PY) -m bench report

test-bench: $(STAMP)  ## Fast tests of the benchmark code (no training, no servers)
	$(PY) -m pytest -q tests/bench
