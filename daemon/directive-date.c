/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Deadline phrases of Vietnamese directives (see directive.h), read from
 * folded tokens so that OCR's lost diacritics do not matter. */

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "directive-internal.h"

/* How far back a completion verb governs a deadline phrase. */
#define GOVERN_WINDOW 14
#define MAX_CANDIDATES 16
#define RELATIVE_DAYS_MAX 3660
/* The furthest a deadline lies after its document: ten years. */
#define HORIZON_DAYS 3660

size_t directive_words_at(const struct textnorm_tokens *t, size_t i, const char *phrase) {
        size_t n = 0, sure = 0;

        while (*phrase) {
                char w[32];
                const char *word;
                size_t l = strcspn(phrase, " ");
                if (l >= sizeof(w) || i + n >= t->n || t->tokens[i + n].punct)
                        return 0;
                memcpy(w, phrase, l);
                w[l] = 0;
                word = t->tokens[i + n].word;
                if (!textnorm_word_within(word, w))
                        return 0;
                /* Read whole, or no real word (textnorm_word_near()). */
                sure += streq(word, w) || !textnorm_is_syllable(word);
                n++;
                phrase += l;
                phrase += strspn(phrase, " ");
        }
        /* A real word stands in for a cue word only beside one that is
         * surely the phrase's: "phi hợp", "phdi hẹp" are "phối hợp";
         * "trực" alone is no "trước". */
        return sure > 0 ? n : 0;
}

static bool is_punct(const struct textnorm_tokens *t, size_t i, char c) {
        return i < t->n && t->tokens[i].punct && t->tokens[i].word[0] == c;
}

/* A decimal number of up to four digits. OCR reads "1" as "l", "I" or
 * "|" and "0" as "o", so those letters count as digits when the part has
 * at least one real digit ("l5" is 15; "lo" is no number). */
static bool parse_number(const char *s, size_t n, int *ret) {
        bool digit = false;
        int v = 0;

        if (n == 0 || n > 4)
                return false;
        for (size_t k = 0; k < n; k++)
                if (s[k] >= '0' && s[k] <= '9')
                        digit = true;
        if (!digit)
                return false;
        for (size_t k = 0; k < n; k++) {
                int d;
                if (s[k] >= '0' && s[k] <= '9')
                        d = s[k] - '0';
                else if (s[k] == 'l' || s[k] == 'i' || s[k] == '|')
                        d = 1;
                else if (s[k] == 'o')
                        d = 0;
                else
                        return false;
                v = v * 10 + d;
        }
        *ret = v;
        return true;
}

static bool roman_value(const char *s, size_t n, bool h_is_two, int *ret);

/* "H" is two strokes OCR joined ("Quý H" for "Quý II", "IH" for "III"),
 * or one stroke with a speck ("IH1"): the reading that makes a numeral. */
static bool parse_roman(const char *s, size_t n, int *ret) {
        return roman_value(s, n, true, ret) || roman_value(s, n, false, ret);
}

static bool roman_value(const char *s, size_t n, bool h_is_two, int *ret) {
        static const char *const numerals[] = { "i", "ii", "iii", "iv" };
        char buf[16];
        size_t m = 0;

        if (n == 0 || n >= 8)
                return false;
        /* OCR writes "l", "1", "|" or "t" for "I" inside a numeral ("I11",
         * "ITI"), and "]" or "!" at its end ("I]"). */
        for (size_t k = 0; k < n; k++) {
                char c = s[k];
                if (c == 'h' && h_is_two) {
                        buf[m++] = 'i';
                        c = 'i';
                } else if (c == 'l' || c == '1' || c == '|' || ((c == 't' || c == 'h') && k > 0) ||
                           ((c == ']' || c == '!') && k + 1 == n))
                        c = 'i';
                if (c != 'i' && c != 'v')
                        return false;
                buf[m++] = c;
        }
        buf[m] = 0;
        for (size_t k = 0; k < ELEMENTSOF(numerals); k++)
                if (streq(buf, numerals[k])) {
                        *ret = (int) k + 1;
                        return true;
                }
        return false;
}

