/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Telling a scan's format by its content (scanformat.h). */

#include <string.h>
#include <strings.h>

#include "scanformat.h"

enum scan_format scan_format_sniff(const void *head, size_t n) {
        const unsigned char *p = head;

        if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
                return SCAN_PNG;
        if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
                return SCAN_JPEG;
        if (n >= 4 && (memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0))
                return SCAN_TIFF;
        if (memmem(p, n < SCAN_SNIFF_BYTES ? n : SCAN_SNIFF_BYTES, "%PDF-", 5))
                return SCAN_PDF;
        return SCAN_NONE;
}

enum scan_format scan_format_from_name(const char *path) {
        static const struct {
                const char *ext;
                enum scan_format format;
        } table[] = {
                { ".pdf", SCAN_PDF },   { ".png", SCAN_PNG },   { ".jpg", SCAN_JPEG },
                { ".jpeg", SCAN_JPEG }, { ".tif", SCAN_TIFF },  { ".tiff", SCAN_TIFF },
        };
        const char *dot = strrchr(path, '.');

        if (!dot || strchr(dot, '/'))
                return SCAN_NONE;
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
                if (strcasecmp(dot, table[i].ext) == 0)
                        return table[i].format;
        return SCAN_NONE;
}

const char *scan_format_to_string(enum scan_format f) {
        static const char *const names[_SCAN_FORMAT_MAX] = {
                [SCAN_NONE] = "text", [SCAN_PDF] = "PDF", [SCAN_PNG] = "PNG",
                [SCAN_JPEG] = "JPEG", [SCAN_TIFF] = "TIFF",
        };
        return f >= 0 && f < _SCAN_FORMAT_MAX ? names[f] : "unknown";
}
