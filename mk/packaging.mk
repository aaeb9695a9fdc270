# Packaging: man pages, the data `make install` adds to the programs
# (systemd units, sysusers.d/tmpfiles.d, bash completion, templates, the
# default configuration), Debian and RPM packages, and the real boot test.

SCDOC        ?= scdoc
# Where systemd looks for units, users and tmpfiles of a package in PREFIX.
# With PREFIX=/usr, ask systemd itself (Debian 12: /lib/systemd/system).
SYSTEMD_PREFIX_DIR = $(if $(filter /usr,$(PREFIX)),$(or $(shell pkg-config --variable=$(1) systemd 2>/dev/null),$(2)),$(PREFIX)/lib/$(3))
SYSTEMDUNITDIR ?= $(call SYSTEMD_PREFIX_DIR,systemdsystemunitdir,/usr/lib/systemd/system,systemd/system)
SYSUSERSDIR    ?= $(call SYSTEMD_PREFIX_DIR,sysusersdir,/usr/lib/sysusers.d,sysusers.d)
TMPFILESDIR    ?= $(call SYSTEMD_PREFIX_DIR,tmpfilesdir,/usr/lib/tmpfiles.d,tmpfiles.d)
BASHCOMPDIR    ?= $(DATADIR)/bash-completion/completions

MAN_SRCS  := $(sort $(wildcard doc/*.[0-9].scd))
MAN_PAGES := $(MAN_SRCS:doc/%.scd=$(BUILD)/man/%)
UNITS     := deadlined.service deadlined-once.service deadlined-once.timer
TEMPLATE_FILES := $(sort $(shell find conf/templates -type f 2>/dev/null))

DEB_BUILD_DEPS += scdoc
PACKAGING_DEPS := debhelper lintian rpm scdoc fakeroot debootstrap systemd-container

.PHONY: man install-data check-units deb rpm check-service packaging-deps

man: $(MAN_PAGES)

$(BUILD)/man/%: doc/%.scd
	@mkdir -p $(@D)
	$(SCDOC) < $< > $@.tmp && mv $@.tmp $@

# The units name /usr/sbin/deadlined; a PREFIX other than /usr gets its own
# path written in.
install-data: $(MAN_PAGES)
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DATADIR)/deadlined/templates \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(SYSCONFDIR)/deadlined
	for u in $(UNITS); do \
		sed 's|/usr/sbin/deadlined|$(SBINDIR)/deadlined|' packaging/systemd/$$u > $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp && \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp && \
		mv $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; \
	done
	install -m 0644 packaging/systemd/deadlined.sysusers $(DESTDIR)$(SYSUSERSDIR)/deadlined.conf
	install -m 0644 packaging/systemd/deadlined.tmpfiles $(DESTDIR)$(TMPFILESDIR)/deadlined.conf
	install -m 0644 contrib/bash-completion/deadlinectl $(DESTDIR)$(BASHCOMPDIR)/deadlinectl
	for m in $(MAN_PAGES); do \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/ || exit 1; \
	done
	for f in $(TEMPLATE_FILES); do \
		install -D -m 0644 $$f $(DESTDIR)$(DATADIR)/deadlined/templates/$${f#conf/templates/} || exit 1; \
	done
	for f in contrib/webhook-templates/*.json; do \
		install -D -m 0644 $$f $(DESTDIR)$(DATADIR)/deadlined/webhook-templates/$${f##*/} || exit 1; \
	done
	@# An administrator's configuration is never overwritten.
	test -e $(DESTDIR)$(SYSCONFDIR)/deadlined/deadlined.conf || \
		install -m 0640 packaging/deadlined.conf $(DESTDIR)$(SYSCONFDIR)/deadlined/deadlined.conf

# Static checks of the units that need neither root nor the installed
# programs: `systemd-analyze verify` (on copies pointing at a stand-in
# executable, since verify insists that ExecStart= exists) must print
# nothing, and the exposure must be 1.5 or lower.
check-units:
	@tests/service/check-units.sh

deb:
	packaging/build-deb.sh $(VERSION) $(abspath $(BUILD))

rpm:
	packaging/build-rpm.sh $(VERSION) $(abspath $(BUILD))

# Root only: builds the .deb, installs it into a cached minimal Debian tree
# and boots that under systemd-nspawn. See tests/service/check-service.sh.
check-service:
	tests/service/check-service.sh $(VERSION) $(abspath $(BUILD))

packaging-deps:
	@if [ "$$(id -u)" = 0 ]; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $(PACKAGING_DEPS); \
	else \
		echo "Run as root: apt-get install --no-install-recommends $(PACKAGING_DEPS)"; \
	fi
