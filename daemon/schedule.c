/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "lateness.h"
#include "macro.h"
#include "schedule.h"
#include "timeutil.h"
#include "workcal.h"

/* However broken a policy, no walk to a working day goes further. */
#define WORKDAY_SEARCH_DAYS 366

/* Working with a deadline needs its instant and its local day. */
struct deadline {
        int64_t at;
        int64_t key_at;           /* due_at as the caller gave it, for keys */
        int32_t day;
};

static const char *const slot_kind_table[_SLOT_KIND_MAX] = {
        [SLOT_BEFORE] = "before",
        [SLOT_OVERDUE] = "overdue",
        [SLOT_ESCALATE] = "escalate",
};

const char *slot_kind_to_string(enum slot_kind k) {
        if (k < 0 || k >= _SLOT_KIND_MAX)
                return NULL;
        return slot_kind_table[k];
}

/* Days outside [day_min(), day_max()) hold no slot. The bounds keep every
 * local time conversion inside what localtime_r() handles and every sum
 * below far from overflow. */
static int32_t day_min(void) {
        return days_from_civil(YEAR_MIN - 20, 1, 1);
}

static int32_t day_max(void) {
        return days_from_civil(YEAR_MAX + 21, 1, 1);
}

static bool day_in_range(int64_t day) {
        return day >= day_min() && day < day_max();
}

/* Instants within a day of the bounds are refused too, so the local day of
 * an accepted instant is always in range whatever the zone. */
static bool instant_in_range(int64_t t) {
        return t >= ((int64_t) day_min() + 1) * SEC_PER_DAY && t < ((int64_t) day_max() - 1) * SEC_PER_DAY;
}

static int32_t local_day(int64_t t) {
        int32_t day;
        int64_t sec;

        instant_to_local(t, &day, &sec);
        return day;
}

/* The index of the first element greater than `day`. */
static size_t upper_bound(const int32_t *a, size_t n, int32_t day) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (a[mid] <= day)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static bool weekday_works(const struct policy *p, int32_t day) {
        return p->workdays & (1u << weekday_from_days(day));
}

/* The day's exceptions to the weekly pattern: from the calendar's year
 * when the policy has one, from its arrays otherwise. */
static void exceptions_of(const struct policy *p, int32_t day, const int32_t **hol, size_t *nh,
                          const int32_t **ext, size_t *ne) {
        if (p->calendar) {
                const struct workcal_year *y;
                int year, m, d;

                civil_from_days(day, &year, &m, &d);
                y = workcal_year(p->calendar, year);
                *hol = y->holidays;
                *nh = y->n_holidays;
                *ext = y->extra_workdays;
                *ne = y->n_extra_workdays;
        } else {
                *hol = p->holidays;
                *nh = p->n_holidays;
                *ext = p->extra_workdays;
                *ne = p->n_extra_workdays;
        }
}

bool schedule_is_workday(const struct policy *p, int32_t day) {
        const int32_t *hol, *ext;
        size_t nh, ne;

        exceptions_of(p, day, &hol, &nh, &ext, &ne);
        if (workcal_days_contain(ext, ne, day))
                return true;
        return weekday_works(p, day) && !workcal_days_contain(hol, nh, day);
}

/* What the holidays and extra working days in (from, to] change in the
 * count of working days: a holiday on a working weekday takes one away
 * unless it is also an extra working day (then it stays counted), and an
 * extra working day on a weekday not worked adds one. The arrays are
 * sorted; a duplicate is counted once. */
static int64_t count_exceptions(const struct policy *p, const int32_t *hol, size_t nh, const int32_t *ext,
                                size_t ne, int32_t from, int32_t to) {
        int64_t count = 0;

        for (size_t i = upper_bound(hol, nh, from); i < nh && hol[i] <= to; i++) {
                int32_t h = hol[i];
                if (i > 0 && hol[i - 1] == h)
                        continue;
                if (weekday_works(p, h) && !workcal_days_contain(ext, ne, h))
                        count--;
        }
        for (size_t i = upper_bound(ext, ne, from); i < ne && ext[i] <= to; i++) {
                int32_t e = ext[i];
                if (i > 0 && ext[i - 1] == e)
                        continue;
                if (!weekday_works(p, e))
                        count++;
        }
        return count;
}

