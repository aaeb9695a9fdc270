/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "outbox.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compose.h"
#include "log.h"
#include "recurrence.h"
#include "report.h"
#include "schedule.h"
#include "strbuf.h"
#include "timeutil.h"

/* Tasks decided per transaction: enough to amortise the commit, small
 * enough that deadlinectl never waits long for the write lock. */
#define DECIDE_BATCH 500
#define ROLE_NONE ((enum role) -1)

struct recipient {
        const char *agency;
        enum role role;
};

static bool task_date_only(const struct task *t) {
        return t->due && !strchr(t->due, 'T');
}

/* Adds `id` (an agency, or a group standing for its members) to the
 * recipient list; a lead role wins over a supporting one. */
static void add_recipient(const struct config *c, struct recipient *r, size_t *n, size_t max, const char *id,
                          enum role role) {
        const struct group *g = config_find_group(c, id);
        if (g) {
                for (char **m = g->members; *m; m++)
                        add_recipient(c, r, n, max, *m, role);
                return;
        }
        const struct agency *a = config_find_agency(c, id);
        if (!a)
                return;
        for (size_t i = 0; i < *n; i++)
                if (streq(r[i].agency, a->id)) {
                        if (role == ROLE_LEAD)
                                r[i].role = ROLE_LEAD;
                        return;
                }
        if (*n < max)
                r[(*n)++] = (struct recipient) { a->id, role };
}

/* What a batch of tasks decided, written at its end: the new deliveries
 * in one statement, the tasks' next schedules in another (on PostgreSQL,
 * two round trips where there were a few per task). */
struct decided_row {
        struct delivery d;
        char slot[SLOT_KEY_MAX];
        char channel[32];
};

struct decided {
        struct decided_row *rows;
        size_t n_rows, size_rows;
        int64_t *tasks, *next_fire;
        size_t n_tasks, size_tasks;
};

static void decided_done(struct decided *b) {
        free(b->rows);
        free(b->tasks);
        free(b->next_fire);
        *b = (struct decided) {};
}

static int decided_schedule(struct decided *b, int64_t task, int64_t next_fire_at) {
        if (b->n_tasks == b->size_tasks) {
                size_t size = MAX(b->size_tasks * 2, (size_t) 64);
                int64_t *t = reallocarray(b->tasks, size, sizeof *t);
                if (!t)
                        return -ENOMEM;
                b->tasks = t;
                int64_t *n = reallocarray(b->next_fire, size, sizeof *n);
                if (!n)
                        return -ENOMEM;
                b->next_fire = n;
                b->size_tasks = size;
        }
        b->tasks[b->n_tasks] = task;
        b->next_fire[b->n_tasks++] = next_fire_at;
        return 0;
}

/* Writes what the batch decided; `*created` counts the deliveries that
 * were new (a key already there is left as it is). */
static int decided_flush(struct store *s, struct decided *b, int64_t now, int *created) {
        _cleanup_free_ struct delivery *d = NULL;
        int r;

        if (b->n_rows > 0) {
                d = calloc(b->n_rows, sizeof *d);
                if (!d)
                        return -ENOMEM;
                for (size_t i = 0; i < b->n_rows; i++) {
                        d[i] = b->rows[i].d;
                        d[i].slot = b->rows[i].slot;
                        d[i].channel = b->rows[i].channel;
                }
                r = store_deliveries_insert(s, d, b->n_rows);
                if (r < 0)
                        return r;
                *created += r;
                b->n_rows = 0;
        }
        if (b->n_tasks > 0) {
                r = store_tasks_set_schedule(s, b->tasks, b->next_fire, b->n_tasks, now);
                if (r < 0)
                        return r;
                b->n_tasks = 0;
        }
        return 0;
}

/* One delivery per channel of each recipient, due when its slot is (at
 * once for a slot already past), added to the batch. */
static int insert_deliveries(struct decided *b, const struct config *c, const struct task *t,
                             const struct slot *slot, const struct recipient *r, size_t n, bool email_only,
                             int64_t now) {
        for (size_t i = 0; i < n; i++) {
                const struct agency *a = config_find_agency(c, r[i].agency);
                size_t channels = 0;

                for (size_t ch = 0; ch <= (email_only ? 0 : a->n_webhooks); ch++) {
                        if (ch == 0 && strv_length(a->email) + strv_length(a->cc) == 0)
                                continue;
                        if (b->n_rows == b->size_rows) {
                                size_t size = MAX(b->size_rows * 2, (size_t) 64);
                                struct decided_row *rows = reallocarray(b->rows, size, sizeof *rows);
                                if (!rows)
                                        return -ENOMEM;
                                b->rows = rows;
                                b->size_rows = size;
                        }
                        struct decided_row *row = &b->rows[b->n_rows++];
                        if (ch == 0)
                                snprintf(row->channel, sizeof row->channel, "email");
                        else
                                snprintf(row->channel, sizeof row->channel, "webhook:%zu", ch - 1);
                        snprintf(row->slot, sizeof row->slot, "%s", slot->key);
                        row->d = (struct delivery) {
                                .task_id = t->id,
                                .slot_at = slot->at,
                                .agency = a->id,
                                .role = r[i].role,
                                .state = DELIVERY_PENDING,
                                .next_attempt_at = MAX(slot->at, now),
                                .created_at = now,
                                .sent_at = NO_TIME,
                        };
                        channels++;
                }
                if (channels == 0)
                        log_warning("Agency %s has no e-mail address or webhook: its reminder for task %lld "
                                    "(%s) cannot be sent", a->id, (long long) t->id, slot->key);
        }
        return 0;
}

