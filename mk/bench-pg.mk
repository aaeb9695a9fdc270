# `make bench-pg [BENCH_PG_N=N]`: PostgreSQL beside SQLite, one run, on a
# throw-away cluster: webhook deliveries per second by one daemon on
# SQLite, one and two on PostgreSQL, to the same local nginx; and the cost
# of finding what is due at 10k, 100k and 1M tasks on each backend
# (BENCH_PG_SIZES). As root the missing Debian packages are installed first.

BENCH_PG_N ?= 5000

.PHONY: bench-pg
bench-pg: $(PROGRAMS) $(BUILD)/tests/bench-scale
	@$(call install-missing-debs,$(PG_TEST_DEPS) nginx-light)
	$(PYTHON) tests/bench/bench-pg.py $(BUILD) $(BENCH_PG_N)
