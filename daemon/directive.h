/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Directive parsing: the text of a Vietnamese administrative directive
 * (công văn, chỉ thị, thông báo kết luận), clean or OCR-damaged, becomes a
 * document and its tasks. Pure: no I/O, no logging, no clock.
 *
 * Structure: numbered items "1." and lettered sub-items "a)" … "đ)" (also
 * "1.1."); an item with sub-items is a heading, not a task, and lends its
 * lead agency, cooperating agencies and deadline to sub-items that name
 * none. Items run across line breaks and page breaks; page furniture (the
 * two-column header, "Kính gửi", "Nơi nhận", the signature block, page
 * numbers) is not task text.
 *
 * Roles: the lead is the agency that "chủ trì" (also "giao X chủ trì"), else
 * the subject of the item ("Sở Xây dựng khẩn trương …"), else the heading's
 * ("6. Sở Kế hoạch và Đầu tư:"). Cooperating agencies follow "phối hợp
 * (với)". "Các cơ quan liên quan" names nobody. Groups ("các sở, ban,
 * ngành") are matched like agencies: pass them among the candidates.
 * An item that names no lead, nor does its heading, is for the document's
 * addressees ("Kính gửi: …", one line or a dash list, OCR-damaged too):
 * they lead it, flagged DIRECTIVE_TASK_ADDRESSEES. An item naming a lead
 * that matches nobody is not theirs: it stays without a lead.
 *
 * Deadlines: the date governed by "hoàn thành/báo cáo/trình … trước/trong/
 * chậm nhất/đến", never the date of a cited document ("Quyết định số
 * 117/QĐ-UBND ngày 14/02/2023"). "trong tháng 7/2025" is the month's last
 * day, "trong Quý III/2025" the quarter's, "trong năm 2025" the year's; a
 * date without a year takes the document's (the next year's if that would
 * fall before the document); "trong thời hạn 15 ngày kể từ ngày ký" counts
 * calendar days from the document's date ("ngày làm việc": Monday to
 * Friday). "Định kỳ hằng tháng … trước ngày 25" is the recurrence
 * "monthly:25" with no due date.
 *
 * Bad input never crashes: text above DIRECTIVE_MAX_INPUT is refused with
 * -EFBIG before anything is allocated, binary or invalid UTF-8 with
 * -EBADMSG, absurd shapes with -E2BIG; text that is no directive gives an
 * empty result (no number, no tasks). */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"
#include "textnorm.h"
#include "timeutil.h"

#define DIRECTIVE_MAX_INPUT (1024 * 1024)
#define DIRECTIVE_MAX_LINES 20000
#define DIRECTIVE_MAX_TASKS 500
/* One item's text, across all its lines. */
#define DIRECTIVE_MAX_ITEM (64 * 1024)

enum directive_role {
        DIRECTIVE_LEAD,
        DIRECTIVE_SUPPORT,
};

enum {
        DIRECTIVE_TASK_NO_DEADLINE   = 1 << 0, /* no deadline found: imported as ongoing */
        DIRECTIVE_TASK_ONGOING       = 1 << 1, /* "thường xuyên": ongoing by its wording */
        DIRECTIVE_TASK_NO_LEAD       = 1 << 2, /* no lead agency found or matched */
        DIRECTIVE_TASK_UNMATCHED     = 1 << 3, /* a mention matched no candidate */
        DIRECTIVE_TASK_SEVERAL_DATES = 1 << 4, /* several deadlines; the last governed one taken */
        DIRECTIVE_TASK_PERIODIC      = 1 << 5, /* periodic wording other than monthly */
        DIRECTIVE_TASK_NEEDS_DATE    = 1 << 6, /* relative to the document's date, which is missing */
        DIRECTIVE_TASK_ADDRESSEES    = 1 << 7, /* names no lead: the document's addressees lead it */
};

/* An agency as the text names it, with the candidate it matched. */
struct directive_mention {
        char *text;             /* as written (NFC) */
        enum directive_role role;
        char *id;               /* matched candidate, or NULL: unknown */
        double confidence;      /* of the best candidate, 0..1 */
        char *suggestions[TEXTNORM_SUGGESTIONS]; /* closest candidate ids, best first */
        double scores[TEXTNORM_SUGGESTIONS];
        size_t n_suggestions;
};

struct directive_task {
        char *ref;              /* "1", "3.a", "6.đ", "2.1" */
        char *text;             /* the item's text, lines joined, whitespace normalised */
        char *heading;          /* a sub-item's heading text, or NULL */
        char **lead;            /* matched ids, NULL-terminated, possibly empty */
        char **support;         /* matched ids, NULL-terminated, none of them a lead */
        struct directive_mention *mentions; /* every lead and support mention, in order */
        size_t n_mentions;
        char *due;              /* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM" (local), or NULL */
        struct due due_parsed;  /* the same, valid when due is set */
        char *recurrence;       /* "monthly:25", or NULL */
        /* "trong thời hạn 15 ngày làm việc kể từ ngày ký": 15 working days
         * from the day below. `due` counts them Monday to Friday; the
         * importer counts them again on the configured calendar. 0: none. */
        int due_workdays;
        int32_t due_workdays_from;
        unsigned flags;         /* DIRECTIVE_TASK_* */
        unsigned page;          /* where the item starts: page (from 1; a form feed or a */
        unsigned line;          /* page number line starts the next) and line on that page */
};

struct directive {
        char *number;           /* "2417/UBND-KTTH", or NULL */
        char *issued_on;        /* "YYYY-MM-DD", or NULL */
        char *subject;          /* after "V/v", or the title block of a chỉ thị / thông báo */
        char *issuer;           /* the header's left column: "ỦY BAN NHÂN DÂN TỈNH SƠN HÀ" */
        char *signer;           /* the last name of the signature block */
        /* "Kính gửi: …": the ids the addressee lines matched, and the
         * lines that matched nobody, both NULL-terminated, maybe empty. */
        char **addressees;
        char **addressees_unmatched;
        struct directive_task *tasks;
        size_t n_tasks;
};

/* Parses `len` bytes of UTF-8 text (no NUL needed). Candidates are the
 * agencies and groups mentions are matched against (see textnorm.h).
 * Returns 0 and *ret, or -EINVAL, -EFBIG (above DIRECTIVE_MAX_INPUT),
 * -EBADMSG (NUL, control characters, invalid UTF-8, an item above
 * DIRECTIVE_MAX_ITEM), -E2BIG (more lines or tasks than the limits, too
 * many candidates), -ENOMEM. */
int directive_parse(const char *text, size_t len, const struct textnorm_candidate *candidates,
                    size_t n_candidates, struct directive **ret);
/* The same with the candidates compiled once (textnorm_index_new()), for
 * callers that parse many texts. */
int directive_parse_indexed(const char *text, size_t len, const struct textnorm_index *idx, struct directive **ret);
struct directive *directive_free(struct directive *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct directive *, directive_free);

/* "no-deadline", "ongoing", "no-lead", "unmatched", "several-dates",
 * "periodic", "needs-date", "addressees" for one DIRECTIVE_TASK_* bit, else NULL. */
const char *directive_task_flag_to_string(unsigned flag);
