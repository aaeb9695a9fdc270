/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* deadlinectl import's parts: reading the three formats and the command
 * (ctl-import.c), the apply step and the re-import rules' preview
 * (ctl-import-apply.c, ctl-reimport.c), the dry run's review
 * (ctl-import-review.c). Not a public API. */

#include <stdbool.h>
#include <stddef.h>

#include "ctl-reimport.h"
#include "ctl.h"
#include "scanformat.h"

/* One task to import, whatever the input format. */
struct item {
        char *document;
        char *ref;
        char *title;
        char *detail;
        char *due;
        char *original_due;             /* the deadline as first set, when the input says (export's column) */
        bool original_due_given;        /* it says: original_due is that, NULL for none; else the same as due */
        /* A deadline counted in working days: its rule as export writes it,
         * "15wd:2025-03-12" (NULL: none), read by validate() into days and
         * from. */
        char *due_rule;
        int due_rule_days;
        char *due_rule_from;
        char *recurrence;
        char **lead;
        char **support;
        enum task_status status;
        unsigned flags;                 /* DIRECTIVE_TASK_* */
        char **unmatched;               /* "text (did you mean: a, b)" */
        int line;                       /* where it came from, for errors */
        unsigned page, page_line;       /* a directive's item: where it starts; a CSV row: 0 and its line */
};

/* Not a DIRECTIVE_TASK_* bit: --default-lead gave the item its lead. */
#define IMPORT_DEFAULT_LEAD (1u << 16)

struct import {
        struct document doc;            /* the directive's document, if any */
        char **addressees;              /* a directive's "Kính gửi": the ids matched */
        char **addressees_unmatched;    /* and the lines that matched nobody */
        struct item *items;
        size_t n;
        struct reimport_conflicts conflicts;
        /* When notices of the assignments it makes become owed: the
         * command's time, or 0 with --no-notify (old documents imported
         * quietly). */
        int64_t notice_at;
};

struct review {
        bool no_number;         /* a directive without "Số: …" nor --document-number */
        size_t n_need_lead;     /* items with no lead */
        bool partial;           /* --partial: those would be left out */
};

/* How a scan is read (ctl-scan.c). */
struct scan_options {
        const char *language;   /* tesseract's model: "vie" */
        unsigned max_pages;
        uint64_t max_pixels;
        unsigned jobs;          /* pages at once; 0: as many as CPUs */
};

/* Runs the OCR helper on `path` (or on `data`, standard input already
 * read) and returns its text, pages separated by form feeds; 0, or the
 * exit code after a one-line error. Shows progress on a terminal. */
int scan_read(struct ctl *c, const char *path, enum scan_format format, const struct scan_options *o,
              const char *data, size_t data_size, char **ret_text, size_t *ret_size);

/* Applies the import in one transaction (preview: rolled back, to find
 * the conflicts with people's work); 0, or the exit code it failed with. */
int import_apply(struct ctl *c, struct import *im, bool preview, size_t *ret_added, size_t *ret_updated);
/* The items that have a lead, for --partial and the preview; they share
 * the import's strings, so only the array is freed. */
int import_with_lead(const struct import *im, struct import *ret);
/* For a dry run: fills im->conflicts, without changing the database. */
int import_preview_conflicts(struct ctl *c, struct import *im);

bool import_item_needs_lead(const struct item *it);
/* "item 3.a (p2:19)" */
void import_item_name(const struct item *it, char *buf, size_t size);
bool import_review_complete(const struct review *rv);
int import_fail_no_number(struct ctl *c, const char *path);
int import_fail_need_lead(struct ctl *c, const char *path, const struct import *im, const struct review *rv);
/* The dry run: the document, every item and where it starts, the
 * conflicts; as JSON with --json. */
int import_print_review(struct ctl *c, const struct import *im, const struct review *rv);