/* Splits a word like "15/5/2025", "15-5-2025", "15.5.2025" or "7/2025"
 * into at most three numbers; returns how many, 0 if it is not one. */
static size_t split_numbers(const char *w, int out[static 3]) {
        size_t n = 0;

        for (const char *p = w;;) {
                size_t l = strcspn(p, "/-.");
                if (n == 3 || !parse_number(p, l, &out[n]))
                        return 0;
                n++;
                p += l;
                if (!*p)
                        return n;
                p++;
        }
}

static bool word_number(const struct textnorm_tokens *t, size_t i, int *ret) {
        if (i >= t->n || t->tokens[i].punct)
                return false;
        return parse_number(t->tokens[i].word, strlen(t->tokens[i].word), ret);
}

static bool year_ok(int y) {
        return y >= YEAR_MIN && y <= YEAR_MAX;
}

/* "năm 2025": with a year after it, "năm" may take one real edit
 * ("ndém"), for the year confirms the reading. Returns 2, or 0. */
static size_t year_at(const struct textnorm_tokens *t, size_t i, int *ret) {
        if (i + 1 >= t->n || t->tokens[i].punct || textnorm_word_cost(t->tokens[i].word, "nam") > 1.31)
                return 0;
        return word_number(t, i + 1, ret) && year_ok(*ret) ? 2 : 0;
}

/* The context a date is read in: the document's date fills a missing year
 * and is the base of relative deadlines. */
struct ctx {
        const struct textnorm_tokens *t;
        int32_t issued;         /* INT32_MIN: unknown */
        unsigned flags;
};

/* A year the text leaves out is the document's, or the next one when the
 * date would otherwise fall before the document. */
static bool complete_year(struct ctx *c, int d, int m, int *ret_y) {
        int y, dd, mm;

        if (c->issued == INT32_MIN) {
                c->flags |= DIRECTIVE_TASK_NEEDS_DATE;
                return false;
        }
        civil_from_days(c->issued, &y, &mm, &dd);
        if (m < mm || (m == mm && d < dd))
                y++;
        *ret_y = y;
        return true;
}

enum when_kind {
        WHEN_DAY,               /* an exact day */
        WHEN_DAY_OF_MONTH,      /* "ngày 25" alone: for monthly recurrence */
};

struct when {
        enum when_kind kind;
        int32_t day;
        int minute;             /* -1: none */
        int day_of_month;
        int workdays;           /* counted in working days from `from` (0: not) */
        int32_t from;
};

static bool make_day(struct ctx *c, int y, int m, int d, bool has_year, struct when *ret) {
        if (!has_year && (m < 1 || m > 12 || d < 1 || d > 31 || !complete_year(c, d, m, &y)))
                return false;
        if (!civil_valid(y, m, d))
                return false;
        *ret = (struct when) { .kind = WHEN_DAY, .day = days_from_civil(y, m, d), .minute = -1 };
        return true;
}

/* "15/5/2025", "15/5", "20 tháng 6 năm 2025", "20 tháng 6/2025", "20
 * tháng 6", or a bare day "25". Returns tokens consumed, 0 if none. */
static size_t parse_date(struct ctx *c, size_t i, struct when *ret) {
        const struct textnorm_tokens *t = c->t;
        int v[3], m[3], y;
        size_t n, k;

        if (i >= t->n || t->tokens[i].punct)
                return 0;
        n = split_numbers(t->tokens[i].word, v);
        if (n == 3)
                return make_day(c, v[2], v[1], v[0], true, ret) ? 1 : 0;
        if (n == 2)
                return make_day(c, 0, v[1], v[0], false, ret) ? 1 : 0;
        if (n != 1)
                return 0;
        k = directive_words_at(t, i + 1, "thang");
        if (k > 0 && i + 2 < t->n && !t->tokens[i + 2].punct) {
                size_t mn = split_numbers(t->tokens[i + 2].word, m);
                if (mn == 2)
                        return make_day(c, m[1], m[0], v[0], true, ret) ? 3 : 0;
                if (mn != 1)
                        return 0;
                if (year_at(t, i + 3, &y))
                        return make_day(c, y, m[0], v[0], true, ret) ? 5 : 0;
                return make_day(c, 0, m[0], v[0], false, ret) ? 3 : 0;
        }
        if (v[0] < 1 || v[0] > 31)
                return 0;
        *ret = (struct when) { .kind = WHEN_DAY_OF_MONTH, .day_of_month = v[0], .minute = -1 };
        return 1;
}

