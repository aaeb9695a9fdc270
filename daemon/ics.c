/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tasks as an iCalendar calendar, built with libical (ics.h). */

#include <errno.h>
#include <inttypes.h>
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ics.h"
#include "strbuf.h"
#include "timeutil.h"

static const char *const component_names[_ICS_COMPONENT_MAX] = {
        [ICS_EVENT] = "event",
        [ICS_TODO] = "todo",
};

const char *ics_component_to_string(enum ics_component k) {
        return k >= 0 && k < _ICS_COMPONENT_MAX ? component_names[k] : NULL;
}

int ics_component_from_string(const char *s) {
        for (int k = 0; k < _ICS_COMPONENT_MAX; k++)
                if (s && streq(s, component_names[k]))
                        return k;
        return _ICS_COMPONENT_INVALID;
}

enum role ics_task_role(const struct config *c, const struct task *t, const char *agency) {
        enum role role = _ROLE_INVALID;

        for (size_t i = 0; i < t->n_agencies && role != ROLE_LEAD; i++) {
                const struct task_agency *a = &t->agencies[i];
                const struct group *g;

                if (streq(a->agency, agency) ||
                    ((g = config_find_group(c, a->agency)) && strv_contains(g->members, agency)))
                        role = a->role == ROLE_LEAD ? ROLE_LEAD : ROLE_SUPPORT;
        }
        return role;
}

struct words {
        const char *role, *lead, *support, *document, *deadline, *original, *recurrence;
};

static const struct words words[_LANGUAGE_MAX] = {
        [LANGUAGE_VI] = { "Vai trò của %s", "chủ trì", "phối hợp", "Văn bản", "Hạn", "Hạn ban đầu",
                          "Định kỳ" },
        [LANGUAGE_EN] = { "Role of %s", "lead", "support", "Document", "Deadline", "Original deadline",
                          "Recurring" },
};

static icalproperty *prop_x(const char *name, const char *value) {
        icalproperty *p = icalproperty_new_x(value);
        if (p)
                icalproperty_set_x_name(p, name);
        return p;
}

static struct icaltimetype civil_time(int32_t day, int minute) {
        struct icaltimetype tt = icaltime_null_time();
        civil_from_days(day, &tt.year, &tt.month, &tt.day);
        if (minute < 0)
                tt.is_date = 1;
        else {
                tt.hour = minute / 60;
                tt.minute = minute % 60;
        }
        return tt;
}

static struct icaltimetype utc_time(int64_t t) {
        return icaltime_from_timet_with_zone((time_t) t, 0, icaltimezone_get_utc_timezone());
}

/* A local date or date-time property: the zone's TZID for a time, a date
 * value for a day. */
static icalproperty *local_prop(icalproperty *p, struct icaltimetype tt, const char *tzid) {
        if (p && !tt.is_date)
                icalproperty_add_parameter(p, icalparameter_new_tzid(tzid));
        return p;
}

static struct icaldurationtype duration_of(int64_t secs) {
        struct icaldurationtype d = icaldurationtype_null_duration();
        uint64_t a = secs < 0 ? (uint64_t) -secs : (uint64_t) secs;

        d.is_neg = secs < 0;
        /* Days in a duration are nominal days (RFC 5545, 3.3.6): "-P6DT16H"
         * keeps 08:00 local across a change of the clocks. */
        d.days = (unsigned) (a / 86400);
        d.hours = (unsigned) (a % 86400 / 3600);
        d.minutes = (unsigned) (a % 3600 / 60);
        d.seconds = (unsigned) (a % 60);
        return d;
}

/* Where a reminder falls, in seconds after the entry's start (a date-only
 * deadline: the day's midnight; otherwise the deadline itself), as
 * schedule.h places BEFORE slots; false for a reminder the schedule drops
 * (after the deadline). */
static bool alarm_offset(const struct policy *p, const struct due *d, int64_t offset, int64_t *ret) {
        int64_t deadline = d->minute < 0 ? 86399 : 0;
        int64_t at;

        if (duration_is_days(offset) && p->send_at >= 0)
                at = -offset + (int64_t) p->send_at * 60 - (d->minute < 0 ? 0 : (int64_t) d->minute * 60);
        else
                at = deadline - offset;
        if (at > deadline)
                return false;
        *ret = at;
        return true;
}

