/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The OCR helper's parts (deadlined-ocr.c is the program): the pages of a
 * PDF or image file (ocr-source.c: poppler for PDF, leptonica for PNG,
 * JPEG and TIFF) and the reading of one page image (ocr-read.c:
 * tesseract, orientation and skew first). Only the helper links these
 * libraries; deadlinectl runs it (ctl-scan.c) and neither deadlined nor
 * deadlinectl includes this header. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "scanformat.h"

struct Pix;

/* What bounds the work on one input: both settable on the command line. */
struct ocr_limits {
        unsigned max_pages;     /* pages a document may have */
        uint64_t max_pixels;    /* pixels of one page image, as decoded or rendered */
        unsigned dpi;           /* resolution a PDF page without text is rendered at */
        unsigned page_seconds;  /* time tesseract may take on one page */
};

#define OCR_DEFAULT_DPI 300
#define OCR_DEFAULT_PAGE_SECONDS 120
/* Bytes of one input file, read into memory whole. */
#define OCR_MAX_INPUT (512u * 1024 * 1024)

/* A failure: the sysexits(3) status and one line saying what is wrong. */
struct ocr_error {
        int status;
        char message[512];
};

/* Fills `e` and returns -1, for `return ocr_fail(e, EX_DATAERR, …);`. */
int ocr_fail(struct ocr_error *e, int status, const char *format, ...) _printf_(3, 4);

/* A document's pages. Not thread-safe: one caller at a time. */
struct ocr_source;

/* Takes `data` (malloc'ed, `size` bytes); the source frees it. Checks the
 * page count against the limits. */
int ocr_source_open(void *data, size_t size, enum scan_format format, const struct ocr_limits *limits,
                    struct ocr_source **ret, struct ocr_error *e);
unsigned ocr_source_pages(const struct ocr_source *s);
/* Page `index` (from 0): its text when it has a text layer (*ret_text,
 * malloc'ed), else its image as 8-bit grey (*ret_pix) with its resolution
 * set; within the pixel limit. */
int ocr_source_page(struct ocr_source *s, unsigned index, char **ret_text, struct Pix **ret_pix,
                    struct ocr_error *e);
void ocr_source_free(struct ocr_source *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ocr_source *, ocr_source_free);

/* One tesseract reader: one per thread. */
struct ocr_reader;

/* `language` as tesseract names it ("vie", "vie+eng"). */
int ocr_reader_new(const char *language, struct ocr_reader **ret, struct ocr_error *e);
/* Reads one page: turns it upright (orientation from tesseract's OSD),
 * straightens it (skew), recognises it. *ret_text is malloc'ed UTF-8. */
int ocr_reader_read(struct ocr_reader *r, struct Pix *pix, unsigned seconds, char **ret_text,
                    struct ocr_error *e);
/* The orientation found for the last page read, in degrees (0, 90, 180,
 * 270: how far it was turned to read it) and the skew corrected. */
int ocr_reader_last_rotation(const struct ocr_reader *r);
/* The time the orientation detection of the last page took. */
double ocr_reader_last_osd_seconds(const struct ocr_reader *r);
void ocr_reader_free(struct ocr_reader *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ocr_reader *, ocr_reader_free);

/* CLOCK_MONOTONIC in seconds, for the time a page takes. */
double ocr_now_seconds(void);

/* Silences the libraries' own messages on stderr (leptonica's, tesseract's
 * debug output); poppler's go to stderr, which deadlinectl keeps aside. */
void ocr_quiet(void);
