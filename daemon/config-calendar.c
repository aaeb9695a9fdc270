/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <libconfig.h>
#include <stdio.h>

#include "config-parse.h"
#include "holiday.h"
#include "timeutil.h"
#include "workcal.h"

/* How many dates schedule.holidays, not_holidays and extra_workdays may
 * list each, and how many of them may recur every year (each recurring one
 * becomes a day in each of the years YEAR_MIN–YEAR_MAX). */
#define DATES_MAX 4000
#define RECURRING_MAX 100

static const char *check_holiday_date(const char *s) {
        struct holiday_date d;

        if (holiday_date_parse(s, &d) < 0)
                return "is not a date (use YYYY-MM-DD, years " STRINGIFY(YEAR_MIN) "-" STRINGIFY(
                        YEAR_MAX) ", or *-MM-DD for every year)";
        return NULL;
}

/* One of the three date lists, as written. */
static void parse_date_list(struct parser *p, const config_setting_t *g, const char *key, struct holiday_date **ret,
                            size_t *ret_n) {
        _cleanup_strv_free_ char **l = NULL;
        config_setting_t *list;
        char path[SETTING_PATH_MAX], epath[SETTING_PATH_MAX], q[QUOTE_MAX];
        struct holiday_date *v;
        size_t n, recurring = 0;

        if (parser_get_strv(p, g, "schedule", key, DATES_MAX, 10, check_holiday_date, &l, &list) <= 0)
                return;
        parser_path_member(path, "schedule", key);
        n = strv_length(l);
        v = calloc(n + 1, sizeof *v);
        if (!v) {
                p->oom = true;
                return;
        }
        for (size_t i = 0; i < n; i++) {
                (void) holiday_date_parse(l[i], &v[i]);
                recurring += v[i].year == 0;
                /* The syntax is strict, so equal dates are equal strings. */
                for (size_t j = 0; j < i; j++)
                        if (streq(l[i], l[j])) {
                                parser_error(p, parser_setting_elem(list, i), parser_path_elem(epath, path, i),
                                             "%s is listed twice", parser_quote(l[i], q, sizeof q));
                                break;
                        }
        }
        if (recurring > RECURRING_MAX)
                parser_error(p, list, path, "has %zu dates for every year (*-MM-DD), more than the %d allowed",
                             recurring, RECURRING_MAX);
        *ret = v;
        *ret_n = n;
}

static void format_date(const struct holiday_date *d, char buf[static 16]) {
        if (d->year == 0)
                snprintf(buf, 16, "*-%02d-%02d", d->month, d->day);
        else
                snprintf(buf, 16, "%04d-%02d-%02d", d->year, d->month, d->day);
}

static bool same_day_some_year(const struct holiday_date *a, const struct holiday_date *b) {
        return a->month == b->month && a->day == b->day && (a->year == 0 || b->year == 0 || a->year == b->year);
}

void config_holiday_rules(const struct config *c, struct holiday_rules *ret) {
        *ret = (struct holiday_rules) {
                .calendar = c->calendar,
                .workdays = c->policy.workdays,
                .add = c->holidays_added,
                .n_add = c->n_holidays_added,
                .remove = c->holidays_removed,
                .n_remove = c->n_holidays_removed,
        };
}

/* A dated not_holidays entry must name a day off of its year: anything else
 * is a typo that would silently change nothing. */
static void check_removals(struct parser *p, const config_setting_t *g, const struct config *c) {
        config_setting_t *list = config_setting_get_member(g, "not_holidays");
        struct holiday_rules rules;
        char epath[SETTING_PATH_MAX];

        config_holiday_rules(c, &rules);
        for (size_t i = 0; i < c->n_holidays_removed; i++) {
                const struct holiday_date *d = &c->holidays_removed[i];
                _cleanup_free_ struct holiday *h = NULL;
                int32_t day = 0;
                size_t n = 0;
                bool found = false;

                if (d->year == 0)
                        continue;
                if (holiday_year(&rules, d->year, &h, &n) < 0) {
                        p->oom = true;
                        return;
                }
                (void) holiday_date_in_year(d, d->year, &day);
                for (size_t j = 0; j < n; j++)
                        found = found || (h[j].day == day && h[j].removed);
                if (!found)
                        parser_error(p, parser_setting_elem(list, i),
                                     parser_path_elem(epath, "schedule.not_holidays", i),
                                     "\"%04d-%02d-%02d\" is not a holiday, so it cannot be taken away "
                                     "(deadlinectl calendar %d lists the holidays)",
                                     d->year, d->month, d->day, d->year);
        }
}

void config_parse_calendar(struct parser *p, const config_setting_t *root, struct config *c) {
        _cleanup_free_ char *name = NULL;
        config_setting_t *g = config_setting_get_member(root, "schedule");
        struct policy *pol = &c->policy;
        struct holiday_rules rules;
        char q[QUOTE_MAX];

        if (parser_get_string(p, root, "", "calendar", 16, NULL, &name) > 0) {
                int k = holiday_calendar_from_string(name);
                if (k < 0)
                        parser_error(p, config_setting_get_member(root, "calendar"), "calendar",
                                     "%s is not a calendar (use \"vn\" for Vietnam's public holidays, or \"none\")",
                                     parser_quote(name, q, sizeof q));
                else
                        c->calendar = k;
        }
        if (g && config_setting_type(g) == CONFIG_TYPE_GROUP) {
                parse_date_list(p, g, "holidays", &c->holidays_added, &c->n_holidays_added);
                parse_date_list(p, g, "not_holidays", &c->holidays_removed, &c->n_holidays_removed);
                parse_date_list(p, g, "extra_workdays", &c->workdays_added, &c->n_workdays_added);
                for (size_t i = 0; i < c->n_workdays_added; i++)
                        for (size_t j = 0; j < c->n_holidays_added; j++)
                                if (same_day_some_year(&c->workdays_added[i], &c->holidays_added[j])) {
                                        char epath[SETTING_PATH_MAX], day[16];
                                        format_date(&c->workdays_added[i], day);
                                        parser_error(p,
                                                     parser_setting_elem(config_setting_get_member(g, "extra_workdays"), i),
                                                     parser_path_elem(epath, "schedule.extra_workdays", i),
                                                     "\"%s\" is also listed in schedule.holidays", day);
                                        break;
                                }
        }
        if (parser_failed(p))
                return;
        if (g)
                check_removals(p, g, c);
        if (parser_failed(p))
                return;

        /* The days of a year are worked out when the schedule first asks
         * for it: expanding all YEAR_MIN–YEAR_MAX here cost every
         * deadlinectl command some 16 ms. */
        config_holiday_rules(c, &rules);
        if (workcal_new(&rules, c->workdays_added, c->n_workdays_added, &pol->calendar) < 0)
                p->oom = true;
}
