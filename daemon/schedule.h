/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Reminder scheduling: a deadline and the reminder policy -> the instants at
 * which reminders ("slots") fall due. Pure: no I/O, no clock reads; `now`
 * and windows are arguments. Local dates use the process time zone (TZ).
 *
 * A deadline is its instant `due_at` plus whether it was given as a date
 * only. A date-only deadline ends at 23:59:59 local time on its day: that
 * is the instant used, whatever time of that day due_at carries (keys keep
 * due_at as given). Its "due day" is the local day of due_at, for both
 * kinds.
 *
 * Working day: the weekday is in policy->workdays and the day is not a
 * holiday, or the day is an extra working day (a Saturday worked to make up
 * a bridge day counts even though it is also a weekend). The holidays and
 * extra working days are policy->calendar's (workcal.h) when it has one,
 * policy->holidays and policy->extra_workdays otherwise.
 *
 * A task has three series of slots:
 *
 *  BEFORE, one per offset o in remind_before. When o is whole days and
 *    send_at is set, the slot is at send_at on the day o/86400 days before
 *    the due day, moved back to the previous working day if that day is
 *    not one. Otherwise it is at due_at − o exactly, with no move. A slot
 *    that would fall after due_at (say "0d" at 08:00 for a deadline at
 *    07:00) is dropped: a reminder after the deadline is an overdue notice,
 *    and the overdue series is there for that. Two BEFORE slots at the same
 *    instant (a deadline on a Saturday: "0d" and "1d" both move to Friday)
 *    are one slot, the one with the smaller offset, so the text says the
 *    time really left. An offset in working days ("5wd", timeutil.h) is
 *    the n-th working day before the due day, at send_at, or without
 *    send_at at the deadline's time of day: "1wd" for a deadline on the
 *    Monday after Tết is the last working day before Tết.
 *
 *  OVERDUE, k = 1, 2, … while overdue_every > 0. When overdue_every is N
 *    whole days and send_at is set, slot k is at send_at on the (k·N)-th
 *    working day after the due day, so an office is reminded every N
 *    working days and never at a weekend or on a holiday ("7d" is every
 *    seventh working day; with a Monday–Friday week, "5d" is weekly).
 *    Otherwise slot k
 *    is at due_at + k·overdue_every. The series is unbounded and computed
 *    lazily: finding slot k for a task years overdue counts working days by
 *    whole weeks and binary search, never day by day.
 *
 *  ESCALATE, one per escalation level i. A level is told when the task is
 *    `after` late as lateness.h counts it: "3d" on the third calendar day
 *    after the due day, never earlier; "12h" twelve hours after the
 *    deadline's instant. When `after` is whole days and send_at is set,
 *    the slot is at send_at on the day after/86400 days after the due day,
 *    moved forward to the next working day. When it is whole days without
 *    send_at, the slot is at the deadline's local time of day on that day
 *    (a change of the clocks in between does not move it to another day).
 *    Otherwise it is at due_at + after. An escalation never comes before
 *    the deadline has passed: a level whose slot would be at or before
 *    due_at ("0d", or a deadline late in the day) moves to the next
 *    working day after it, or, for exact offsets, to the second after
 *    due_at. An `after` in working days ("3wd") is the n-th working day
 *    after the due day, at send_at or at the deadline's time of day.
 *
 * A walk to the previous or next working day gives up after 366 days
 * without one (only a broken policy has such a stretch), and so does the
 * search for the n-th working day; the slot is then left out. No slot is
 * produced after the year YEAR_MAX + 20, which ends every overdue series.
 *
 * Slot keys name a slot for the outbox's unique key. They depend on the
 * deadline and the policy entry only, not on send_at, workdays or
 * holidays, so changing the time of day reminders go out never makes an
 * already sent slot look new. A changed deadline (a different due_at) is a
 * new series of slots:
 *   "before:7d@1747328399", "overdue:3@1747328399",
 *   "escalate:2:10d@1747328399" (level i + 1, then its `after`). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum slot_kind {
        SLOT_BEFORE,
        SLOT_OVERDUE,
        SLOT_ESCALATE,
        _SLOT_KIND_MAX,
};

#define SLOT_KEY_MAX 64

struct slot {
        enum slot_kind kind;
        int64_t at;               /* when it falls due */
        int64_t offset;           /* BEFORE: seconds before the deadline; OVERDUE: k (1, 2, …); ESCALATE: `after` */
        int level;                /* ESCALATE: index into policy->escalation; otherwise -1 */
        char key[SLOT_KEY_MAX];
};

/* The capacity schedule_due() needs for `out`. */
#define SCHEDULE_DUE_MAX(p) (1 + (p)->n_escalation)

/* "before", "overdue", "escalate". */
const char *slot_kind_to_string(enum slot_kind k);

bool schedule_is_workday(const struct policy *p, int32_t day);

/* The number of working days d with from < d <= to (0 when to <= from),
 * computed by whole weeks plus the holidays and extra working days in the
 * range, whatever its length. */
int64_t schedule_count_workdays(const struct policy *p, int32_t from, int32_t to);

/* The n-th working day after `day` (n >= 1; the 1st is the next working
 * day). Returns false for n < 1, or when there is none within n·366 days
 * or before the end of the year YEAR_MAX + 20. */
bool schedule_add_workdays(const struct policy *p, int32_t day, int64_t n, int32_t *ret);

/* The n-th working day before `day` (n >= 1; the 1st is the last working
 * day before it). Returns false for n < 1, or when there is none within
 * n·366 days or after the start of the year YEAR_MIN − 20. */
bool schedule_sub_workdays(const struct policy *p, int32_t day, int64_t n, int32_t *ret);

/* The earliest slot strictly after `after`, for arming the timer. Returns
 * false when the task has no further slot (no overdue series and every
 * BEFORE and ESCALATE slot is at or before `after`). Slots at the same
 * instant are ordered BEFORE, OVERDUE, ESCALATE, then by level; only the
 * first is returned, so use schedule_due() for what to send. */
bool schedule_next(const struct policy *p, int64_t due_at, bool date_only, int64_t after, struct slot *ret);

/* What to send for the window (from, to]: writes to `out` (room for
 * SCHEDULE_DUE_MAX(p) slots) and returns the count. That is at most one
 * reminder, the latest BEFORE or OVERDUE slot in the window — after
 * downtime only the latest missed reminder is sent, and its text gives the
 * true time left — followed by each escalation level whose slot is in the
 * window, in ladder order, since each level is told once whatever
 * happened.
 *
 * `from` is when the task was last looked at. For a new task pass its
 * creation time, so that slots already past when it was created are
 * skipped; a slot exactly at `from` was handled by the previous window. */
size_t schedule_due(const struct policy *p, int64_t due_at, bool date_only, int64_t from, int64_t to, struct slot *out);

/* Whether a reminder before the deadline is still to come after `now`:
 * a BEFORE slot strictly between now and the deadline's instant. An
 * assignment notice that finds none says so. */
bool schedule_reminder_left(const struct policy *p, int64_t due_at, bool date_only, int64_t now);

/* When the notice of an assignment made at `assigned_at` falls due. One
 * message per task (digest off, or send_at "none"): at once. In digest
 * mode: at the next briefing, send_at on the first working day whose
 * send_at is at or after assigned_at, so that an agency's new tasks of a
 * day reach it as one message; at once all the same when the deadline
 * comes before that briefing. */
int64_t schedule_notice_at(const struct policy *p, int64_t due_at, int64_t assigned_at);
