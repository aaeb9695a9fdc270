/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared between directive.c (structure), directive-date.c (deadlines) and
 * directive-roles.c (lead and cooperating agencies). Not a public API. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "directive.h"
#include "textnorm.h"
#include "timeutil.h"

/* Columns of the two-column layout are set apart by this many spaces. */
#define COLUMN_GAP 3
#define COLUMNS_MAX 4

struct line {
        const char *s;
        size_t len;
        bool blank;
        unsigned page;          /* from 1 (see number_pages()) */
        unsigned lineno;        /* on that page, from 1 */
        bool furniture;         /* a running head: not text */
};

struct span {
        const char *s;
        size_t len;
        size_t indent;          /* bytes from the line's start */
};

/* Scans (directive-scan.c). Splits text into lines: at a line feed, or a
 * form feed, which also starts the next page. */
int directive_split_lines(const char *text, size_t len, struct line **ret, size_t *ret_n);
/* Gives every line its page and its line on that page, and marks running
 * heads: a form feed starts a page; in text without them, so does the next
 * page's number alone between blank lines. */
void directive_number_pages(struct line *lines, size_t n_lines);
/* A page number, a rule, a running head or a speck alone: no text. */
bool directive_is_page_furniture(const struct line *l);
/* Blanks out OCR's specks inside words and sentences, keeping the text's
 * length (so byte ranges found in it hold for the text as written). */
void directive_depunct(char *s);
/* Whether the UTF-8 character at s (n bytes left) is a small letter. */
bool directive_lower_at(const char *s, size_t n);
/* The length of the UTF-8 sequence a lead byte starts. */
size_t directive_utf8_len(unsigned char c);

/* Item markers (directive-marker.c). */
enum mark {
        MARK_NONE,
        MARK_NUMBER,            /* "1." "1)" */
        MARK_SUBNUMBER,         /* "1.1." "1.1" */
        MARK_LETTER,            /* "a)" "đ)" "a." */
        MARK_GLYPH,             /* "©)" "¢)": a sub-item whose letter OCR lost */
        MARK_ROMAN,             /* "II." */
};

struct marker {
        enum mark mark;
        int num, sub;
        bool lookalike;         /* the number has a letter OCR put for a digit ("S." "l2.") */
        char term;              /* what closed it: '.' or ')' */
        char letter[8];         /* UTF-8, lower case */
        size_t skip;            /* bytes up to the item's text */
        size_t alt_skip;        /* a sub-number read as a number: bytes up to its text */
};

/* The marker at a line's start, as written. */
struct marker directive_line_marker(const struct span *sp);
/* The letter a sub-item marker stands for in the sequence, OCR's damage
 * repaired, or NULL when it starts no sub-item. `last` is the letter
 * before ("" for none), `open` whether sub-items are due (the heading
 * ends with a colon, or its sub-items have begun), `item_term` how the
 * document closes its item numbers ('.' or ')', 0 unknown). */
const char *directive_letter_repair(const struct marker *m, const char *last, bool open, char item_term,
                                    int last_num);

/* Layout (directive-header.c). */
size_t directive_layout_columns(const struct line *l, struct span *cols, size_t max);
struct span directive_layout_trimmed(const struct line *l);
char *directive_layout_normalised(const char *s, size_t n);
bool directive_layout_words_are(const struct span *sp, const char *phrase, bool prefix);
bool directive_layout_is_decoration(const struct span *sp);

/* Number, date, subject and issuer from the lines above the first item;
 * *ret_issued is left alone when no date is found. */
int directive_parse_header(const struct line *lines, size_t n_lines, size_t first_item_line, struct directive *d,
                           int32_t *ret_issued);
/* The addressees ("Kính gửi: …") above the first item, resolved through
 * the index: d->addressees and d->addressees_unmatched, both allocated
 * (maybe empty) whatever the text. */
int directive_parse_addressees(const struct textnorm_index *idx, const struct line *lines, size_t n_lines,
                               size_t first_item_line, struct directive *d);
/* The signer, from the signature block at or after body_end. */
int directive_parse_signer(const struct line *lines, size_t n_lines, size_t body_end, bool has_items,
                           struct directive *d);

/* Whether the words of `phrase` (folded, space-separated) are the tokens
 * from i on, up to OCR shapes; returns how many tokens they are, or 0. */
size_t directive_words_at(const struct textnorm_tokens *t, size_t i, const char *phrase);

/* The document's date as the header writes it: "ngày 08 tháng 4 năm 2025"
 * or "ngày 08/4/2025". Returns true and the day. */
bool directive_find_issued(const struct textnorm_tokens *t, int32_t *ret_day);

struct deadline {
        bool has_due;
        struct due due;
        int monthly_day;        /* "hằng tháng … trước ngày 25": 25; 0 if none */
        int workdays;           /* due is this many working days after workdays_from; 0 if not */
        int32_t workdays_from;
        unsigned flags;         /* DIRECTIVE_TASK_* about the deadline */
};

/* Finds an item's own deadline. `issued` is the document's day, or
 * INT32_MIN when unknown. */
void directive_find_deadline(const struct textnorm_tokens *t, int32_t issued, struct deadline *ret);

struct roles {
        struct textnorm_mention *mentions;
        enum directive_role *role;
        size_t n;
        bool has_lead;          /* a lead mention, matched or not */
};

/* Finds who leads and who cooperates in an item. */
int directive_find_roles(const struct textnorm_index *idx, const struct textnorm_tokens *t, struct roles *ret);
void directive_roles_done(struct roles *r);