static int add_alarms(icalcomponent *comp, const struct policy *p, const struct due *d, const char *summary,
                      enum ics_component kind) {
        for (size_t i = 0; i < p->n_remind_before; i++) {
                struct icaltriggertype trig = { .time = icaltime_null_time() };
                icalcomponent *alarm;
                icalproperty *tp;
                int64_t at;

                if (!alarm_offset(p, d, p->remind_before[i], &at))
                        continue;
                trig.duration = duration_of(at);
                alarm = icalcomponent_new_valarm();
                tp = icalproperty_new_trigger(trig);
                if (!alarm || !tp) {
                        if (tp)
                                icalproperty_free(tp);
                        if (alarm)
                                icalcomponent_free(alarm);
                        return -ENOMEM;
                }
                /* A to-do's alarm counts from its DUE. */
                if (kind == ICS_TODO)
                        icalproperty_add_parameter(tp, icalparameter_new_related(ICAL_RELATED_END));
                icalcomponent_add_property(alarm, icalproperty_new_action(ICAL_ACTION_DISPLAY));
                icalcomponent_add_property(alarm, tp);
                icalcomponent_add_property(alarm, icalproperty_new_description(summary));
                icalcomponent_add_component(comp, alarm);
        }
        return 0;
}

static int describe(const struct config *c, const struct task *t, const struct ics_options *o,
                    const struct due *d, char **ret) {
        const struct words *w = &words[c->language];
        _cleanup_(strbuf_done) struct strbuf b = STRBUF_INIT(64 * 1024);
        char when[24];

        if (o->agency) {
                const struct agency *a = config_find_agency(c, o->agency);
                enum role r = ics_task_role(c, t, o->agency);
                strbuf_printf(&b, w->role, a && a->name ? a->name : o->agency);
                strbuf_printf(&b, ": %s\n", r == ROLE_LEAD ? w->lead : w->support);
        }
        if (t->document_number)
                strbuf_printf(&b, "%s: %s\n", w->document, t->document_number);
        format_due_vn(d, when);
        strbuf_printf(&b, "%s: %s\n", w->deadline, when);
        if (t->original_due && t->due && !streq(t->original_due, t->due)) {
                struct due od;
                if (parse_due(t->original_due, 0, &od) >= 0) {
                        format_due_vn(&od, when);
                        strbuf_printf(&b, "%s: %s\n", w->original, when);
                }
        }
        if (t->recurrence)
                strbuf_printf(&b, "%s: %s\n", w->recurrence, t->recurrence);
        if (t->detail && *t->detail)
                strbuf_printf(&b, "\n%s\n", t->detail);
        return strbuf_steal(&b, ret, NULL);
}

