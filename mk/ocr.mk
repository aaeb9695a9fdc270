# Scans in: deadlinectl import on real scans, read by the OCR helper.
#
#   make check-ocr        typeset the project's directives, scan them at 300,
#                         200 and 150 dpi into image-only PDFs, and import
#                         them (tests/integration/test_ocr.py; a few minutes)
#   make ocr-test-deps    the Debian packages only these tests need (as root)
#   make bench-ocr        time per page and peak memory of a 2- and a
#                         10-page scan, beside the tesseract program alone
#
# What the helper itself needs (libtesseract, poppler, the Vietnamese and
# orientation models) comes with `make deps`.

OCR_TEST_DEPS := tesseract-ocr tesseract-ocr-eng imagemagick img2pdf qpdf python3-pil fonts-dejavu-core

.PHONY: check-ocr ocr-test-deps bench-ocr

ocr-test-deps:
	@$(call install-missing-debs,$(OCR_TEST_DEPS))

check-ocr: $(PROGRAMS) ocr-test-deps
	DEADLINED_BUILD=$(abspath $(BUILD)) DEADLINED_SOURCE=$(CURDIR) DEADLINED_SANITIZE=$(SANITIZE) \
		$(PYTHON) -m pytest -q -p no:cacheprovider -m ocr tests/integration $(PYTEST_ARGS)

bench-ocr: $(PROGRAMS) ocr-test-deps
	$(PYTHON) tests/bench/bench-ocr.py $(abspath $(BUILD))
