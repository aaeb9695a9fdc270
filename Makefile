# deadlined — GNU make build. `make help` lists the targets.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
DESTDIR    ?=
VERSION    := 0.3.0

CC      ?= cc
PYTHON  ?= /usr/bin/python3
PKGS    := libcurl libconfig sqlite3 libsystemd jansson libutf8proc openssl libical libpq

# SANITIZE=1 builds everything with AddressSanitizer and UBSan into its own
# directory, so the two builds never mix objects.
# SANITIZE=thread builds with ThreadSanitizer into build-tsan (for the
# store thread: `make check-pg SANITIZE=thread`).
ifeq ($(SANITIZE),1)
BUILD   ?= build-asan
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(SANITIZE),thread)
BUILD   ?= build-tsan
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
else
BUILD   ?= build
SANFLAGS :=
endif

CFLAGS  ?= -O2 -g
WARNINGS := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
            -Wpointer-arith -Wformat=2 -Wno-format-nonliteral -Wundef -Wvla \
            -Wimplicit-fallthrough -Wno-unused-parameter
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# Only the OCR helper, deadlined-ocr, links these (doc/architecture.md).
OCR_PKGS   := poppler-glib cairo tesseract lept
OCR_CFLAGS := $(shell pkg-config --cflags $(OCR_PKGS) 2>/dev/null)
OCR_LIBS   := $(shell pkg-config --libs $(OCR_PKGS) 2>/dev/null) -lpthread
ALL_CFLAGS := -std=gnu17 $(WARNINGS) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) $(PKG_CFLAGS) \
              -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -I$(BUILD)/gen -MMD -MP
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS)

ENTRY_SRCS := daemon/deadlined.c daemon/deadlinectl.c
# ctl-*.c are deadlinectl's sub-commands.
CTL_SRCS   := $(sort $(wildcard daemon/ctl-*.c))
CTL_OBJS   := $(CTL_SRCS:daemon/%.c=$(BUILD)/obj/%.o)
# The OCR helper: its entry point and its ocr-*.c parts.
OCR_SRCS   := daemon/deadlined-ocr.c $(sort $(wildcard daemon/ocr-*.c))
OCR_OBJS   := $(OCR_SRCS:daemon/%.c=$(BUILD)/obj/%.o)
CORE_SRCS  := $(filter-out $(ENTRY_SRCS) $(CTL_SRCS) $(OCR_SRCS),$(sort $(wildcard daemon/*.c)))
# C sources the build writes into $(BUILD)/gen/ (with the headers there):
# the built-in message templates, from conf/templates.
GEN_SRCS   := $(BUILD)/gen/templates-builtin.c
GEN_OBJS   := $(GEN_SRCS:$(BUILD)/gen/%.c=$(BUILD)/obj/gen/%.o)
CORE_OBJS  := $(CORE_SRCS:daemon/%.c=$(BUILD)/obj/%.o) $(GEN_OBJS)
UNIT_SRCS  := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
PROGRAMS   := $(BUILD)/deadlined $(BUILD)/deadlinectl $(BUILD)/deadlined-ocr

.PHONY: FORCE all check check-unit check-integration check-faults install deps clean help man
.DEFAULT_GOAL := all
# Keep test objects: they are intermediates, but rebuilding them is waste.
.SECONDARY:

all: $(PROGRAMS)

# The installation paths compiled in (the default configuration file) are
# in a generated header that is rewritten only when they change, so that
# `make install PREFIX=/usr` after a plain `make` rebuilds what uses them
# instead of installing programs that look under /usr/local.
PATHS_H := $(BUILD)/gen/paths.h
$(PATHS_H): FORCE
	@mkdir -p $(@D)
	@printf '#define SYSCONFDIR "%s"\n#define DATADIR "%s"\n#define LIBEXECDIR "%s"\n' \
		'$(SYSCONFDIR)' '$(DATADIR)' '$(LIBEXECDIR)' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; echo "paths: $(SYSCONFDIR) $(DATADIR) $(LIBEXECDIR)"; fi
FORCE:

$(BUILD)/obj/%.o: daemon/%.c | $(PATHS_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The built-in templates are compiled into the program: every file of
# conf/templates/LANG/ becomes a C string. Generated whenever a template
# or the generator changes.
TEMPLATE_SRCS := $(filter-out %/README,$(sort $(wildcard conf/templates/*/*)))
$(BUILD)/gen/templates-builtin.c: $(TEMPLATE_SRCS) tools/gen-templates.sh
	@mkdir -p $(@D)
	sh tools/gen-templates.sh conf/templates $@

