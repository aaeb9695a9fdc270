/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The formats of a scanned document that `deadlinectl import` hands to the
 * OCR helper, told by their first bytes (and, to name what a file should
 * have been, by its name). Pure: no I/O. */

#include <stddef.h>
#include <stdint.h>

enum scan_format {
        SCAN_NONE,      /* not a scan: text, CSV or JSON, or anything else */
        SCAN_PDF,
        SCAN_PNG,
        SCAN_JPEG,
        SCAN_TIFF,
        _SCAN_FORMAT_MAX,
};

/* How many leading bytes scan_format_sniff() looks at. A PDF's "%PDF-"
 * may follow some junk (a mail header, a BOM) within them. */
#define SCAN_SNIFF_BYTES 1024

/* What bounds the reading of one scan, unless the command line says
 * otherwise (deadlinectl import --max-pages, --max-pixels). */
#define SCAN_DEFAULT_MAX_PAGES 200
#define SCAN_DEFAULT_MAX_PIXELS UINT64_C(40000000)  /* A4 at 600 dpi is 35 Mpx */

enum scan_format scan_format_sniff(const void *head, size_t n);
/* By the name's extension (.pdf, .png, .jpg, .jpeg, .tif, .tiff). */
enum scan_format scan_format_from_name(const char *path);
/* "PDF", "PNG", "JPEG", "TIFF". */
const char *scan_format_to_string(enum scan_format f);