/* "17 giờ", "17 giờ 30", "17 giờ 30 phút", "17h", "17h30", "17g00". */
static size_t parse_time(const struct textnorm_tokens *t, size_t i, int *ret_minute) {
        int h, mi = 0;
        size_t n = 0;

        if (i >= t->n || t->tokens[i].punct)
                return 0;
        if (word_number(t, i, &h) && directive_words_at(t, i + 1, "gio")) {
                n = 2;
                if (word_number(t, i + 2, &mi)) {
                        n = 3;
                        n += directive_words_at(t, i + 3, "phut");
                }
        } else {
                const char *w = t->tokens[i].word;
                size_t l = strspn(w, "0123456789");
                if (l == 0 || l > 2 || (w[l] != 'h' && w[l] != 'g') || !parse_number(w, l, &h))
                        return 0;
                if (w[l + 1] && !parse_number(w + l + 1, strlen(w + l + 1), &mi))
                        return 0;
                n = 1;
        }
        if (h < 0 || h > 23 || mi < 0 || mi > 59)
                return 0;
        *ret_minute = h * 60 + mi;
        return n;
}

/* "trước [17 giờ] [ngày] DATE": the shape after "trước", "chậm nhất" and
 * "đến". */
static size_t parse_before(struct ctx *c, size_t i, struct when *ret) {
        int minute = -1;
        size_t j = i, n, k;

        j += directive_words_at(c->t, j, "la");
        j += directive_words_at(c->t, j, "vao");
        j += directive_words_at(c->t, j, "truoc");
        j += parse_time(c->t, j, &minute);
        j += directive_words_at(c->t, j, "het");
        k = directive_words_at(c->t, j, "ngay");
        j += k;
        n = parse_date(c, j, ret);
        /* A bare day needs its "ngày": "trước ngày 25", not "trước 30 ngày". */
        if (n == 0 || (ret->kind == WHEN_DAY_OF_MONTH && k == 0))
                return 0;
        ret->minute = minute;
        return j + n - i;
}

static bool year_prefix_of_issued(const struct ctx *c, const char *w) {
        char year[8];
        int y, m, d;
        size_t n = strspn(w, "0123456789");

        if (c->issued == INT32_MIN || n != 3)
                return false;
        civil_from_days(c->issued, &y, &m, &d);
        snprintf(year, sizeof(year), "%04d", y);
        return strncmp(year, w, n) == 0;
}

static bool month_end(struct ctx *c, int y, int m, bool has_year, struct when *ret) {
        if (m < 1 || m > 12)
                return false;
        if (!has_year && !complete_year(c, 1, m, &y))
                return false;
        if (!year_ok(y))
                return false;
        return make_day(c, y, m, days_in_month(y, m), true, ret);
}

/* After "trong": "tháng 7/2025", "tháng 7 năm 2025", "tháng 7"; "Quý
 * III/2025", "quý IV năm 2025", "quý IV"; "năm 2025", "năm nay", "năm";
 * "6 tháng đầu năm [2025]". Relative spans are parse_relative()'s. */
