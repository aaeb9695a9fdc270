# Fuzzing the directive parser with libFuzzer (clang).
#
#   make fuzz                     build, then run for FUZZ_SECONDS (default 60)
#   make fuzz FUZZ_SECONDS=300    the five-minute run
#
# The target is tests/fuzz/fuzz-directive.c; only the pure sources the
# parser needs are built with it, with ASan and UBSan.
# New inputs the fuzzer finds go to build/fuzz/corpus; the committed seeds
# (tests/fuzz/directive/) are read, never written. A crash leaves its input
# as build/fuzz/crash-* and fails the target.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := build/fuzz
FUZZ_SRCS    := tests/fuzz/fuzz-directive.c $(sort $(wildcard daemon/directive*.c daemon/textnorm*.c)) \
                daemon/timeutil.c
FUZZ_CFLAGS  := -std=gnu17 -g -O1 $(WARNINGS) -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -fno-omit-frame-pointer -D_GNU_SOURCE \
                -Idaemon -Itests/unit $(shell pkg-config --cflags libutf8proc 2>/dev/null)
FUZZ_LIBS    := $(shell pkg-config --libs libutf8proc 2>/dev/null) -lm
FUZZ_ARGS    ?= -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1

.PHONY: fuzz

$(FUZZ_DIR)/fuzz-directive: $(FUZZ_SRCS) $(wildcard daemon/*.h) tests/unit/sonha-candidates.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_SRCS) $(FUZZ_LIBS)

fuzz: $(FUZZ_DIR)/fuzz-directive
	@mkdir -p $(FUZZ_DIR)/corpus
	cd $(FUZZ_DIR) && ./fuzz-directive -max_total_time=$(FUZZ_SECONDS) \
		-dict=$(CURDIR)/tests/fuzz/directive.dict $(FUZZ_ARGS) corpus $(CURDIR)/tests/fuzz/directive

# The OCR helper's PDF and image entry (tests/fuzz/fuzz-scan.c): the
# decoders' side of deadlined-ocr, with poppler, cairo and leptonica as
# Debian ships them (not instrumented; our code is). Seeds: tests/fuzz/scan/.
#
#   make fuzz-scan                  build, then run for FUZZ_SECONDS
SCAN_FUZZ_SRCS := tests/fuzz/fuzz-scan.c daemon/ocr-source.c daemon/scanformat.c
SCAN_FUZZ_ARGS ?= -max_len=65536 -timeout=20 -rss_limit_mb=2048 -print_final_stats=1

.PHONY: fuzz-scan

$(FUZZ_DIR)/fuzz-scan: $(SCAN_FUZZ_SRCS) daemon/ocr.h daemon/scanformat.h daemon/macro.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(OCR_CFLAGS) -o $@ $(SCAN_FUZZ_SRCS) $(OCR_LIBS) -lm

fuzz-scan: $(FUZZ_DIR)/fuzz-scan
	@mkdir -p $(FUZZ_DIR)/scan-corpus
	cd $(FUZZ_DIR) && ./fuzz-scan -max_total_time=$(FUZZ_SECONDS) $(SCAN_FUZZ_ARGS) \
		scan-corpus $(CURDIR)/tests/fuzz/scan

# The reply reader (tests/fuzz/fuzz-reply.c): raw e-mail messages as the
# inbox fetches them. Seeds: the corpus of tests/data/replies/ and
# tests/fuzz/reply/.
#
#   make fuzz-reply                 build, then run for FUZZ_SECONDS
REPLY_FUZZ_SRCS := tests/fuzz/fuzz-reply.c $(sort $(wildcard daemon/reply*.c daemon/textnorm*.c)) \
                   daemon/strbuf.c daemon/timeutil.c daemon/utf8.c
REPLY_FUZZ_ARGS ?= -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1

.PHONY: fuzz-reply

$(FUZZ_DIR)/fuzz-reply: $(REPLY_FUZZ_SRCS) $(wildcard daemon/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(REPLY_FUZZ_SRCS) $(FUZZ_LIBS)

fuzz-reply: $(FUZZ_DIR)/fuzz-reply
	@mkdir -p $(FUZZ_DIR)/reply-corpus
	cd $(FUZZ_DIR) && ./fuzz-reply -max_total_time=$(FUZZ_SECONDS) $(REPLY_FUZZ_ARGS) \
		reply-corpus $(CURDIR)/tests/data/replies $(CURDIR)/tests/fuzz/reply