static void warn_unknown_agencies(const struct config *c, const struct task *t) {
        for (size_t i = 0; i < t->n_agencies; i++)
                if (!config_id_exists(c, t->agencies[i].agency))
                        log_warning("Task %lld names agency \"%s\", which the configuration no longer has; "
                                    "it is not reminded", (long long) t->id, t->agencies[i].agency);
}

/* Whether a recurring task's deadline has passed, so that it moves on to
 * its next one (roll_recurrence()). */
static bool rolls(const struct task *t, int64_t now, struct recurrence *ret_rec, struct due *ret_due) {
        return t->recurrence && t->due_at != NO_TIME && t->due_at <= now &&
               recurrence_parse(t->recurrence, ret_rec) >= 0 && parse_due(t->due, 0, ret_due) >= 0;
}

/* Moves a recurring task whose deadline has passed (rolls() said so and
 * gave its recurrence and deadline) to its next deadline. */
static int roll_recurrence(struct store *s, struct task *t, int64_t now, const struct recurrence *rec,
                           struct due d) {
        char buf[17];

        while (due_instant(&d) <= now)
                d.day = recurrence_next(rec, d.day);
        format_due(&d, buf);
        free(t->due);
        t->due = strdup(buf);
        if (!t->due)
                return -ENOMEM;
        t->due_at = due_instant(&d);
        task_due_rule_clear(t);
        /* The next occurrence's deadline is its own original one. */
        free(t->original_due);
        t->original_due = strdup(buf);
        if (!t->original_due)
                return -ENOMEM;
        log_info("Recurring task %lld: next deadline %s", (long long) t->id, buf);
        return store_task_update(s, t, now);
}

/* The notices owed for a task's new assignments (task_agency.notice_at)
 * become deliveries, one per (task, "notice:<assigned_at>", agency,
 * channel), in the transaction that clears what was owed: made once,
 * whatever happens to the process. Agencies given the task together share
 * a key and so one message (To the leads, Cc the cooperating ones); in
 * digest mode, an agency's notices due together go as one message. A task
 * without a deadline, or a configuration with notify_on_assign off, owes
 * nothing: the notices are cleared unsent. The task in memory is cleared
 * too, so that writing it back (a recurring task moving on) owes nothing
 * again. */
static int decide_notices(struct store *s, const struct config *c, struct task *t, int64_t now,
                          struct decided *b) {
        bool owed = false, send = c->policy.notify_on_assign && t->due_at != NO_TIME;
        int r;

        for (size_t i = 0; i < t->n_agencies; i++)
                owed = owed || t->agencies[i].notice_at != 0;
        if (!owed)
                return 0;
        for (size_t i = 0; send && i < t->n_agencies; i++) {
                const struct task_agency *a = &t->agencies[i];
                struct recipient rcpt[256];
                size_t nr = 0;

                if (a->notice_at == 0)
                        continue;
                add_recipient(c, rcpt, &nr, ELEMENTSOF(rcpt), a->agency, a->role);
                struct slot slot = { .at = schedule_notice_at(&c->policy, t->due_at, a->notice_at) };
                snprintf(slot.key, sizeof slot.key, "notice:%lld", (long long) a->notice_at);
                r = insert_deliveries(b, c, t, &slot, rcpt, nr, false, now);
                if (r < 0)
                        return r;
        }
        r = store_task_notices_clear(s, t->id);
        if (r < 0)
                return r;
        for (size_t i = 0; i < t->n_agencies; i++)
                t->agencies[i].notice_at = 0;
        return 0;
}

/* Whether `agency` waits for the officer on its report that task `task`
 * is done: its reminders of the task are held meanwhile. */
static bool held(const struct inbox_wait_list *w, int64_t task, const char *agency) {
        for (size_t i = 0; w && i < w->n; i++)
                if (w->items[i].task_id == task && streq(w->items[i].agency, agency))
                        return true;
        return false;
}

/* Leaves out of a reminder the agencies whose report of completion waits:
 * the slot is skipped for them, not dropped, since a refused report
 * (deadlinectl reject) winds the task's schedule back to when it came,
 * and the latest slot missed meanwhile then goes, as after downtime. */