static size_t parse_period(struct ctx *c, size_t i, struct when *ret) {
        const struct textnorm_tokens *t = c->t;
        int v[3], y = 0, q, mo;
        size_t n;

        if ((n = directive_words_at(t, i, "thang")) > 0 && i + 1 < t->n && !t->tokens[i + 1].punct) {
                size_t k = split_numbers(t->tokens[i + 1].word, v);
                if (k == 2)
                        return month_end(c, v[1], v[0], true, ret) ? 2 : 0;
                if (k != 1)
                        return 0;
                if (year_at(t, i + 2, &y))
                        return month_end(c, y, v[0], true, ret) ? 4 : 0;
                return month_end(c, 0, v[0], false, ret) ? 2 : 0;
        }
        if (directive_words_at(t, i, "quy") && i + 1 < t->n && !t->tokens[i + 1].punct) {
                const char *w = t->tokens[i + 1].word;
                size_t l = strcspn(w, "/");
                bool has_year = false;

                if (!parse_roman(w, l, &q) && !(parse_number(w, l, &q) && q >= 1 && q <= 4))
                        return 0;
                n = 2;
                if (w[l] == '/') {
                        if (!parse_number(w + l + 1, strlen(w + l + 1), &y))
                                return 0;
                        /* A year OCR cut short ("III/202.") that begins
                         * the document's: the document's, as a quarter
                         * written without one. */
                        has_year = year_ok(y) || !year_prefix_of_issued(c, w + l + 1);
                } else if (directive_words_at(t, i + 2, "nam") && word_number(t, i + 3, &y)) {
                        has_year = true;
                        n = 4;
                }
                return month_end(c, y, q * 3, has_year, ret) ? n : 0;
        }
        if (directive_words_at(t, i, "nam")) {
                if (word_number(t, i + 1, &y))
                        return year_ok(y) && make_day(c, y, 12, 31, true, ret) ? 2 : 0;
                /* "trong năm" alone, or "trong năm nay": the document's year. */
                if (i + 1 >= t->n || t->tokens[i + 1].punct || directive_words_at(t, i + 1, "nay")) {
                        if (!complete_year(c, 31, 12, &y))
                                return 0;
                        return make_day(c, y, 12, 31, true, ret) ? 1 + directive_words_at(t, i + 1, "nay") : 0;
                }
                return 0;
        }
        /* "6 tháng đầu năm 2025": the end of the sixth month. */
        if (word_number(t, i, &mo) && (n = directive_words_at(t, i + 1, "thang dau nam")) > 0) {
                if (word_number(t, i + 1 + n, &y))
                        return month_end(c, y, mo, year_ok(y), ret) ? 2 + n : 0;
                return month_end(c, 0, mo, false, ret) ? 1 + n : 0;
        }
        return 0;
}

/* Adds `n` days to `from`, or `n` working days (Monday to Friday) when
 * `working`. The parser knows no calendar: it records the rule
 * (directive_task.due_workdays) and the importer counts the days again on
 * the configured one, holidays included. */
static int32_t add_days(int32_t from, int n, bool working) {
        if (!working)
                return from + n;
        while (n > 0) {
                int wd;
                from++;
                wd = weekday_from_days(from);
                if (wd != 0 && wd != 6)
                        n--;
        }
        return from;
}

/* "[thời hạn|vòng|thời gian] 15 ngày [làm việc] [, kể từ|tính từ|sau] …":
 * counted from the document's date. */
static size_t parse_relative(struct ctx *c, size_t i, struct when *ret) {
        const struct textnorm_tokens *t = c->t;
        size_t j = i, k;
        bool working = false;
        int n;

        if ((k = directive_words_at(t, j, "thoi han")) || (k = directive_words_at(t, j, "thoi gian")) ||
            (k = directive_words_at(t, j, "vong")))
                j += k;
        if (!word_number(t, j, &n) || !directive_words_at(t, j + 1, "ngay"))
                return 0;
        j += 2;
        if ((k = directive_words_at(t, j, "lam viec"))) {
                working = true;
                j += k;
        }
        if (n < 1 || n > RELATIVE_DAYS_MAX)
                return 0;
        if (c->issued == INT32_MIN) {
                c->flags |= DIRECTIVE_TASK_NEEDS_DATE;
                return 0;
        }
        *ret = (struct when) { .kind = WHEN_DAY, .day = add_days(c->issued, n, working), .minute = -1,
                               .workdays = working ? n : 0, .from = c->issued };
        return j - i;
}