int64_t schedule_count_workdays(const struct policy *p, int32_t from, int32_t to) {
        unsigned mask = p->workdays & 0x7f;
        int64_t n, weeks, count;
        int32_t day;

        if (to <= from)
                return 0;

        /* The weekdays first: whole weeks, then the few days left over. */
        n = (int64_t) to - from;
        weeks = n / 7;
        count = weeks * __builtin_popcount(mask);
        day = (int32_t) (from + weeks * 7);
        for (int64_t i = 0; i < n % 7; i++)
                if (weekday_works(p, ++day))
                        count++;

        /* Then the exceptions in the range. A calendar keeps them by year,
         * with each year's total, so a span of years costs a step a year. */
        if (p->calendar) {
                int y_from, y_to, m, d;

                civil_from_days(from + 1, &y_from, &m, &d);
                civil_from_days(to, &y_to, &m, &d);
                for (int y = y_from; y <= y_to; y++) {
                        const struct workcal_year *wy = workcal_year(p->calendar, y);
                        if (days_from_civil(y, 1, 1) > from && days_from_civil(y + 1, 1, 1) - 1 <= to)
                                count += wy->delta;
                        else
                                count += count_exceptions(p, wy->holidays, wy->n_holidays, wy->extra_workdays,
                                                          wy->n_extra_workdays, from, to);
                }
        } else
                count += count_exceptions(p, p->holidays, p->n_holidays, p->extra_workdays, p->n_extra_workdays,
                                          from, to);
        return count;
}

bool schedule_add_workdays(const struct policy *p, int32_t day, int64_t n, int32_t *ret) {
        int64_t limit, lo = 0, hi;

        if (n < 1 || !day_in_range(day))
                return false;

        /* If the n-th working day is not within n·366 days, some 366 days
         * in a row have none: the policy is broken, give up. */
        limit = (int64_t) day_max() - 1 - day;
        if (n < limit / WORKDAY_SEARCH_DAYS)
                limit = n * WORKDAY_SEARCH_DAYS;
        if (limit < 1)
                return false;

        /* The count of working days up to a day only grows, and counting
         * costs the same for a week as for years: find a span that holds n
         * working days by doubling, then its first day that does by
         * bisection. The day where the count reaches n is a working day. */
        hi = MIN((int64_t) 8, limit);
        while (schedule_count_workdays(p, day, (int32_t) (day + hi)) < n) {
                if (hi >= limit)
                        return false;
                lo = hi;
                hi = MIN(hi * 2, limit);
        }
        while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                if (schedule_count_workdays(p, day, (int32_t) (day + mid)) >= n)
                        hi = mid;
                else
                        lo = mid;
        }
        *ret = (int32_t) (day + hi);
        return true;
}

bool schedule_sub_workdays(const struct policy *p, int32_t day, int64_t n, int32_t *ret) {
        int64_t limit, lo = 0, hi;

        if (n < 1 || !day_in_range(day))
                return false;

        /* As schedule_add_workdays(), backwards: the smallest k such that
         * the days day − k … day − 1 hold n working days; day − k is then
         * the n-th working day before `day`. */
        limit = (int64_t) day - day_min();
        if (n < limit / WORKDAY_SEARCH_DAYS)
                limit = n * WORKDAY_SEARCH_DAYS;
        if (limit < 1)
                return false;
        hi = MIN((int64_t) 8, limit);
        while (schedule_count_workdays(p, (int32_t) (day - hi - 1), day - 1) < n) {
                if (hi >= limit)
                        return false;
                lo = hi;
                hi = MIN(hi * 2, limit);
        }
        while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                if (schedule_count_workdays(p, (int32_t) (day - mid - 1), day - 1) >= n)
                        hi = mid;
                else
                        lo = mid;
        }
        *ret = (int32_t) (day - hi);
        return true;
}

