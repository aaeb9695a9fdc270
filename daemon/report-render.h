/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A compliance report (report.h) written out: an aligned text table, CSV,
 * JSON, or one self-contained HTML page (inline CSS and an inline SVG bar
 * chart, no external assets, A4 when printed, its table headers repeated
 * on each page) in the configuration's language. Pure: each appends to a
 * strbuf, whose sticky error it returns (0, -ENOMEM, -E2BIG). The daemon's
 * e-mailed report is the HTML with the CSV attached.
 *
 * The table, the CSV and the JSON speak English (they are for the command
 * line and for programs); the HTML page is for people, in Vietnamese or
 * English. Every text taken from the data (agency names, document numbers)
 * is escaped for where it goes. */

#include "config.h"
#include "report.h"
#include "strbuf.h"

enum report_format {
        REPORT_TABLE,
        REPORT_CSV,
        REPORT_JSON,
        REPORT_HTML,
        _REPORT_FORMAT_MAX,
        _REPORT_FORMAT_INVALID = -1,
};

enum report_format report_format_from_string(const char *s);
const char *report_format_to_string(enum report_format f);

int report_render_table(const struct report *r, struct strbuf *out);
/* One header line, then a row per agency (kind "agency", in rank order),
 * per document (kind "document") and the total (kind "total"). */
int report_render_csv(const struct report *r, struct strbuf *out);
int report_render_json(const struct report *r, struct strbuf *out);
int report_render_html(const struct report *r, enum language lang, struct strbuf *out);
int report_render(const struct report *r, enum report_format f, enum language lang, struct strbuf *out);