/* Whether a completion verb governs the phrase at i: it names the task's
 * own deadline rather than some other date in the sentence. */
static bool governed(const struct textnorm_tokens *t, size_t i) {
        static const char *const verbs[] = {
                "hoan thanh", "bao cao", "trinh", "gui", "xong", "nop", "thoi han", "thoi gian",
                "hoan tat", "ket thuc", "ban hanh", "phe duyet",
        };
        for (size_t back = 1; back <= GOVERN_WINDOW && back <= i; back++) {
                size_t j = i - back;
                if (is_punct(t, j, ';') || is_punct(t, j, '.'))
                        return false;
                for (size_t k = 0; k < ELEMENTSOF(verbs); k++)
                        if (directive_words_at(t, j, verbs[k]))
                                return true;
        }
        return false;
}

/* "đến ngày" is no deadline in "tính đến ngày 31/3" (figures as of a
 * day). */
static bool den_is_cutoff(const struct textnorm_tokens *t, size_t i) {
        return i >= 1 && directive_words_at(t, i - 1, "tinh");
}

/* In "từ ngày 1/4 đến ngày 30/4" it ends a period: the deadline only when
 * the item names no other. */
static bool den_ends_period(const struct textnorm_tokens *t, size_t i) {
        for (size_t back = 2; back <= 6 && back <= i; back++)
                if (directive_words_at(t, i - back, "tu ngay"))
                        return true;
        return false;
}

struct candidate {
        struct when when;
        size_t at;
        bool governed;
        bool weak;              /* the end of a period */
};

/* The deadline phrase at i, if any: returns tokens consumed. */
static size_t phrase_at(struct ctx *c, size_t i, struct when *ret, bool *ret_governed, bool *ret_weak) {
        const struct textnorm_tokens *t = c->t;
        size_t k, n;

        *ret_governed = *ret_weak = false;
        if ((k = directive_words_at(t, i, "truoc")) && (n = parse_before(c, i + k, ret)))
                return k + n;
        /* "trước" read as a real word ("hoàn thành trực ngày 15/5"):
         * right after a completion verb and before "ngày". */
        if (i < t->n && !t->tokens[i].punct && textnorm_word_within(t->tokens[i].word, "truoc") && i >= 1 &&
            ((i >= 2 && (directive_words_at(t, i - 2, "hoan thanh") || directive_words_at(t, i - 2, "bao cao"))) ||
             directive_words_at(t, i - 1, "trinh") || directive_words_at(t, i - 1, "nop")) &&
            directive_words_at(t, i + 1, "ngay") && (n = parse_before(c, i + 1, ret)))
                return 1 + n;
        if ((k = directive_words_at(t, i, "cham nhat"))) {
                if ((n = parse_before(c, i + k, ret)))
                        return k + n;
                if (directive_words_at(t, i + k, "trong") && (n = parse_period(c, i + k + 1, ret)))
                        return k + 1 + n;
        }
        if ((k = directive_words_at(t, i, "den")) && !den_is_cutoff(t, i) &&
            (directive_words_at(t, i + k, "ngay") || directive_words_at(t, i + k, "het ngay")) &&
            (n = parse_before(c, i + k, ret))) {
                *ret_weak = den_ends_period(t, i);
                return k + n;
        }
        if ((k = directive_words_at(t, i, "trong"))) {
                if ((n = parse_period(c, i + k, ret)) || (n = parse_relative(c, i + k, ret)))
                        return k + n;
        }
        /* "Thời hạn: 30/6/2025", "thời gian hoàn thành: Quý IV/2025". */
        if ((k = directive_words_at(t, i, "thoi han hoan thanh")) || (k = directive_words_at(t, i, "thoi gian hoan thanh")) ||
            (k = directive_words_at(t, i, "thoi han"))) {
                size_t j = i + k + is_punct(t, i + k, ':');
                *ret_governed = true;
                if (directive_words_at(t, j, "truoc") || directive_words_at(t, j, "trong") ||
                    directive_words_at(t, j, "cham nhat"))
                        return 0;      /* read as their own phrase next */
                if ((n = parse_before(c, j, ret)) && ret->kind == WHEN_DAY)
                        return j + n - i;
                if ((n = parse_period(c, j, ret)))
                        return j + n - i;
        }
        return 0;
}

