# OCR fixtures for the directive parser, made from the project's own directives.
#
#   make scans-deps   the Debian packages the two targets below need (as root)
#   make scans        typeset every clean directive (tests/data/directives/NAME.txt)
#                     on A4, degrade the pages to 300, 200 and 150 dpi and a fainter
#                     150 dpi (Q = 300, 200, 150, 150faint), read them with
#                     tesseract -l vie and -l eng -> NAME.scan-Q-LANG.txt; the page
#                     images and PDFs stay in build/scans/
#   make ocr-seeds    NAME.ocr-seedN.txt for N = 1..8 with tools/ocr-degrade.py
#
# Neither is part of `make check`: the outputs are committed fixtures. tesseract's
# output depends on its version and trained data (these were made with Debian 12's
# tesseract 5.3.0 and tesseract-ocr-vie/-eng), so rerun `make scans` only to change
# the fixtures on purpose, and review the diff.

SCANS_PYTHON  ?= /usr/bin/python3
SCANS_DIR     := build/scans
SCANS_FIXTURES := tests/data/directives
SCANS_ARGS    ?=
# the clean directives: NAME.txt, not NAME.scan-*.txt or NAME.ocr*.txt
SCANS_SOURCES := $(strip $(foreach f,$(wildcard $(SCANS_FIXTURES)/*.txt),\
                   $(if $(findstring .,$(basename $(notdir $(f)))),,$(f))))
SCANS_DEPS    := tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng img2pdf \
                 fonts-dejavu-core python3-pil
OCR_SEEDS     := 1 2 3 4 5 6 7 8

.PHONY: scans ocr-seeds scans-deps

scans:
	$(SCANS_PYTHON) tools/make-scans.py --fixtures $(SCANS_FIXTURES) --build $(SCANS_DIR) $(SCANS_ARGS)

ocr-seeds:
	@set -e; for f in $(SCANS_SOURCES); do \
		for n in $(OCR_SEEDS); do \
			out=$${f%.txt}.ocr-seed$$n.txt; \
			$(SCANS_PYTHON) tools/ocr-degrade.py --seed $$n < $$f > $$out.tmp; \
			mv $$out.tmp $$out; echo "ocr-seeds: wrote $$out"; \
		done; \
	done

scans-deps:
	@if [ "$$(id -u)" = 0 ]; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $(SCANS_DEPS); \
	else \
		echo "Run as root: apt-get install --no-install-recommends $(SCANS_DEPS)"; \
	fi