/* The working day on or before (step -1) or on or after (step +1) `day`. */
static bool workday_walk(const struct policy *p, int64_t day, int step, int32_t *ret) {
        for (int i = 0; i <= WORKDAY_SEARCH_DAYS; i++, day += step) {
                if (!day_in_range(day))
                        return false;
                if (schedule_is_workday(p, (int32_t) day)) {
                        *ret = (int32_t) day;
                        return true;
                }
        }
        return false;
}

/* Whether an offset counts in days on the calendar, sent at send_at. */
static bool by_day(const struct policy *p, int64_t offset) {
        return p->send_at >= 0 && duration_is_days(offset);
}

static int64_t at_send_time(const struct policy *p, int32_t day) {
        return local_to_instant(day, (int64_t) p->send_at * SEC_PER_MIN);
}

/* A slot in working days: at send_at on its day, or without send_at at
 * the deadline's own time of day. */
static int64_t at_workday_time(const struct policy *p, const struct deadline *d, int32_t day) {
        int32_t due_day;
        int64_t sec;

        if (p->send_at >= 0)
                return at_send_time(p, day);
        instant_to_local(d->at, &due_day, &sec);
        return local_to_instant(day, sec);
}

static bool before_at(const struct policy *p, const struct deadline *d, size_t i, int64_t *ret) {
        int64_t o = p->remind_before[i], at;

        if (duration_is_workdays(o)) {
                int32_t day;
                if (!schedule_sub_workdays(p, d->day, duration_workdays(o), &day))
                        return false;
                at = at_workday_time(p, d, day);
        } else if (by_day(p, o)) {
                int32_t day;
                if (!workday_walk(p, (int64_t) d->day - o / SEC_PER_DAY, -1, &day))
                        return false;
                at = at_send_time(p, day);
        } else {
                /* A negative offset would be after the deadline anyway. */
                if (o < 0 || o > (int64_t) day_max() * SEC_PER_DAY)
                        return false;
                at = d->at - o;
                if (!instant_in_range(at))
                        return false;
        }
        if (at > d->at)
                return false;
        *ret = at;
        return true;
}

static bool escalate_at(const struct policy *p, const struct deadline *d, size_t i, int64_t *ret) {
        int64_t after = p->escalation[i].after, at;

        if (duration_is_workdays(after)) {
                /* The n-th working day after the due day: always after the
                 * deadline's day, so never before the task is late. */
                int32_t day;
                if (!schedule_add_workdays(p, d->day, duration_workdays(after), &day))
                        return false;
                *ret = at_workday_time(p, d, day);
                return instant_in_range(*ret);
        }
        if (by_day(p, after)) {
                int32_t day;
                if (!workday_walk(p, MAX((int64_t) d->day + after / SEC_PER_DAY, (int64_t) d->day), +1, &day))
                        return false;
                at = at_send_time(p, day);
                /* Escalating before the task is that late (before the
                 * deadline has passed, for "0d") would accuse an agency
                 * that is still on time. */
                if (!lateness_reached(d->at, d->day, at, after)) {
                        if (!workday_walk(p, (int64_t) day + 1, +1, &day))
                                return false;
                        at = at_send_time(p, day);
                }
        } else if (after > 0 && duration_is_days(after)) {
                /* Whole days count on the calendar, as lateness.h does: at
                 * the deadline's time of day, that many days after its
                 * day, so that a change of the clocks in between moves
                 * it neither to the day before nor to the day after. */
                int32_t day;
                int64_t sec;
                if (after > (int64_t) day_max() * SEC_PER_DAY || !day_in_range((int64_t) d->day + after / SEC_PER_DAY))
                        return false;
                instant_to_local(d->at, &day, &sec);
                at = local_to_instant((int32_t) (d->day + after / SEC_PER_DAY), sec);
                if (!instant_in_range(at))
                        return false;
        } else {
                if (after > (int64_t) day_max() * SEC_PER_DAY)
                        return false;
                at = d->at + MAX(after, (int64_t) 1);
                if (!instant_in_range(at))
                        return false;
        }
        if (!lateness_reached(d->at, d->day, at, after))
                return false;  /* not reached in the range we schedule */
        *ret = at;
        return true;
}