void directive_find_deadline(const struct textnorm_tokens *t, int32_t issued, struct deadline *ret) {
        struct ctx c = { .t = t, .issued = issued };
        struct candidate cands[MAX_CANDIDATES];
        size_t n = 0;
        bool monthly = false, periodic = false;
        int day_of_month = 0;
        const struct candidate *pick = NULL;

        *ret = (struct deadline) {};
        for (size_t i = 0; i < t->n;) {
                struct when w;
                bool gov, weak;
                size_t k;

                if (directive_words_at(t, i, "thuong xuyen"))
                        ret->flags |= DIRECTIVE_TASK_ONGOING;
                if (directive_words_at(t, i, "hang thang"))
                        monthly = true;
                if (directive_words_at(t, i, "hang quy") || directive_words_at(t, i, "hang nam") ||
                    directive_words_at(t, i, "hang tuan") || directive_words_at(t, i, "dinh ky"))
                        periodic = true;
                k = phrase_at(&c, i, &w, &gov, &weak);
                if (k == 0) {
                        i++;
                        continue;
                }
                gov = gov || governed(t, i);
                if (w.kind == WHEN_DAY_OF_MONTH) {
                        if (day_of_month == 0)
                                day_of_month = w.day_of_month;
                } else if (n < MAX_CANDIDATES &&
                           (issued == INT32_MIN || (w.day >= issued && w.day - issued <= HORIZON_DAYS))) {
                        /* A date before the document is history it recounts;
                         * one decades after it, a year OCR misread
                         * ("2095" for "2025"). */
                        cands[n++] = (struct candidate) { .when = w, .at = i, .governed = gov, .weak = weak };
                }
                i += k;
        }

        if (monthly && day_of_month > 0)
                ret->monthly_day = day_of_month;
        else if (periodic || monthly)
                ret->flags |= DIRECTIVE_TASK_PERIODIC;

        /* The first governed date is the task's own: later ones tend to be
         * what happens next ("để tổng hợp, báo cáo Thủ tướng trước …"). */
        for (size_t k = 0; k < n && !pick; k++)
                if (cands[k].governed && !cands[k].weak)
                        pick = &cands[k];
        for (size_t k = 0; k < n && !pick; k++)
                if (!cands[k].weak)
                        pick = &cands[k];
        if (!pick && n > 0)
                pick = &cands[0];
        for (size_t k = 0; pick && k < n; k++)
                if (cands[k].when.day != pick->when.day && !cands[k].weak)
                        ret->flags |= DIRECTIVE_TASK_SEVERAL_DATES;
        if (pick) {
                ret->has_due = true;
                ret->due = (struct due) { .day = pick->when.day, .minute = pick->when.minute };
                ret->workdays = pick->when.workdays;
                ret->workdays_from = pick->when.from;
        }
        if (!ret->has_due && ret->monthly_day == 0)
                ret->flags |= DIRECTIVE_TASK_NO_DEADLINE;
        ret->flags |= c.flags;
}

bool directive_find_issued(const struct textnorm_tokens *t, int32_t *ret_day) {
        struct ctx c = { .t = t, .issued = INT32_MIN };

        for (size_t i = 0; i + 1 < t->n; i++) {
                struct when w;
                size_t k = directive_words_at(t, i, "ngay");
                if (k == 0)
                        continue;
                if (parse_date(&c, i + k, &w) > 0 && w.kind == WHEN_DAY) {
                        *ret_day = w.day;
                        return true;
                }
        }
        return false;
}