$(GEN_OBJS): $(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c | $(PATHS_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Idaemon -c -o $@ $<

$(BUILD)/obj/tests/%.o: tests/unit/%.c | $(PATHS_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Idaemon -c -o $@ $<

# Everything but the two entry points is one static library that both
# programs and every unit test link.
$(BUILD)/libcore.a: $(CORE_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/deadlined: $(BUILD)/obj/deadlined.o $(BUILD)/libcore.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BUILD)/deadlinectl: $(BUILD)/obj/deadlinectl.o $(CTL_OBJS) $(BUILD)/libcore.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(OCR_OBJS): ALL_CFLAGS += $(OCR_CFLAGS)
$(BUILD)/deadlined-ocr: $(OCR_OBJS) $(BUILD)/libcore.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(OCR_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(BUILD)/libcore.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka -lm

check: check-architecture check-unit check-integration

# doc/architecture.md names every file under daemon/, and the arrows between
# modules point down.
check-architecture:
	@sh tools/check-architecture.sh

check-unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do \
		echo "== $$t"; \
		TZ=Asia/Ho_Chi_Minh DEADLINED_TEST_DATA=$(CURDIR)/tests/data \
		DEADLINED_SOURCE=$(CURDIR) $$t; \
	done

# The integration tests `make check` runs (make check-pg-integration runs
# the same on PostgreSQL).
INTEGRATION_MARKS := not faults and not ocr and not browser and not imap and not pg
check-integration: $(PROGRAMS)
	DEADLINED_BUILD=$(abspath $(BUILD)) DEADLINED_SOURCE=$(CURDIR) DEADLINED_SANITIZE=$(SANITIZE) \
		$(PYTHON) -m pytest -q -p no:cacheprovider -m "$(INTEGRATION_MARKS)" tests/integration $(PYTEST_ARGS)

# The slow fault scenarios (tests marked `faults`): two senders, a locked
# database under the watchdog, SMTP and webhook fault matrices, a full disk,
# reload storms, valgrind. Run by .ci/run, not by `make check`.
check-faults: $(PROGRAMS)
	DEADLINED_BUILD=$(abspath $(BUILD)) DEADLINED_SOURCE=$(CURDIR) DEADLINED_SANITIZE=$(SANITIZE) \
		$(PYTHON) -m pytest -q -p no:cacheprovider -m faults tests/integration $(PYTEST_ARGS)

install: $(PROGRAMS) install-data
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR)/deadlined/templates
	install -m 0755 $(BUILD)/deadlined $(DESTDIR)$(SBINDIR)/deadlined
	install -m 0755 $(BUILD)/deadlinectl $(DESTDIR)$(BINDIR)/deadlinectl
	install -d $(DESTDIR)$(LIBEXECDIR)/deadlined
	install -m 0755 $(BUILD)/deadlined-ocr $(DESTDIR)$(LIBEXECDIR)/deadlined/deadlined-ocr
	install -d $(DESTDIR)$(SYSCONFDIR)/deadlined
	install -m 0640 conf/deadlined.conf $(DESTDIR)$(SYSCONFDIR)/deadlined/deadlined.conf.example

# The Debian packages the build and the tests need. As root they are
# installed; otherwise the exact command is printed.
DEB_BUILD_DEPS := build-essential pkg-config libcurl4-openssl-dev libconfig-dev \
                  libsqlite3-dev libsystemd-dev libjansson-dev libssl-dev libutf8proc-dev \
                  libpoppler-glib-dev libcairo2-dev libtesseract-dev libleptonica-dev libical-dev \
                  libpq-dev
# What deadlined-ocr needs to read a scan: the Vietnamese model and the
# orientation model.
DEB_RUN_DEPS   := tesseract-ocr-vie tesseract-ocr-osd
DEB_TEST_DEPS  := libcmocka-dev python3 python3-pytest python3-aiosmtpd faketime openssl sqlite3 valgrind \
                  python3-icalendar
deps:
	@if [ "$$(id -u)" = 0 ]; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && \
		apt-get install -y -qq --no-install-recommends $(DEB_BUILD_DEPS) $(DEB_RUN_DEPS) $(DEB_TEST_DEPS); \
	else \
		echo "Run as root: apt-get install --no-install-recommends $(DEB_BUILD_DEPS) $(DEB_RUN_DEPS) $(DEB_TEST_DEPS)"; \
	fi

clean:
	rm -rf build build-asan

help:
	@echo "make                 build build/deadlined and build/deadlinectl"
	@echo "make check           unit and integration tests (SANITIZE=1: under ASan+UBSan)"
	@echo "make check-faults    the slow fault scenarios (two senders, locks, full disk, valgrind)"
	@echo "make check-ocr       import real scans (PDF, images) through the OCR helper"
	@echo "make check-browser   print the HTML compliance report with headless Chromium and check it"
	@echo "make check-imap      read agencies' replies from a real IMAP server (dovecot) and check them"
	@echo "make check-pg        the store's unit tests and test_pg.py against a throw-away PostgreSQL cluster"
	@echo "make check-pg-integration  the integration tests of make check, on a throw-away PostgreSQL cluster"
	@echo "make deps            install the Debian packages the build and tests need"
	@echo "make install         install under PREFIX (default /usr/local), DESTDIR for staging"

-include $(CORE_OBJS:.o=.d) $(CTL_OBJS:.o=.d) $(OCR_OBJS:.o=.d) $(BUILD)/obj/deadlined.d $(BUILD)/obj/deadlinectl.d \
         $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/obj/tests/%.d)

# Further targets (benchmarks, fuzzing, packaging) live in mk/*.mk.
# A recipe line that installs those of the Debian packages $(1) that are
# missing (as root; otherwise it says what to run and fails): what a test
# suite of its own needs beyond `make deps`.
install-missing-debs = missing=$$(for p in $(1); do \
		dpkg-query -W -f '$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	else \
		echo "Run as root: apt-get install --no-install-recommends" $$missing; exit 1; \
	fi

-include $(sort $(wildcard mk/*.mk))
