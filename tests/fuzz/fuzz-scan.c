/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the OCR helper's entry: any bytes as a PDF, PNG,
 * JPEG or TIFF file, opened and every page's image or text taken, as
 * deadlined-ocr does before tesseract reads it. No crash, no leak, and the
 * limits hold: no page image beyond the pixel limit, no document beyond the
 * page limit. Built and run by `make fuzz-scan` (mk/fuzz.mk). Tesseract is
 * left out: what is fuzzed is the decoders' side of the helper. */

#include <leptonica/allheaders.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocr.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PIXELS (1u << 20)
#define MAX_PAGES 4

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        ocr_quiet();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const struct ocr_limits limits = {
                .max_pages = MAX_PAGES, .max_pixels = MAX_PIXELS, .dpi = 72, .page_seconds = 1,
        };
        struct ocr_source *s = NULL;
        struct ocr_error e;
        void *copy = malloc(size ? size : 1);

        if (!copy)
                return 0;
        memcpy(copy, data, size);
        if (ocr_source_open(copy, size, scan_format_sniff(data, size), &limits, &s, &e) < 0) {
                if (e.status == 0 || !e.message[0])
                        abort();
                return 0;
        }
        if (ocr_source_pages(s) == 0 || ocr_source_pages(s) > MAX_PAGES)
                abort();
        for (unsigned i = 0; i < ocr_source_pages(s); i++) {
                char *text = NULL;
                PIX *pix = NULL;
                if (ocr_source_page(s, i, &text, &pix, &e) < 0) {
                        if (text || pix || e.status == 0)
                                abort();
                        continue;
                }
                if (!!text == !!pix)
                        abort();
                if (pix && (pixGetDepth(pix) != 8 ||
                            (uint64_t) pixGetWidth(pix) * (uint64_t) pixGetHeight(pix) > MAX_PIXELS))
                        abort();
                free(text);
                pixDestroy(&pix);
        }
        ocr_source_free(s);
        return 0;
}