/* The instant of overdue slot k (k >= 1). */
static bool overdue_at(const struct policy *p, const struct deadline *d, int64_t k, int64_t *ret) {
        int64_t every = p->overdue_every, at;

        if (every <= 0 || k < 1)
                return false;
        if (by_day(p, every)) {
                int64_t n = every / SEC_PER_DAY;
                int32_t day;
                if (k > INT64_MAX / n || !schedule_add_workdays(p, d->day, k * n, &day))
                        return false;
                at = at_send_time(p, day);
        } else {
                if (k > (((int64_t) day_max() * SEC_PER_DAY) - d->at) / every)
                        return false;
                at = d->at + k * every;
        }
        if (!instant_in_range(at))
                return false;
        *ret = at;
        return true;
}

/* The number of overdue slots at or before `t`. It takes one count of
 * working days, not a walk over the slots, so a task overdue for years
 * costs no more than one overdue for a day. */
static int64_t overdue_count(const struct policy *p, const struct deadline *d, int64_t t) {
        int64_t every = p->overdue_every, k, at;

        if (every <= 0 || t <= d->at)
                return 0;
        if (t >= ((int64_t) day_max() - 1) * SEC_PER_DAY)
                t = ((int64_t) day_max() - 1) * SEC_PER_DAY - 1;
        if (!by_day(p, every))
                return (t - d->at) / every;

        /* Slot k is on the (k·n)-th working day after the due day; c
         * working days have passed by the end of t's day, so slot c/n is
         * on that day at the latest and slot c/n + 1 after it. Slot c/n
         * itself may be later on t's own day. */
        k = schedule_count_workdays(p, d->day, local_day(t)) / (every / SEC_PER_DAY);
        if (k >= 1 && (!overdue_at(p, d, k, &at) || at > t))
                k--;
        return k;
}

static void slot_fill(struct slot *s, const struct deadline *d, enum slot_kind kind,
                      int64_t at, int64_t offset, int level) {
        char dur[32];

        *s = (struct slot) {
                .kind = kind,
                .at = at,
                .offset = offset,
                .level = level,
        };
        switch (kind) {
        case SLOT_BEFORE:
                format_duration(offset, dur, sizeof dur);
                snprintf(s->key, sizeof s->key, "before:%s@%" PRId64, dur, d->key_at);
                break;
        case SLOT_OVERDUE:
                snprintf(s->key, sizeof s->key, "overdue:%" PRId64 "@%" PRId64, offset, d->key_at);
                break;
        case SLOT_ESCALATE:
                format_duration(offset, dur, sizeof dur);
                snprintf(s->key, sizeof s->key, "escalate:%d:%s@%" PRId64, level + 1, dur, d->key_at);
                break;
        default:
                break;
        }
}

static bool deadline_init(struct deadline *d, int64_t due_at, bool date_only) {
        if (!instant_in_range(due_at))
                return false;
        d->key_at = due_at;
        d->day = local_day(due_at);
        d->at = date_only ? local_to_instant(d->day, SEC_PER_DAY - 1) : due_at;
        return true;
}

/* Whether a slot (at, kind, offset) comes before the best so far; the
 * order ties BEFORE slots to the smaller offset, which is what merges two
 * BEFORE slots at one instant. */