static size_t drop_held(const struct inbox_wait_list *w, const struct task *t, const struct slot *slot,
                        struct recipient *rcpt, size_t nr) {
        size_t kept = 0;

        for (size_t k = 0; k < nr; k++) {
                if (held(w, t->id, rcpt[k].agency)) {
                        log_info("Reminder for task %lld to %s held (%s): its report of completion waits for "
                                 "the officer", (long long) t->id, rcpt[k].agency, slot->key);
                        continue;
                }
                rcpt[kept++] = rcpt[k];
        }
        return kept;
}

static int decide_task(struct store *s, const struct config *c, struct task *t, const struct inbox_wait_list *w,
                       int64_t now, struct decided *b, size_t *rolled) {
        const struct policy *p = &c->policy;
        _cleanup_free_ struct slot *slots = calloc(SCHEDULE_DUE_MAX(p), sizeof *slots);
        struct slot next;
        int r;

        if (!slots)
                return -ENOMEM;
        r = decide_notices(s, c, t, now, b);
        if (r < 0)
                return r;
        if (t->due_at == NO_TIME)
                return decided_schedule(b, t->id, NO_TIME);

        warn_unknown_agencies(c, t);
        /* A recurring task past its deadline moves on (below): the
         * reminders of the occurrence that is over would be stale before
         * they went, and are not made. */
        struct recurrence rec;
        struct due d;
        bool rolling = rolls(t, now, &rec, &d);
        size_t n = rolling ? 0 : schedule_due(p, t->due_at, task_date_only(t), t->fired_through, now, slots);

        /* Escalation levels newest first, so that an agency at several
         * levels hears only of the latest after downtime. */
        const char *escalated[256];
        size_t n_escalated = 0;
        for (size_t i = n; i-- > 0;) {
                struct recipient rcpt[256];
                size_t nr = 0;

                if (slots[i].kind == SLOT_ESCALATE) {
                        const struct escalation *e = &p->escalation[slots[i].level];
                        for (char **to = e->to; *to; to++)
                                add_recipient(c, rcpt, &nr, ELEMENTSOF(rcpt), *to, ROLE_LEAD);
                        size_t kept = 0;
                        for (size_t k = 0; k < nr; k++) {
                                bool seen = false;
                                for (size_t e2 = 0; e2 < n_escalated; e2++)
                                        seen = seen || streq(escalated[e2], rcpt[k].agency);
                                if (seen)
                                        continue;
                                if (n_escalated < ELEMENTSOF(escalated))
                                        escalated[n_escalated++] = rcpt[k].agency;
                                rcpt[kept++] = rcpt[k];
                        }
                        nr = kept;
                } else {
                        for (size_t k = 0; k < t->n_agencies; k++)
                                add_recipient(c, rcpt, &nr, ELEMENTSOF(rcpt), t->agencies[k].agency,
                                              t->agencies[k].role);
                        nr = drop_held(w, t, &slots[i], rcpt, nr);
                }
                r = insert_deliveries(b, c, t, &slots[i], rcpt, nr, false, now);
                if (r < 0)
                        return r;
        }

        if (rolling) {
                r = roll_recurrence(s, t, now, &rec, d);
                if (r < 0)
                        return r;
                (*rolled)++;
        }
        int64_t next_at = schedule_next(p, t->due_at, task_date_only(t), now, &next) ? next.at : NO_TIME;
        return decided_schedule(b, t->id, next_at);
}

/* The inbox message an answer to a reply is about ("ack:<id>",
 * "reject:<id>"); 0 for any other key. */
static int64_t reply_answer_id(const char *key) {
        const char *p = strncmp(key, "ack:", 4) == 0 ? key + 4 : strncmp(key, "reject:", 7) == 0 ? key + 7 : NULL;
        int64_t v = 0;

        if (!p || *p < '1' || *p > '9')
                return 0;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (v > (INT64_MAX - 9) / 10)
                        return 0;
                v = v * 10 + (*p - '0');
        }
        return *p ? 0 : v;
}

int outbox_enqueue(struct store *s, const struct config *c, const char *key, const char *agency, int64_t at,
                   int64_t now) {
        const char *colon = key ? strchr(key, ':') : NULL;
        int created = 0;

        if (!colon || colon == key || !colon[1] || strlen(key) >= SLOT_KEY_MAX)
                return -EINVAL;
        /* The kinds of the task's own slots are not for this. */
        if (compose_slot_kind(key) != RENDER_REMINDER || strncmp(key, "before:", 7) == 0)
                return -EINVAL;
        if (!config_find_agency(c, agency))
                return -ENOENT;
        struct slot slot = { .at = at };
        snprintf(slot.key, sizeof slot.key, "%s", key);
        struct recipient r = { agency, _ROLE_INVALID };
        const struct task none = { .id = 0 };
        /* A report is an HTML page with a file attached: nothing a
         * webhook's chat message could carry. */
        bool email_only = strncmp(key, "report:", 7) == 0 || reply_answer_id(key) > 0;
        _cleanup_(decided_done) struct decided b = {};
        int k = insert_deliveries(&b, c, &none, &slot, &r, 1, email_only, now);
        if (k >= 0)
                k = decided_flush(s, &b, now, &created);
        return k < 0 ? k : created;
}