static int add_task(icalcomponent *cal, const struct config *c, const struct task *t, const struct ics_options *o,
                    const char *tzid) {
        _cleanup_free_ char *summary = NULL, *description = NULL, *uid = NULL, *url = NULL;
        struct icaltimetype start;
        icalcomponent *comp;
        struct due d;
        int r;

        if (parse_due(t->due, 0, &d) < 0)
                return -EINVAL;
        start = civil_time(d.day, d.minute);

        if (t->document_number && t->ref)
                r = asprintf(&summary, "[%s %s] %s", t->document_number, t->ref, t->title);
        else if (t->document_number || t->ref)
                r = asprintf(&summary, "[%s] %s", t->document_number ?: t->ref, t->title);
        else
                r = asprintf(&summary, "%s", t->title);
        if (r < 0)
                return -ENOMEM;
        if (asprintf(&uid, "task-%" PRId64 "@%s.deadlined", t->id, o->instance_id ?: "localhost") < 0)
                return -ENOMEM;
        if (c->base_url && asprintf(&url, "%s/tasks/%" PRId64, c->base_url, t->id) < 0)
                return -ENOMEM;
        r = describe(c, t, o, &d, &description);
        if (r < 0)
                return r;

        comp = o->component == ICS_TODO ? icalcomponent_new_vtodo() : icalcomponent_new_vevent();
        if (!comp)
                return -ENOMEM;
        icalcomponent_add_property(comp, icalproperty_new_uid(uid));
        /* Nothing here depends on when the calendar is made: DTSTAMP is the
         * task's last change, as for a calendar published without METHOD
         * REQUEST semantics, so an unchanged task gives the same bytes. */
        icalcomponent_add_property(comp, icalproperty_new_dtstamp(utc_time(t->updated_at)));
        icalcomponent_add_property(comp, icalproperty_new_created(utc_time(t->created_at)));
        icalcomponent_add_property(comp, icalproperty_new_lastmodified(utc_time(t->updated_at)));
        icalcomponent_add_property(comp, icalproperty_new_sequence((int) (t->revision > INT32_MAX ? INT32_MAX
                                                                                                    : t->revision)));
        icalcomponent_add_property(comp, icalproperty_new_summary(summary));
        icalcomponent_add_property(comp, icalproperty_new_description(description));
        if (url)
                icalcomponent_add_property(comp, icalproperty_new_url(url));
        if (o->component == ICS_TODO) {
                icalcomponent_add_property(comp, local_prop(icalproperty_new_due(start), start, tzid));
                icalcomponent_add_property(comp, icalproperty_new_status(ICAL_STATUS_NEEDSACTION));
        } else {
                struct icaltimetype end = start;
                if (start.is_date)
                        icaltime_adjust(&end, 1, 0, 0, 0);
                else
                        icaltime_adjust(&end, 0, 0, ICS_EVENT_MINUTES, 0);
                icalcomponent_add_property(comp, local_prop(icalproperty_new_dtstart(start), start, tzid));
                icalcomponent_add_property(comp, local_prop(icalproperty_new_dtend(end), end, tzid));
                /* A deadline is not a meeting: it leaves the day free. */
                icalcomponent_add_property(comp, icalproperty_new_transp(ICAL_TRANSP_TRANSPARENT));
        }
        r = add_alarms(comp, &c->policy, &d, summary, o->component);
        icalcomponent_add_component(cal, comp);
        return r;
}

/* The zone's VTIMEZONE, named by its IANA name (libical's own TZIDs carry
 * a prefix that calendar programs do not recognise). */
static int add_timezone(icalcomponent *cal, const char *name) {
        icaltimezone *tz = icaltimezone_get_builtin_timezone(name);
        icalcomponent *vtz;
        icalproperty *p;

        if (!tz || !icaltimezone_get_component(tz))
                return -ENOENT;
        vtz = icalcomponent_new_clone(icaltimezone_get_component(tz));
        if (!vtz)
                return -ENOMEM;
        p = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY);
        if (p)
                icalproperty_set_tzid(p, name);
        else
                icalcomponent_add_property(vtz, icalproperty_new_tzid(name));
        icalcomponent_add_component(cal, vtz);
        return 0;
}

int ics_build(const struct config *c, const struct task *tasks, size_t n, const struct ics_options *o, char **ret) {
        icalcomponent *cal;
        char *text;
        int r;

        cal = icalcomponent_new_vcalendar();
        if (!cal)
                return -ENOMEM;
        icalcomponent_add_property(cal, icalproperty_new_prodid("-//deadlined//deadlined " VERSION "//VI"));
        icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
        icalcomponent_add_property(cal, icalproperty_new_calscale("GREGORIAN"));
        /* No METHOD: a feed is not an iTIP message (METHOD:PUBLISH would
         * ask for an ORGANIZER, which a deadline has none of). */
        if (o->name)
                icalcomponent_add_property(cal, prop_x("X-WR-CALNAME", o->name));
        icalcomponent_add_property(cal, prop_x("X-WR-TIMEZONE", c->timezone));
        r = add_timezone(cal, c->timezone);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const struct task *t = &tasks[i];

                if (t->status != TASK_OPEN || !t->due)
                        continue;
                if (o->agency && ics_task_role(c, t, o->agency) == _ROLE_INVALID)
                        continue;
                r = add_task(cal, c, t, o, c->timezone);
        }
        if (r < 0) {
                icalcomponent_free(cal);
                return r;
        }
        text = icalcomponent_as_ical_string_r(cal);
        icalcomponent_free(cal);
        if (!text)
                return -ENOMEM;
        *ret = text;
        return 0;
}
