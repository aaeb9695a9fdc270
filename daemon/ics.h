/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Tasks as an iCalendar (RFC 5545) calendar, built with libical: what
 * `deadlinectl export --format ics` prints and what the daemon writes into
 * calendar_dir, one file per agency.
 *
 * Each open task with a deadline is one VEVENT (or VTODO), in the order
 * given. A date-only deadline is an all-day event on its day (DTSTART and
 * DTEND as dates, DTEND the day after, as Google Calendar and Outlook
 * show a day's event); a deadline with a time is an event from that time,
 * ICS_EVENT_MINUTES long, in the configured zone (TZID), whose VTIMEZONE
 * comes from the system's zoneinfo. A VTODO has DUE instead. Each reminder
 * offset of the policy is a VALARM with a relative TRIGGER, at the time
 * of day the reminders go out (send_at) when the offset is whole days;
 * the move of a reminder off a non-working day is not expressed.
 *
 * The UID is "task-ID@INSTANCE.deadlined" (the database's instance id), so
 * it stays the same across exports; SEQUENCE is the task's revision,
 * LAST-MODIFIED and DTSTAMP its last change. Nothing depends on the time of
 * the export, so the same tasks give the same bytes. No I/O but libical's
 * reading of the zone's zoneinfo file. */

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

#define ICS_EVENT_MINUTES 30

enum ics_component {
        ICS_EVENT,
        ICS_TODO,
        _ICS_COMPONENT_MAX,
        _ICS_COMPONENT_INVALID = -1,
};

const char *ics_component_to_string(enum ics_component k);  /* "event", "todo" */
int ics_component_from_string(const char *s);

struct ics_options {
        const char *instance_id;   /* the database's, for UIDs */
        const char *agency;        /* an agency id: its tasks only, with its role; NULL: every task */
        enum ics_component component;
        const char *name;          /* the calendar's name (X-WR-CALNAME), or NULL */
};

/* The role `agency` has in task t, named directly or through a group
 * (lead wins over support), or _ROLE_INVALID when t does not name it. */
enum role ics_task_role(const struct config *c, const struct task *t, const char *agency);

/* The calendar of the open tasks with a deadline among tasks[0..n), as
 * text with CRLF line ends, malloc'd into *ret. 0, -ENOENT when the
 * configured time zone has no zoneinfo, -EINVAL for a task whose deadline
 * cannot be read, -ENOMEM. */
int ics_build(const struct config *c, const struct task *tasks, size_t n, const struct ics_options *o, char **ret);
