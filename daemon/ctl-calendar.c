/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl calendar [YEAR]: the year's days off as the configuration
 * makes them (its calendar, then schedule.holidays, not_holidays and
 * extra_workdays), with their names, so that an administrator can check
 * them against the government's announcement for the year. Ordinary
 * weekends are left out; holidays that fall on one are listed. */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "holiday.h"
#include "table.h"
#include "timeutil.h"
#include "workcal.h"

/* One line of the listing. Weekdays are written as the configuration's
 * workdays are ("mon"), or as Vietnamese calendars do ("T2", "CN"). */
struct entry {
        int32_t day;
        const char *kind;
        char name[192];
        bool working;
};

static int cmp_entry(const void *a, const void *b) {
        const struct entry *x = a, *y = b;
        return x->day < y->day ? -1 : x->day > y->day;
}

static const char *weekday_name(int32_t day, bool vi) {
        static const char *const vi_names[] = { "CN", "T2", "T3", "T4", "T5", "T6", "T7" };
        static const char *const en_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
        return (vi ? vi_names : en_names)[weekday_from_days(day)];
}

static bool is_extra_workday(const struct config *cfg, int32_t day) {
        const struct workcal_year *y;
        int year, m, d;

        civil_from_days(day, &year, &m, &d);
        y = workcal_year(cfg->policy.calendar, year);
        for (size_t i = 0; i < y->n_extra_workdays; i++)
                if (y->extra_workdays[i] == day)
                        return true;
        return false;
}

static int parse_year(struct ctl *c, const char *s, int *ret) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end || s[0] < '0' || s[0] > '9' || v < YEAR_MIN || v > YEAR_MAX)
                return ctl_fail(c, EX_USAGE, "\"%s\" is not a year (%d to %d)", s, YEAR_MIN, YEAR_MAX);
        *ret = (int) v;
        return 0;
}

int cmd_calendar(struct ctl *c, int argc, char **argv) {
        static const struct option options[] = { CTL_COMMON_OPTIONS, {} };
        _cleanup_free_ struct holiday *h = NULL;
        _cleanup_free_ struct entry *e = NULL;
        const struct workcal_year *wy;
        _cleanup_(table_freep) struct table *t = NULL;
        struct holiday_rules rules;
        size_t n = 0, n_e = 0;
        int opt, r, year;
        bool vi;

        while ((opt = getopt_long(argc, argv, ":c:h", options, NULL)) >= 0) {
                int k = ctl_common_option(c, opt, argv);
                if (k >= 1000)
                        return k - 1000;
        }
        if (argc - optind > 1)
                return ctl_fail(c, EX_USAGE, "unexpected argument \"%s\"", argv[optind + 1]);
        r = ctl_load_config(c);
        if (r != 0)
                return r;
        if (optind < argc) {
                r = parse_year(c, argv[optind], &year);
                if (r != 0)
                        return r;
        } else {
                int32_t today;
                int64_t sec;
                int m, d;
                instant_to_local(c->now, &today, &sec);
                civil_from_days(today, &year, &m, &d);
        }
        vi = c->config->language == LANGUAGE_VI;

        config_holiday_rules(c->config, &rules);
        r = holiday_year(&rules, year, &h, &n);
        if (r < 0)
                return ctl_fail(c, EX_SOFTWARE, "cannot compute the holidays of %d: %s", year, strerror(-r));

        /* The holidays, then the extra working days that are no holiday. */
        wy = workcal_year(c->config->policy.calendar, year);
        e = calloc(n + wy->n_extra_workdays + 1, sizeof *e);
        if (!e)
                return ctl_fail(c, EX_OSERR, "%s", strerror(ENOMEM));
        for (size_t i = 0; i < n; i++) {
                struct entry *x = &e[n_e++];
                x->day = h[i].day;
                x->kind = holiday_kind_to_string(h[i].kind);
                holiday_name(&h[i], vi, x->name, sizeof x->name);
                x->working = h[i].removed || is_extra_workday(c->config, h[i].day);
        }
        for (size_t i = 0; i < wy->n_extra_workdays; i++) {
                int32_t day = wy->extra_workdays[i];
                bool listed = false;

                for (size_t j = 0; j < n; j++)
                        listed = listed || h[j].day == day;
                if (listed)
                        continue;
                e[n_e++] = (struct entry) { .day = day, .kind = "workday", .working = true };
                snprintf(e[n_e - 1].name, sizeof e[n_e - 1].name, "%s",
                         vi ? "Ngày làm việc (schedule.extra_workdays)" : "Working day (schedule.extra_workdays)");
        }
        qsort(e, n_e, sizeof *e, cmp_entry);

        if (c->json) {
                json_t *days = json_array();
                for (size_t i = 0; i < n_e; i++) {
                        char date[11];
                        format_iso_date(e[i].day, date);
                        json_array_append_new(days, json_pack("{s:s, s:s, s:s, s:s, s:b}", "date", date, "weekday",
                                                              weekday_name(e[i].day, false), "kind", e[i].kind,
                                                              "name", e[i].name, "working", e[i].working));
                }
                return ctl_print_json(c, json_pack("{s:i, s:s, s:o}", "year", year, "calendar",
                                                   holiday_calendar_to_string(c->config->calendar), "days", days));
        }

        r = table_new(3, &t);
        if (r < 0)
                return ctl_fail(c, EX_OSERR, "%s", strerror(-r));
        table_add(t, "DATE"), table_add(t, "DAY"), table_add(t, "NAME");
        for (size_t i = 0; i < n_e; i++) {
                char date[11], name[256];
                format_iso_date(e[i].day, date);
                /* A day the configuration makes a working day says so. */
                snprintf(name, sizeof name, "%s%s", e[i].name,
                         !e[i].working || streq(e[i].kind, "workday") ? "" : vi ? " — làm việc" : " — worked");
                table_add(t, date);
                table_add(t, weekday_name(e[i].day, vi));
                table_add(t, name);
        }
        r = table_print(t, stdout);
        return r < 0 ? EX_IOERR : 0;
}