int outbox_decide(struct store *s, const struct config *c, int64_t now) {
        return outbox_decide_some(s, c, now, SIZE_MAX, NULL);
}

/* The periodic report owed at `now` (report.h) becomes one row per agency
 * of report_to, keyed "report:<agency>:<period>": inserted once, whatever
 * the passes and restarts. A few keyed inserts that find their row there,
 * per pass; nothing when no report is configured. */
static int decide_reports(struct store *s, const struct config *c, int64_t now, bool *ret_skipped) {
        struct report_period period;
        int created = 0, r;

        if (!report_owed(&c->policy, now, &period, NULL))
                return 0;
        int64_t due = report_period_due(&c->policy, &period);
        r = store_begin(s);
        if (r < 0)
                return r;
        r = store_decide_lock(s);
        if (r <= 0) {
                (void) store_rollback(s);
                *ret_skipped = r == 0;
                return MIN(r, 0);
        }
        for (char **a = c->policy.report_to; *a; a++) {
                char key[SLOT_KEY_MAX];
                snprintf(key, sizeof key, "report:%s:%s", *a, period.name);
                r = outbox_enqueue(s, c, key, *a, due, now);
                if (r < 0)
                        break;
                created += r;
        }
        if (r >= 0)
                r = store_commit(s);
        if (r < 0) {
                (void) store_rollback(s);
                return r;
        }
        if (created > 0)
                log_info("Report %s decided for %d deliveries", period.name, created);
        return created;
}

int outbox_decide_some(struct store *s, const struct config *c, int64_t now, size_t max_tasks,
                       struct outbox_decided *ret) {
        struct outbox_decided unused, *out = ret ?: &unused;
        _cleanup_(decided_done) struct decided b = {};
        size_t done = 0;
        int created = 0, r;

        *out = (struct outbox_decided) {};
        r = decide_reports(s, c, now, &out->skipped);
        if (out->skipped)
                return 0;
        if (r < 0)
                return r;
        created = r;
        for (;;) {
                if (done >= max_tasks) {
                        out->more = true;
                        return created;
                }
                struct task_list l = {};
                size_t rolled = 0;
                struct inbox_wait_list w = {};
                r = store_begin(s);
                if (r < 0)
                        return r;
                /* One daemon decides at a time (several on one server
                 * database); the others send what it decided. */
                r = store_decide_lock(s);
                if (r == 0) {
                        (void) store_rollback(s);
                        out->skipped = true;
                        return created;
                }
                if (r >= 0)
                        r = store_tasks_due(s, now, DECIDE_BATCH, &l);
                /* The reports of completion that hold reminders, read once
                 * per batch, only when some task is due. */
                if (r >= 0 && l.n > 0 && c->has_inbox && c->inbox.pause_reminders)
                        r = store_inbox_reports_waiting(s, &w);
                for (size_t i = 0; r >= 0 && i < l.n; i++)
                        r = decide_task(s, c, &l.tasks[i], &w, now, &b, &rolled);
                if (r >= 0)
                        r = decided_flush(s, &b, now, &created);
                size_t n = l.n;
                done += n;
                task_list_done(&l);
                inbox_wait_list_done(&w);
                if (r >= 0)
                        r = store_commit(s);
                if (r < 0) {
                        (void) store_rollback(s);
                        return r;
                }
                out->rolled += rolled;
                if (n < DECIDE_BATCH)
                        return created;
        }
}

int outbox_next_wakeup(struct store *s, const struct config *c, int64_t now, int64_t *ret) {
        struct report_period period;
        int64_t a, b, report = NO_TIME;
        int r;

        /* The next report's due time: pure arithmetic, no store work. */
        if (c)
                (void) report_owed(&c->policy, now, &period, &report);

        r = store_next_fire(s, &a);
        if (r < 0)
                return r;
        r = store_next_delivery(s, &b);
        if (r < 0)
                return r;
        *ret = a == NO_TIME ? b : b == NO_TIME ? a : MIN(a, b);
        if (report != NO_TIME)
                *ret = *ret == NO_TIME ? report : MIN(*ret, report);
        return 0;
}

int64_t outbox_backoff(const struct delivery_policy *p, int attempts, double random) {
        int64_t d = p->retry_min;

        for (int i = 1; i < attempts && d < p->retry_max; i++)
                d *= 2;
        d = MIN(d, p->retry_max);
        return d + (int64_t) ((double) d * 0.2 * (random - 0.5));
}

