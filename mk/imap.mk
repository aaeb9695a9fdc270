# The inbox read from a real IMAP server: Debian's dovecot, started by the
# tests on a loopback port with implicit TLS and a certificate from the test
# CA, as root dropping to nobody (tests/integration/imapserver.py).
#
#   make check-imap       the tests marked `imap` (tests/integration/test_imap.py)
#   make imap-test-deps   the Debian packages only these tests need (as root)

IMAP_TEST_DEPS := dovecot-imapd openssl

.PHONY: check-imap imap-test-deps

imap-test-deps:
	@$(call install-missing-debs,$(IMAP_TEST_DEPS))

check-imap: $(PROGRAMS) imap-test-deps
	@if [ "$$(id -u)" != 0 ]; then echo "check-imap runs dovecot, which starts as root: run it as root"; exit 1; fi
	DEADLINED_BUILD=$(abspath $(BUILD)) DEADLINED_SOURCE=$(CURDIR) DEADLINED_SANITIZE=$(SANITIZE) \
		$(PYTHON) -m pytest -q -p no:cacheprovider -m imap tests/integration $(PYTEST_ARGS)
