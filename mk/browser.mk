# The compliance report in a browser: deadlinectl report --format html,
# printed to PDF by headless Chromium and read back with pdftotext.
#
#   make check-browser       print the HTML report on A4 and check its
#                            figures (tests/integration/test_report_browser.py);
#                            keeps $(BUILD)/report-screenshot.png and
#                            $(BUILD)/report.pdf for a person to look at
#   make browser-test-deps   the Debian packages only these tests need (as root)

BROWSER_TEST_DEPS := chromium poppler-utils fonts-dejavu-core

.PHONY: check-browser browser-test-deps

browser-test-deps:
	@$(call install-missing-debs,$(BROWSER_TEST_DEPS))

check-browser: $(PROGRAMS) browser-test-deps
	DEADLINED_BUILD=$(abspath $(BUILD)) DEADLINED_SOURCE=$(CURDIR) DEADLINED_SANITIZE=$(SANITIZE) \
		$(PYTHON) -m pytest -q -p no:cacheprovider -m browser tests/integration $(PYTEST_ARGS)