/* After a message went to some of a row's addresses and not others: the
 * ones it went to, with those before, one per line; NULL if none are new. */
static char *row_delivered_now(const struct job *j, size_t row) {
        struct strbuf b = STRBUF_INIT(SIZE_MAX);
        bool added = false;
        char *s;

        if (!j->data_accepted || !j->rcpt_refused)
                return NULL;
        if (j->rows[row].delivered_to)
                strbuf_puts(&b, j->rows[row].delivered_to);
        for (size_t k = 0; k < j->n_rcpt; k++) {
                if (!job_rcpt_in_row(j, k, row) || j->rcpt_refused[k] ||
                    job_row_delivered(&j->rows[row], j->rcpt[k]))
                        continue;
                if (b.len > 0)
                        strbuf_putc(&b, '\n');
                strbuf_puts(&b, j->rcpt[k]);
                added = true;
        }
        if (!added || strbuf_steal(&b, &s, NULL) < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return s;
}

/* The grouping key of a delivery: rows with equal keys travel together. */
static void job_key(const struct config *c, const struct delivery *d, char *buf, size_t size) {
        bool email = streq(d->channel, "email");

        /* A delivery about no one task is a message of its own. */
        if (d->task_id == 0) {
                snprintf(buf, size, "untasked|%lld", (long long) d->id);
                return;
        }
        /* A digest's rows travel together unless some are retries that
         * some of the agency's addresses have already; notices of new
         * tasks and reminders go as separate messages. */
        if (c->policy.digest)
                snprintf(buf, size, "%s|%s|%s|%s", d->agency, d->channel, strempty(d->delivered_to),
                         render_kind_to_string(compose_slot_kind(d->slot)));
        else if (email)
                snprintf(buf, size, "%lld|%s|email", (long long) d->task_id, d->slot);
        else
                snprintf(buf, size, "%lld", (long long) d->id);
}

/* Slot keys end in "@<due_at>": a delivery decided for a deadline that has
 * since been edited is stale. A notice of an assignment is not: it tells
 * of the task with the deadline it has when it goes. */
static bool slot_matches(const char *slot, int64_t due_at) {
        if (compose_slot_kind(slot) == RENDER_ASSIGNMENT)
                return true;
        const char *at = strrchr(slot, '@');
        return at && due_at != NO_TIME && strtoll(at + 1, NULL, 10) == due_at;
}

static int job_add_row(struct job *j, const struct delivery *d, int64_t now) {
        struct job_row *rows = realloc(j->rows, (j->n_rows + 1) * sizeof *rows);
        if (!rows)
                return -ENOMEM;
        j->rows = rows;
        rows[j->n_rows] = (struct job_row) {
                .delivery_id = d->id,
                .task_id = d->task_id,
                .slot = strdup(d->slot),
                .slot_at = d->slot_at,
                .agency = strdup(d->agency),
                .role = d->role,
                .attempts = d->attempts + 1,
                .created_at = d->created_at,
                .next_attempt_at = d->next_attempt_at,
                .first_attempt_at = d->first_attempt_at != NO_TIME ? d->first_attempt_at : now,
                .delivered_to = d->delivered_to ? strdup(d->delivered_to) : NULL,
        };
        j->n_rows++;
        return rows[j->n_rows - 1].slot && rows[j->n_rows - 1].agency &&
                               (!d->delivered_to || rows[j->n_rows - 1].delivered_to)
                       ? 0
                       : -ENOMEM;
}

/* The tasks a claim touches, read at once, by id. */
struct task_cache {
        struct task_list l;
};

/* The tasks of the rows whose message is to go (`take[i]`). */
static int task_cache_load(struct store *s, const struct delivery_list *dl, const bool *take, struct task_cache *tc) {
        _cleanup_free_ int64_t *ids = calloc(dl->n + 1, sizeof *ids);
        size_t n = 0;

        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < dl->n; i++)
                if (take[i] && dl->items[i].task_id != 0)
                        ids[n++] = dl->items[i].task_id;
        return store_tasks_get(s, ids, n, &tc->l);
}

