# `make bench-store [BENCH_STORE_TASKS=N]`: times the store's queries on a
# database of N tasks (100000 by default).
BENCH_STORE_TASKS ?= 100000

$(BUILD)/bench/bench-store: tests/bench/bench-store.c $(BUILD)/libcore.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Idaemon -o $@ $< $(BUILD)/libcore.a $(ALL_LDFLAGS) $(PKG_LIBS) -lm

.PHONY: bench-store
bench-store: $(BUILD)/bench/bench-store
	$< $(BENCH_STORE_TASKS)
