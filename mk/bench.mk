# Benchmarks: figures, not pass/fail tests. See tests/bench/.

.PHONY: bench-scale

$(BUILD)/tests/bench-scale: $(BUILD)/obj/tests/bench-scale.o $(BUILD)/libcore.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BUILD)/obj/tests/bench-scale.o: tests/bench/bench-scale.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Idaemon -c -o $@ $<

bench-scale: $(PROGRAMS) $(BUILD)/tests/bench-scale
	$(PYTHON) tests/bench/bench-scale.py $(BUILD) $(BENCH_SIZES)