static const struct task *task_cache_get(const struct task_cache *tc, int64_t id) {
        size_t lo = 0, hi = tc->l.n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (tc->l.tasks[mid].id == id)
                        return &tc->l.tasks[mid];
                if (tc->l.tasks[mid].id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

static void task_cache_done(struct task_cache *tc) {
        task_list_done(&tc->l);
}

static int set_state(struct store *s, const struct job_row *r, enum delivery_state st, int64_t next, const char *err,
                     int64_t now) {
        return store_delivery_set_state(s, r->delivery_id, st, next, err, now);
}

static const char *agency_name(const char *id, void *userdata) {
        const struct config *c = userdata;
        const struct agency *a = config_find_agency(c, id);
        const struct group *g;

        if (a)
                return a->name;
        g = config_find_group(c, id);
        return g ? g->name : NULL;
}

/* A delivery about no one task, composed; for a report, the report of its
 * period computed first from the store, here, since compose is pure. The
 * occurrences of one period are read by the deadline's index: a month of
 * 10,000 tasks takes about 0.2 s, once a period. */
static int compose_untasked_job(struct store *s, const struct config *c, struct job *j, int64_t now) {
        _cleanup_(task_occurrence_list_done) struct task_occurrence_list l = {};
        _cleanup_(report_done) struct report rep = {};
        const char *slot = j->rows[0].slot, *period = strrchr(slot, ':');
        int32_t from_day, to_day;
        int r;

        int64_t reply_id = reply_answer_id(slot);
        if (reply_id > 0) {
                /* An answer to an agency's reply: the reply, and the task it
                 * names, from the store (compose is pure). */
                _cleanup_(inbox_message_done) struct inbox_message reply = {};
                _cleanup_(task_done) struct task t = {};
                r = store_inbox_get(s, reply_id, &reply);
                if (r < 0)
                        return r;
                if (reply.task_id > 0) {
                        r = store_task_get(s, reply.task_id, &t);
                        if (r < 0 && r != -ENOENT)
                                return r;
                }
                return compose_reply_answer(c, j, &reply, t.id > 0 ? &t : NULL, now);
        }
        if (strncmp(slot, "report:", 7) != 0)
                return compose_untasked(c, j, NULL, now);
        if (report_period_parse(period + 1, &from_day, &to_day) < 0)
                return -EOPNOTSUPP;
        struct occurrence_filter f = {
                .due_from = local_to_instant(from_day, 0),
                .due_to = local_to_instant(to_day + 1, 0) - 1,
        };
        r = store_task_occurrences(s, &f, &l);
        if (r < 0)
                return r;
        struct report_input in = {
                .from_day = from_day,
                .to_day = to_day,
                .as_of = report_as_of(to_day, now),
                .items = l.items,
                .n = l.n,
                .agency_name = agency_name,
                .userdata = (void *) c,
        };
        r = report_compute(&in, &rep);
        if (r < 0)
                return r;
        return compose_untasked(c, j, &rep, now);
}

int outbox_claim(struct store *s, const struct config *c, int64_t now, size_t limit, const struct claim_filter *f,
                 struct job_list *ret) {
        struct delivery_list dl = {};
        struct task_cache tc = {};
        struct job_list jobs = {};
        char **keys = NULL;
        _cleanup_free_ int64_t *ids = NULL;
        _cleanup_free_ bool *refused = NULL, *take = NULL;
        _cleanup_free_ size_t *job_of = NULL;
        size_t n_ids = 0;
        int r;

        r = store_begin(s);
        if (r < 0)
                return r;
        r = store_deliveries_due(s, now,
                                 &(const struct delivery_filter) {
                                         .skip = f ? f->busy : NULL,
                                         .n_skip = f ? f->n_busy : 0,
                                         .limit = limit,
                                 },
                                 &dl);
        if (r < 0)
                goto fail;
        keys = calloc(dl.n + 1, sizeof *keys);
        jobs.jobs = calloc(dl.n + 1, sizeof *jobs.jobs);
        refused = calloc(dl.n + 1, sizeof *refused);
        job_of = calloc(dl.n + 1, sizeof *job_of);
        take = calloc(dl.n + 1, sizeof *take);
        if (!keys || !jobs.jobs || !refused || !job_of || !take) {
                r = -ENOMEM;
                goto fail;
        }

        /* A full batch may end in the middle of one message's recipients.
         * Unless that message is all the batch holds, its rows are left for
         * the next claim, so that one letter never goes out in two parts. */
        char last_key[512] = "";
        if (limit > 0 && dl.n == limit) {
                char key[512];
                job_key(c, &dl.items[dl.n - 1], last_key, sizeof last_key);
                bool others = false;
                for (size_t i = 0; i < dl.n && !others; i++) {
                        job_key(c, &dl.items[i], key, sizeof key);
                        others = !streq(key, last_key);
                }
                if (!others)
                        last_key[0] = 0;
        }

        /* The rows grouped into messages, the receiver of each asked once
         * for room. A message without room stays pending, all of it, for a
         * later claim, and its tasks are not read now. */
        for (size_t i = 0; i < dl.n; i++) {
                const struct delivery *d = &dl.items[i];
                char key[512];
                size_t k;

                job_key(c, d, key, sizeof key);
                if (last_key[0] && streq(key, last_key))
                        continue;
                for (k = 0; k < jobs.n; k++)
                        if (streq(keys[k], key))
                                break;
                if (k == jobs.n) {
                        struct job *j = calloc(1, sizeof *j);
                        keys[k] = strdup(key);
                        if (!j || !keys[k]) {
                                free(j);
                                r = -ENOMEM;
                                goto fail;
                        }
                        j->channel = streq(d->channel, "email") ? CHANNEL_EMAIL : CHANNEL_WEBHOOK;
                        j->webhook_index = j->channel == CHANNEL_WEBHOOK ? strtoul(d->channel + 8, NULL, 10) : 0;
                        j->agency = strdup(d->agency);
                        snprintf(j->instance, sizeof j->instance, "%s", strempty(store_instance_id(s)));
                        jobs.jobs[jobs.n++] = j;
                        refused[k] = f && f->admit && !f->admit(f->userdata, d->agency, d->channel);
                }
                job_of[i] = k;
                take[i] = !refused[k];
        }
        r = task_cache_load(s, &dl, take, &tc);
        if (r < 0)
                goto fail;

        for (size_t i = 0; i < dl.n; i++) {
                const struct delivery *d = &dl.items[i];
                if (!take[i])
                        continue;
                const struct task *t = task_cache_get(&tc, d->task_id);
                const char *why = NULL;

                if (d->task_id == 0) {
                        if (!config_find_agency(c, d->agency))
                                why = "not sent: the agency is no longer in the configuration";
                } else if (!t)
                        why = "not sent: the task is gone";
                else if (t->status != TASK_OPEN)
                        why = "not sent: the task was closed before its reminder went out";
                else if (!slot_matches(d->slot, t->due_at))
                        why = "not sent: the deadline was changed";
                else if (!config_find_agency(c, d->agency))
                        why = "not sent: the agency is no longer in the configuration";
                if (why) {
                        /* Not a failure of delivery: the reminder lost its
                         * reason. Recorded, so history shows why. */
                        r = store_delivery_set_state(s, d->id, DELIVERY_FAILED, NO_TIME, why, now);
                        if (r < 0)
                                goto fail;
                        jobs.consumed++;
                        continue;
                }
                r = job_add_row(jobs.jobs[job_of[i]], d, now);
                if (r < 0)
                        goto fail;
        }
        size_t kept = 0;
        for (size_t k = 0; k < jobs.n; k++)
                /* Refused, or every row of it lost its reason. */
                if (refused[k] || jobs.jobs[k]->n_rows == 0)
                        job_free(jobs.jobs[k]);
                else {
                        jobs.consumed += jobs.jobs[k]->n_rows;
                        jobs.jobs[kept++] = jobs.jobs[k];
                }
        jobs.n = kept;

        ids = calloc(dl.n + 1, sizeof *ids);
        if (!ids) {
                r = -ENOMEM;
                goto fail;
        }
        for (size_t k = 0; k < jobs.n; k++) {
                struct job *j = jobs.jobs[k];
                _cleanup_free_ const struct task **tasks = calloc(j->n_rows, sizeof *tasks);

                if (!tasks) {
                        r = -ENOMEM;
                        goto fail;
                }
                for (size_t i = 0; i < j->n_rows; i++)
                        tasks[i] = task_cache_get(&tc, j->rows[i].task_id);
                if (j->rows[0].task_id == 0)
                        r = compose_untasked_job(s, c, j, now);
                else
                        r = j->channel == CHANNEL_EMAIL ? compose_email(c, j, tasks, now)
                                                        : compose_webhook(c, j, tasks, now);
                if (r < 0) {
                        /* A message that cannot be built will not build
                         * next time either. */
                        log_error_errno(r, "Cannot compose the message for %s (task %lld): %m", j->agency,
                                        (long long) j->rows[0].task_id);
                        job_set_result(j, RESULT_FAIL,
                                       r == -EOPNOTSUPP ? "no message is made for this kind of delivery"
                                       : r == -EBADMSG  ? "the webhook's body template did not make JSON"
                                                        : "the message could not be composed");
                }
                for (size_t i = 0; i < j->n_rows; i++)
                        ids[n_ids++] = j->rows[i].delivery_id;
        }
        /* All in one statement: the rows were pending a moment ago in this
         * same transaction, so each one changes. */
        r = store_deliveries_set_state(s, ids, n_ids, DELIVERY_ATTEMPTING, now);
        if (r >= 0)
                r = store_commit(s);
        if (r < 0)
                goto fail;

        strv_free(keys);
        task_cache_done(&tc);
        delivery_list_done(&dl);
        *ret = jobs;
        return (int) jobs.n;

fail:
        (void) store_rollback(s);
        strv_free(keys);
        task_cache_done(&tc);
        delivery_list_done(&dl);
        job_list_done(&jobs);
        return r;
}

static void log_row(const struct job *j, const struct job_row *row, int level, const char *what, const char *detail) {
        char task[24], delivery[24];

        snprintf(task, sizeof task, "%lld", (long long) row->task_id);
        snprintf(delivery, sizeof delivery, "%lld", (long long) row->delivery_id);
        if (row->task_id == 0) {
                log_set_field("AGENCY", row->agency);
                log_set_field("DELIVERY", delivery);
                log_full_errno(level, 0, "Delivery %s %s to %s by %s%s%s", row->slot, what, row->agency,
                               j->channel == CHANNEL_EMAIL ? "e-mail" : "webhook", detail ? ": " : "",
                               strempty(detail));
                log_clear_fields();
                return;
        }
        log_set_field("TASK_ID", task);
        log_set_field("AGENCY", row->agency);
        log_set_field("DELIVERY", delivery);
        log_full_errno(level, 0, "Reminder %s for task %lld to %s by %s (%s)%s%s", what, (long long) row->task_id,
                       row->agency, j->channel == CHANNEL_EMAIL ? "e-mail" : "webhook", row->slot,
                       detail ? ": " : "", strempty(detail));
        log_clear_fields();
}

int outbox_settle(struct store *s, const struct config *c, int64_t now, struct job **jobs, size_t n) {
        _cleanup_free_ int64_t *sent = NULL;
        size_t n_rows = 0, n_sent = 0;
        int r;

        for (size_t k = 0; k < n; k++)
                n_rows += jobs[k]->n_rows;
        sent = calloc(n_rows + 1, sizeof *sent);
        if (!sent)
                return -ENOMEM;
        r = store_begin(s);
        if (r < 0)
                return r;

        for (size_t k = 0; k < n; k++) {
                struct job *j = jobs[k];
                for (size_t i = 0; i < j->n_rows && r >= 0; i++) {
                        struct job_row *row = &j->rows[i];
                        if (row->result == RESULT_RETRY || row->result == RESULT_FAIL) {
                                _cleanup_free_ char *delivered = row_delivered_now(j, i);
                                if (delivered)
                                        r = store_delivery_set_delivered_to(s, row->delivery_id, delivered);
                                if (r < 0)
                                        break;
                        }
                        switch (row->result) {
                        case RESULT_SENT:
                                /* Recorded together below, in one statement. */
                                sent[n_sent++] = row->delivery_id;
                                log_row(j, row, LOG_INFO, "sent", NULL);
                                break;
                        case RESULT_RETRY: {
                                int64_t delay = outbox_backoff(&c->delivery, row->attempts,
                                                               (double) random() / ((double) RAND_MAX + 1.0));
                                /* The age counts from the first attempt; the
                                 * last one is made when it runs out, even
                                 * where the back-off (or a Retry-After)
                                 * would reach past it. */
                                int64_t last = row->first_attempt_at + c->delivery.max_retry_age;
                                if (row->retry_after > 0)
                                        delay = MAX(delay, MIN(row->retry_after, c->delivery.retry_max));
                                if (now >= last) {
                                        char msg[600];
                                        snprintf(msg, sizeof msg, "gave up after %d attempts: %s", row->attempts,
                                                 strempty(row->error));
                                        r = set_state(s, row, DELIVERY_FAILED, NO_TIME, msg, now);
                                        log_row(j, row, LOG_ERR, "failed", msg);
                                        /* Counted as the failure it now is, with
                                         * its reason, also if this transaction
                                         * fails and the settle is done again. */
                                        row->result = RESULT_FAIL;
                                        free(row->error);
                                        row->error = strdup(msg);
                                } else {
                                        delay = MIN(delay, last - now);
                                        r = set_state(s, row, DELIVERY_PENDING, now + delay, row->error, now);
                                        char msg[600], when[20];
                                        format_local(now + delay, when);
                                        snprintf(msg, sizeof msg, "%s; retrying at %s", strempty(row->error), when);
                                        log_row(j, row, LOG_WARNING, "deferred", msg);
                                }
                                break;
                        }
                        case RESULT_FAIL:
                                r = set_state(s, row, DELIVERY_FAILED, NO_TIME, row->error, now);
                                log_row(j, row, LOG_ERR, "failed", row->error);
                                break;
                        case RESULT_UNSENT:
                                /* Claimed, never went out (a stop): back in
                                 * its place in the queue, as it was. */
                                r = store_delivery_put_back(s, row->delivery_id, row->next_attempt_at);
                                break;
                        case RESULT_NONE:
                                /* Cut off under way (a stop's time ran out):
                                 * it may have gone, and the attempt counts;
                                 * put back to go again, not lost. */
                                r = set_state(s, row, DELIVERY_PENDING, now, NULL, now);
                                break;
                        }
                }
        }
        if (r >= 0)
                r = store_deliveries_set_state(s, sent, n_sent, DELIVERY_SENT, now);
        if (r >= 0)
                r = store_commit(s);
        if (r < 0)
                (void) store_rollback(s);
        return r;
}