static bool earlier(const struct slot *best, bool have, int64_t at, enum slot_kind kind, int64_t offset) {
        if (!have || at != best->at)
                return !have || at < best->at;
        if (kind != best->kind)
                return kind < best->kind;
        return kind == SLOT_BEFORE && offset < best->offset;
}

bool schedule_next(const struct policy *p, int64_t due_at, bool date_only, int64_t after, struct slot *ret) {
        struct deadline d;
        struct slot best = {};
        bool have = false;
        int64_t at, k;

        if (!deadline_init(&d, due_at, date_only))
                return false;

        for (size_t i = 0; i < p->n_remind_before; i++)
                if (before_at(p, &d, i, &at) && at > after &&
                    earlier(&best, have, at, SLOT_BEFORE, p->remind_before[i])) {
                        slot_fill(&best, &d, SLOT_BEFORE, at, p->remind_before[i], -1);
                        have = true;
                }

        k = overdue_count(p, &d, after) + 1;
        if (p->overdue_every > 0 && overdue_at(p, &d, k, &at) && at > after &&
            earlier(&best, have, at, SLOT_OVERDUE, k)) {
                slot_fill(&best, &d, SLOT_OVERDUE, at, k, -1);
                have = true;
        }

        for (size_t i = 0; i < p->n_escalation; i++)
                if (escalate_at(p, &d, i, &at) && at > after &&
                    earlier(&best, have, at, SLOT_ESCALATE, p->escalation[i].after)) {
                        slot_fill(&best, &d, SLOT_ESCALATE, at, p->escalation[i].after, (int) i);
                        have = true;
                }

        if (have)
                *ret = best;
        return have;
}

size_t schedule_due(const struct policy *p, int64_t due_at, bool date_only, int64_t from, int64_t to, struct slot *out) {
        struct deadline d;
        size_t n = 0;
        int64_t at, k;

        if (to <= from || !deadline_init(&d, due_at, date_only))
                return 0;

        /* Every overdue slot is after the deadline and every BEFORE slot at
         * or before it, so an overdue slot in the window is the latest
         * reminder in it. */
        k = overdue_count(p, &d, to);
        if (k >= 1 && k > overdue_count(p, &d, from) && overdue_at(p, &d, k, &at)) {
                slot_fill(&out[n++], &d, SLOT_OVERDUE, at, k, -1);
        } else {
                bool have = false;
                int64_t best_at = 0, best_offset = 0;

                for (size_t i = 0; i < p->n_remind_before; i++) {
                        int64_t o = p->remind_before[i];
                        if (!before_at(p, &d, i, &at) || at <= from || at > to)
                                continue;
                        if (!have || at > best_at || (at == best_at && o < best_offset)) {
                                best_at = at;
                                best_offset = o;
                                have = true;
                        }
                }
                if (have)
                        slot_fill(&out[n++], &d, SLOT_BEFORE, best_at, best_offset, -1);
        }

        for (size_t i = 0; i < p->n_escalation; i++)
                if (escalate_at(p, &d, i, &at) && at > from && at <= to)
                        slot_fill(&out[n++], &d, SLOT_ESCALATE, at, p->escalation[i].after, (int) i);

        return n;
}

bool schedule_reminder_left(const struct policy *p, int64_t due_at, bool date_only, int64_t now) {
        struct slot s;

        return schedule_next(p, due_at, date_only, now, &s) && s.kind == SLOT_BEFORE &&
               s.at < due_at;
}

int64_t schedule_notice_at(const struct policy *p, int64_t due_at, int64_t assigned_at) {
        int32_t day, next;
        int64_t sec, at;

        if (!p->digest || p->send_at < 0)
                return assigned_at;
        instant_to_local(assigned_at, &day, &sec);
        if (schedule_is_workday(p, day) && at_send_time(p, day) >= assigned_at)
                at = at_send_time(p, day);
        else if (schedule_add_workdays(p, day, 1, &next))
                at = at_send_time(p, next);
        else
                return assigned_at;
        return due_at <= at ? assigned_at : at;
}
