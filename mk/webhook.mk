# Webhooks: the payload schema test needs python3-jsonschema; the
# benchmark needs nginx-light, wrk and curl.

DEB_TEST_DEPS += python3-jsonschema

BENCH_WEBHOOK_N ?= 10000
BENCH_WEBHOOK_DEBS := nginx-light wrk curl

# `make bench-webhook [BENCH_WEBHOOK_N=N]`: N reminders through
# `deadlined --once` to a local nginx, against wrk, a curl loop, and the
# daemon's own libcurl multi path with none of the daemon's work; the
# latency at 100 and 10,000 due at once; the cores each sender, nginx and
# the machine use meanwhile. BENCH_BASE=DIR adds another build's daemon
# to each round (a baseline). As root the missing Debian packages are
# installed first.
$(BUILD)/tests/bench-curl-multi: $(BUILD)/obj/tests/bench-curl-multi.o $(BUILD)/libcore.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BUILD)/obj/tests/bench-curl-multi.o: tests/bench/bench-curl-multi.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Idaemon -c -o $@ $<

.PHONY: bench-webhook
bench-webhook: $(PROGRAMS) $(BUILD)/tests/bench-curl-multi
	@$(call install-missing-debs,$(BENCH_WEBHOOK_DEBS))
	PATH="$$PATH:/usr/sbin" $(PYTHON) tests/bench/bench-webhook.py $(BUILD) $(BENCH_WEBHOOK_N)

# `make check-webhook-reference`: also checks our signatures with the
# Standard Webhooks reference library for TypeScript (npm standardwebhooks),
# installed into the build folder; needs node and npm.
STANDARDWEBHOOKS_VERSION ?= 1.1.1
.PHONY: check-webhook-reference
check-webhook-reference: $(PROGRAMS)
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "needs node and npm"; exit 1; }
	@mkdir -p $(BUILD)/npm
	cd $(BUILD)/npm && npm install --no-save --silent standardwebhooks@$(STANDARDWEBHOOKS_VERSION)
	DEADLINED_BUILD=$(abspath $(BUILD)) DEADLINED_SOURCE=$(CURDIR) \
		DEADLINED_STANDARDWEBHOOKS=$(abspath $(BUILD))/npm/node_modules \
		$(PYTHON) -m pytest -q -p no:cacheprovider tests/integration/test_webhook.py -k reference_library

# `make profile-webhook [PROFILE_N1=200 PROFILE_N2=2000]`: instructions per
# webhook delivery, whole and by part, from callgrind on the bench-webhook
# workload (load-insensitive, unlike the throughput figures). As root the
# missing Debian packages are installed first.
PROFILE_N1 ?= 200
PROFILE_N2 ?= 2000
PROFILE_WEBHOOK_DEBS := nginx-light valgrind

.PHONY: profile-webhook
profile-webhook: $(PROGRAMS)
	@$(call install-missing-debs,$(PROFILE_WEBHOOK_DEBS))
	PATH="$$PATH:/usr/sbin" $(PYTHON) tests/bench/profile-webhook.py $(BUILD) $(PROFILE_N1) $(PROFILE_N2)
