/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl import: a directive's text (clean or scanned), a scanned
 * directive as a PDF or an image (read by the OCR helper, ctl-scan.c), CSV
 * or JSON in, read into items (ctl-import.h), checked, then reviewed
 * (ctl-import-review.c) or applied (ctl-import-apply.c).
 *
 * An import is applied in one transaction or not at all. Its key is the
 * document number and the task reference: importing the same document again
 * updates its tasks rather than adding them twice. --dry-run shows what would
 * be created, every item with the page and line it starts at, flagging every
 * agency mention that matched nobody and every item without a deadline or a
 * lead, and exits 0 only when the import would apply everything. An item
 * without a lead takes --default-lead, or keeps the import from applying
 * (--partial: is left out). */

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "ctl-import.h"
#include "directive.h"
#include "fileio.h"
#include "number.h"
#include "recurrence.h"
#include "schedule.h"
#include "textnorm.h"
#include "timeutil.h"

#define IMPORT_MAX_INPUT (8 * 1024 * 1024)
#define IMPORT_MAX_TASKS 5000
#define TITLE_WORDS_MAX 200   /* bytes of an imported title; the rest stays in the detail */

enum format {
        FORMAT_GUESS,
        FORMAT_DIRECTIVE,
        FORMAT_CSV,
        FORMAT_JSON,
};

static void item_done(struct item *it) {
        free(it->document);
        free(it->ref);
        free(it->title);
        free(it->detail);
        free(it->due);
        free(it->original_due);
        free(it->due_rule);
        free(it->due_rule_from);
        free(it->recurrence);
        strv_free(it->lead);
        strv_free(it->support);
        strv_free(it->unmatched);
}

static void import_done(struct import *im) {
        for (size_t i = 0; i < im->n; i++)
                item_done(&im->items[i]);
        free(im->items);
        strv_free(im->addressees);
        strv_free(im->addressees_unmatched);
        reimport_conflicts_clear(&im->conflicts);
        free(im->doc.number);
        free(im->doc.subject);
        free(im->doc.issued_on);
        free(im->doc.issuer);
        free(im->doc.signer);
}

static struct item *import_add(struct import *im) {
        if (im->n >= IMPORT_MAX_TASKS)
                return NULL;
        struct item *v = realloc(im->items, (im->n + 1) * sizeof *v);
        if (!v)
                return NULL;
        im->items = v;
        v[im->n] = (struct item) { .status = TASK_OPEN };
        return &v[im->n++];
}

static int read_file(struct ctl *c, const char *path, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = streq(path, "-") ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        int r;

        if (fd < 0)
                return ctl_fail(c, errno == ENOENT ? EX_NOINPUT : EX_NOINPUT, "%s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return ctl_fail(c, EX_IOERR, "%s: %s", path, strerror(errno));
        if (S_ISDIR(st.st_mode))
                return ctl_fail(c, EX_NOINPUT, "%s: is a directory", path);
        if (S_ISREG(st.st_mode) && st.st_size > IMPORT_MAX_INPUT)
                return ctl_fail(c, EX_DATAERR, "%s: %lld bytes is more than an import takes (%d MiB)", path,
                                (long long) st.st_size, IMPORT_MAX_INPUT / 1024 / 1024);
        r = read_full(fd, IMPORT_MAX_INPUT, S_ISREG(st.st_mode) ? (size_t) st.st_size : 0, ret, ret_size);
        if (r == -EFBIG)
                return ctl_fail(c, EX_DATAERR, "%s: more than an import takes (%d MiB)", path,
                                IMPORT_MAX_INPUT / 1024 / 1024);
        if (r == -ENOMEM)
                return ctl_fail(c, EX_OSERR, "out of memory");
        if (r < 0)
                return ctl_fail(c, EX_IOERR, "%s: %s", path, strerror(-r));
        return 0;
}

/* The agencies and groups of the configuration, as textnorm candidates. */
struct candidates {
        struct textnorm_candidate *v;
        const char ***names;
        size_t n;
};

static void candidates_done(struct candidates *k) {
        for (size_t i = 0; i < k->n; i++)
                free(k->names[i]);
        free(k->names);
        free(k->v);
}

static int candidates_build(const struct config *cfg, struct candidates *k) {
        size_t n = cfg->n_agencies + cfg->n_groups;

        k->v = calloc(n + 1, sizeof *k->v);
        k->names = calloc(n + 1, sizeof *k->names);
        if (!k->v || !k->names)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                bool agency = i < cfg->n_agencies;
                const char *id = agency ? cfg->agencies[i].id : cfg->groups[i - cfg->n_agencies].id;
                const char *name = agency ? cfg->agencies[i].name : cfg->groups[i - cfg->n_agencies].name;
                char **aliases = agency ? cfg->agencies[i].aliases : cfg->groups[i - cfg->n_agencies].aliases;
                size_t na = strv_length(aliases);
                const char **names = calloc(na + 2, sizeof *names);
                if (!names)
                        return -ENOMEM;
                names[0] = name;
                for (size_t a = 0; a < na; a++)
                        names[a + 1] = aliases[a];
                k->names[i] = names;
                k->v[i] = (struct textnorm_candidate) { .id = id, .names = names };
                k->n++;
        }
        return 0;
}

/* A title people can scan: the item's first sentence or so, cut at a word. */
static char *short_title(const char *text) {
        size_t len = strlen(text), cut = len;

        if (len > TITLE_WORDS_MAX) {
                cut = TITLE_WORDS_MAX;
                while (cut > 0 && text[cut] != ' ')
                        cut--;
                if (cut == 0)
                        cut = TITLE_WORDS_MAX;
                /* Never end inside a UTF-8 sequence. */
                while (cut > 0 && ((unsigned char) text[cut] & 0xC0) == 0x80)
                        cut--;
        }
        char *t = malloc(cut + 4);
        if (!t)
                return NULL;
        memcpy(t, text, cut);
        strcpy(t + cut, cut < len ? "…" : "");
        /* Trailing ";" or "," of a clause reads badly in a title. */
        for (size_t n = strlen(t); n > 0 && strchr(";,:. ", t[n - 1]); n--)
                t[n - 1] = 0;
        return t;
}

/* A task's deadline as the importer keeps it: "N ngày làm việc kể từ …"
 * counted again on the configured calendar (the parser, which knows none,
 * counted Monday to Friday), and kept with its rule. */
static char *directive_due(const struct ctl *c, const struct directive_task *t, struct item *it) {
        struct due d = t->due_parsed;
        char buf[17], from[11];

        if (!t->due)
                return NULL;
        if (t->due_workdays > 0 && !schedule_add_workdays(&c->config->policy, t->due_workdays_from,
                                                          t->due_workdays, &d.day))
                d = t->due_parsed;
        else if (t->due_workdays > 0) {
                format_iso_date(t->due_workdays_from, from);
                if (asprintf(&it->due_rule, "%dwd:%s", t->due_workdays, from) < 0)
                        it->due_rule = NULL;
        }
        format_due(&d, buf);
        return strdup(buf);
}

static int import_directive(struct ctl *c, const char *path, const char *text, size_t size, struct import *im) {
        _cleanup_(directive_freep) struct directive *d = NULL;
        struct candidates k = {};
        int r;

        r = candidates_build(c->config, &k);
        if (r >= 0)
                r = directive_parse(text, size, k.v, k.n, &d);
        candidates_done(&k);
        if (r == -EFBIG)
                return ctl_fail(c, EX_DATAERR, "%s: too large for a directive (at most %d KiB)", path,
                                DIRECTIVE_MAX_INPUT / 1024);
        if (r == -EBADMSG)
                return ctl_fail(c, EX_DATAERR, "%s: not a text file (binary data or invalid UTF-8)", path);
        if (r == -E2BIG)
                return ctl_fail(c, EX_DATAERR, "%s: more lines or items than a directive can have", path);
        if (r < 0)
                return ctl_fail(c, EX_SOFTWARE, "%s: %s", path, strerror(-r));

        im->doc = (struct document) {
                .number = d->number ? strdup(d->number) : NULL,
                .subject = d->subject ? strdup(d->subject) : NULL,
                .issued_on = d->issued_on ? strdup(d->issued_on) : NULL,
                .issuer = d->issuer ? strdup(d->issuer) : NULL,
                .signer = d->signer ? strdup(d->signer) : NULL,
        };
        im->addressees = strv_copy(d->addressees);
        im->addressees_unmatched = strv_copy(d->addressees_unmatched);
        if (!im->addressees || !im->addressees_unmatched)
                return ctl_fail(c, EX_OSERR, "out of memory");
        for (size_t i = 0; i < d->n_tasks; i++) {
                const struct directive_task *t = &d->tasks[i];
                struct item *it = import_add(im);
                if (!it)
                        return ctl_fail(c, EX_DATAERR, "%s: more than %d tasks", path, IMPORT_MAX_TASKS);
                it->ref = strdup(t->ref);
                it->title = short_title(t->text);
                if (t->heading)
                        r = asprintf(&it->detail, "%s\n%s", t->heading, t->text);
                else
                        it->detail = strdup(t->text);
                it->due = directive_due(c, t, it);
                it->recurrence = t->recurrence ? strdup(t->recurrence) : NULL;
                it->lead = strv_copy(t->lead);
                it->support = strv_copy(t->support);
                it->flags = t->flags;
                it->page = t->page;
                it->page_line = t->line;
                for (size_t m = 0; m < t->n_mentions; m++) {
                        const struct directive_mention *mn = &t->mentions[m];
                        char line[1024];
                        size_t len;
                        if (mn->id)
                                continue;
                        len = (size_t) snprintf(line, sizeof line, "\"%s\" (%s)", mn->text,
                                                mn->role == DIRECTIVE_LEAD ? "lead" : "support");
                        for (size_t s = 0; s < mn->n_suggestions && len < sizeof line; s++)
                                len += (size_t) snprintf(line + len, sizeof line - len, "%s%s %.2f",
                                                         s ? "," : "; closest:", mn->suggestions[s], mn->scores[s]);
                        if (strv_push(&it->unmatched, line) < 0)
                                return ctl_fail(c, EX_OSERR, "out of memory");
                }
                if (!it->ref || !it->title || !it->detail || !it->lead || !it->support)
                        return ctl_fail(c, EX_OSERR, "out of memory");
        }
        return 0;
}

/* Splits "stc; skhdt" or "stc,skhdt" into ids. */
static int split_ids(const char *s, char ***ret) {
        _cleanup_free_ char *copy = strdup(s);
        char *save = NULL, **v = calloc(1, sizeof *v);

        if (!copy || !v) {
                free(v);
                return -ENOMEM;
        }
        for (char *tok = strtok_r(copy, ";, ", &save); tok; tok = strtok_r(NULL, ";, ", &save))
                if (!strv_contains(v, tok) && strv_push(&v, tok) < 0) {
                        strv_free(v);
                        return -ENOMEM;
                }
        *ret = v;
        return 0;
}

const char *const csv_columns[] = { "document", "ref", "title", "detail", "due",
                                           "lead", "support", "recurrence", "status", "original_due", "due_rule",
                                           NULL };

static int import_csv(struct ctl *c, const char *path, const char *text, size_t size, struct import *im) {
        struct csv in;
        int map[16], n_cols, line, r;
        _cleanup_strv_free_ char **head = NULL;

        csv_init(&in, text, size);
        n_cols = csv_record(&in, &head, &line);
        if (n_cols == -EILSEQ)
                return ctl_fail(c, EX_DATAERR, "%s:%d: a NUL byte (this is not a text file)", path, line);
        if (n_cols == -ENOMEM)
                return ctl_fail(c, EX_OSERR, "out of memory");
        if (n_cols <= 0)
                return ctl_fail(c, EX_DATAERR, "%s:1: no header line (columns: document, ref, title, detail, due, "
                                "lead, support, recurrence, status, original_due, due_rule)", path);
        if (n_cols > (int) ELEMENTSOF(map))
                return ctl_fail(c, EX_DATAERR, "%s:1: too many columns", path);
        bool have_title = false, have_lead = false;
        for (int i = 0; i < n_cols; i++) {
                map[i] = -1;
                for (int k = 0; csv_columns[k]; k++)
                        if (strcasecmp(head[i], csv_columns[k]) == 0)
                                map[i] = k;
                if (map[i] < 0)
                        return ctl_fail(c, EX_DATAERR, "%s:1: unknown column \"%s\"", path, head[i]);
                have_title = have_title || map[i] == 2;
                have_lead = have_lead || map[i] == 5;
        }
        if (!have_title || !have_lead)
                return ctl_fail(c, EX_DATAERR, "%s:1: the columns \"title\" and \"lead\" are required", path);

        for (;;) {
                _cleanup_strv_free_ char **f = NULL;
                r = csv_record(&in, &f, &line);
                if (r == -EBADMSG)
                        return ctl_fail(c, EX_DATAERR, "%s:%d: a quoted field is not closed", path, line);
                if (r == -EILSEQ)
                        return ctl_fail(c, EX_DATAERR, "%s:%d: a NUL byte (this is not a text file)", path, line);
                if (r < 0)
                        return ctl_fail(c, EX_OSERR, "out of memory");
                if (r == 0)
                        break;
                if (r == 1 && !*f[0])
                        continue; /* a blank line */
                if (r != n_cols)
                        return ctl_fail(c, EX_DATAERR, "%s:%d: %d fields where the header has %d", path, line, r,
                                        n_cols);
                struct item *it = import_add(im);
                if (!it)
                        return ctl_fail(c, EX_DATAERR, "%s: more than %d tasks", path, IMPORT_MAX_TASKS);
                it->line = line;
                it->page_line = (unsigned) line;
                for (int i = 0; i < n_cols; i++) {
                        const char *v = f[i];
                        if (map[i] == 9)
                                it->original_due_given = true;
                        if (!*v && map[i] != 5)
                                continue;
                        switch (map[i]) {
                        case 0: it->document = strdup(v); break;
                        case 1: it->ref = strdup(v); break;
                        case 2: it->title = strdup(v); break;
                        case 3: it->detail = strdup(v); break;
                        case 4: it->due = strdup(v); break;
                        case 5: r = split_ids(v, &it->lead); break;
                        case 6: r = split_ids(v, &it->support); break;
                        case 7: it->recurrence = strdup(v); break;
                        case 8:
                                if ((int) (it->status = task_status_from_string(v)) < 0)
                                        return ctl_fail(c, EX_DATAERR, "%s:%d: status: \"%s\" is not open, done "
                                                        "or cancelled", path, line, v);
                                break;
                        case 9: it->original_due = strdup(v); break;
                        case 10: it->due_rule = strdup(v); break;
                        }
                        if (r < 0)
                                return ctl_fail(c, EX_OSERR, "out of memory");
                }
        }
        return 0;
}

static const char *json_str(json_t *o, const char *key) {
        json_t *v = json_object_get(o, key);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

static int json_ids(json_t *v, char ***ret) {
        char **l = calloc(1, sizeof *l);
        size_t i;
        json_t *e;

        if (!l)
                return -ENOMEM;
        if (json_is_string(v)) {
                free(l);
                return split_ids(json_string_value(v), ret);
        }
        if (v && !json_is_null(v) && !json_is_array(v)) {
                free(l);
                return -EINVAL;
        }
        json_array_foreach(v, i, e) {
                if (!json_is_string(e)) {
                        strv_free(l);
                        return -EINVAL;
                }
                if (strv_push(&l, json_string_value(e)) < 0) {
                        strv_free(l);
                        return -ENOMEM;
                }
        }
        *ret = l;
        return 0;
}

static int import_json(struct ctl *c, const char *path, const char *text, size_t size, struct import *im) {
        json_error_t err;
        json_t *root = json_loadb(text, size, JSON_REJECT_DUPLICATES, &err), *tasks, *t, *doc;
        size_t i;
        int r = 0;

        if (!root)
                return ctl_fail(c, EX_DATAERR, "%s:%d: %s", path, err.line, err.text);
        tasks = json_object_get(root, "tasks");
        if (!json_is_object(root) || !json_is_array(tasks)) {
                json_decref(root);
                return ctl_fail(c, EX_DATAERR, "%s: expected an object with a \"tasks\" array", path);
        }
        doc = json_object_get(root, "document");
        if (json_is_object(doc)) {
                const char *s;
                im->doc = (struct document) {};
                if ((s = json_str(doc, "number")))
                        im->doc.number = strdup(s);
                if ((s = json_str(doc, "subject")))
                        im->doc.subject = strdup(s);
                if ((s = json_str(doc, "issued_on")))
                        im->doc.issued_on = strdup(s);
                if ((s = json_str(doc, "issuer")))
                        im->doc.issuer = strdup(s);
                if ((s = json_str(doc, "signer")))
                        im->doc.signer = strdup(s);
        }
        json_array_foreach(tasks, i, t) {
                struct item *it = import_add(im);
                const char *s;
                if (!it) {
                        json_decref(root);
                        return ctl_fail(c, EX_DATAERR, "%s: more than %d tasks", path, IMPORT_MAX_TASKS);
                }
                it->line = (int) i + 1;
                if (!json_is_object(t)) {
                        json_decref(root);
                        return ctl_fail(c, EX_DATAERR, "%s: tasks[%zu]: not an object", path, i);
                }
                const char *strings[] = { "document", "ref", "title", "detail", "due", "recurrence", "status",
                                          "original_due" };
                for (size_t k = 0; k < ELEMENTSOF(strings); k++) {
                        json_t *v = json_object_get(t, strings[k]);
                        if (v && !json_is_string(v) && !json_is_null(v)) {
                                json_decref(root);
                                return ctl_fail(c, EX_DATAERR, "%s: tasks[%zu].%s: not a string", path, i,
                                                strings[k]);
                        }
                }
                if ((s = json_str(t, "document")))
                        it->document = strdup(s);
                if ((s = json_str(t, "ref")))
                        it->ref = strdup(s);
                if ((s = json_str(t, "title")))
                        it->title = strdup(s);
                if ((s = json_str(t, "detail")))
                        it->detail = strdup(s);
                if ((s = json_str(t, "due")))
                        it->due = strdup(s);
                if ((s = json_str(t, "recurrence")))
                        it->recurrence = strdup(s);
                if (json_object_get(t, "original_due")) {
                        it->original_due_given = true;
                        if ((s = json_str(t, "original_due")))
                                it->original_due = strdup(s);
                }
                json_t *rule = json_object_get(t, "due_rule");
                if (rule && !json_is_null(rule)) {
                        json_t *days = json_object_get(rule, "days"), *from = json_object_get(rule, "from");
                        if (!json_is_integer(days) || !json_is_string(from) || json_integer_value(days) < 1 ||
                            json_integer_value(days) > WORKDAYS_MAX) {
                                json_decref(root);
                                return ctl_fail(c, EX_DATAERR, "%s: tasks[%zu].due_rule: not {\"days\": 1 to %d, "
                                                "\"from\": \"YYYY-MM-DD\"}", path, i, WORKDAYS_MAX);
                        }
                        if (asprintf(&it->due_rule, "%lldwd:%s", (long long) json_integer_value(days),
                                     json_string_value(from)) < 0) {
                                it->due_rule = NULL;
                                json_decref(root);
                                return ctl_fail(c, EX_OSERR, "out of memory");
                        }
                }
                if ((s = json_str(t, "status")) && (int) (it->status = task_status_from_string(s)) < 0) {
                        json_decref(root);
                        return ctl_fail(c, EX_DATAERR, "%s: tasks[%zu].status: \"%s\" is not open, done or cancelled",
                                        path, i, s);
                }
                if ((r = json_ids(json_object_get(t, "lead"), &it->lead)) < 0 ||
                    (r = json_ids(json_object_get(t, "support"), &it->support)) < 0) {
                        json_decref(root);
                        return ctl_fail(c, r == -ENOMEM ? EX_OSERR : EX_DATAERR,
                                        "%s: tasks[%zu]: lead and support are lists of agency ids", path, i);
                }
        }
        json_decref(root);
        return 0;
}

/* Checks every item as `add` would, naming the item. */
static int validate(struct ctl *c, const char *path, struct import *im, const char *number_override) {
        for (size_t i = 0; i < im->n; i++) {
                struct item *it = &im->items[i];
                char where[96];
                char *norm;
                int r;

                if (it->line > 0)
                        snprintf(where, sizeof where, "%s:%d", path, it->line);
                else
                        snprintf(where, sizeof where, "%s: item %s", path, strempty(it->ref));
                if (number_override) {
                        free(it->document);
                        it->document = strdup(number_override);
                } else if (!it->document && im->doc.number)
                        it->document = strdup(im->doc.number);
                if (!it->title || !*it->title)
                        return ctl_fail(c, EX_DATAERR, "%s: title: missing", where);
                if ((r = ctl_check_text(c, where, it->title, 1000, false, &norm)) != 0)
                        return r;
                free(it->title), it->title = norm;
                if (it->detail) {
                        if ((r = ctl_check_text(c, where, it->detail, 64 * 1024, true, &norm)) != 0)
                                return r;
                        free(it->detail), it->detail = norm;
                }
                if (it->ref && strlen(it->ref) > 32)
                        return ctl_fail(c, EX_DATAERR, "%s: ref: longer than 32 bytes", where);
                for (char **l = it->lead; l && *l; l++)
                        if (!config_id_exists(c->config, *l))
                                return ctl_fail(c, EX_DATAERR, "%s: lead: no agency or group \"%s\" in %s", where,
                                                *l, c->config->path);
                for (char **l = it->support; l && *l; l++)
                        if (!config_id_exists(c->config, *l))
                                return ctl_fail(c, EX_DATAERR, "%s: support: no agency or group \"%s\" in %s",
                                                where, *l, c->config->path);
                if (it->due) {
                        struct due d;
                        char buf[17];
                        if (parse_due(it->due, c->now, &d) < 0)
                                return ctl_fail(c, EX_DATAERR, "%s: due: \"%s\" is not a date", where, it->due);
                        format_due(&d, buf);
                        free(it->due), it->due = strdup(buf);
                }
                if (it->original_due) {
                        struct due d;
                        char buf[17];
                        if (parse_due(it->original_due, c->now, &d) < 0)
                                return ctl_fail(c, EX_DATAERR, "%s: original_due: \"%s\" is not a date", where,
                                                it->original_due);
                        format_due(&d, buf);
                        free(it->original_due), it->original_due = strdup(buf);
                }
                if (it->due_rule) {
                        int32_t from;
                        char iso[11];
                        if (ctl_due_rule_parse(it->due_rule, &it->due_rule_days, &from) < 0)
                                return ctl_fail(c, EX_DATAERR, "%s: due_rule: \"%s\" is not a rule (use "
                                                "15wd:2025-03-12, 15 working days from that day)", where,
                                                it->due_rule);
                        if (!it->due)
                                return ctl_fail(c, EX_DATAERR, "%s: due_rule: \"%s\" without a due date", where,
                                                it->due_rule);
                        format_iso_date(from, iso);
                        free(it->due_rule_from);
                        if (!(it->due_rule_from = strdup(iso)))
                                return ctl_fail(c, EX_OSERR, "out of memory");
                }
                if (it->recurrence) {
                        struct recurrence rec;
                        if (recurrence_parse(it->recurrence, &rec) < 0)
                                return ctl_fail(c, EX_DATAERR, "%s: recurrence: \"%s\" is not a recurrence "
                                                "(use monthly:25)", where, it->recurrence);
                }
                for (size_t k = 0; k < i; k++)
                        if (it->ref && im->items[k].ref && streq(it->ref, im->items[k].ref) &&
                            streq_ptr(it->document, im->items[k].document))
                                return ctl_fail(c, EX_DATAERR, "%s: ref: \"%s\" appears twice", where, it->ref);
        }
        return 0;
}

/* A scan is told by its content; a name that promises one (.pdf, .png …)
 * over content that is not gets an error saying so, rather than being
 * read as text. */
static int sniff_file(struct ctl *c, const char *path, enum scan_format *ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        unsigned char head[SCAN_SNIFF_BYTES];
        enum scan_format by_name = scan_format_from_name(path);
        struct stat st;
        ssize_t n;

        *ret = SCAN_NONE;
        if (fd < 0)
                return ctl_fail(c, EX_NOINPUT, "%s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return ctl_fail(c, EX_IOERR, "%s: %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return 0;   /* read_file() says what it is, or reads the pipe */
        n = pread(fd, head, sizeof head, 0);
        if (n < 0)
                return ctl_fail(c, EX_IOERR, "%s: %s", path, strerror(errno));
        *ret = scan_format_sniff(head, (size_t) n);
        if (*ret != SCAN_NONE || by_name == SCAN_NONE)
                return 0;
        if (n == 0)
                return ctl_fail(c, EX_DATAERR, "%s: an empty file, not a %s", path, scan_format_to_string(by_name));
        return ctl_fail(c, EX_DATAERR, "%s: not a %s file (its content is neither a PDF nor a PNG, JPEG or TIFF "
                        "image)", path, scan_format_to_string(by_name));
}

/* --ocr-text: the recognised text, for a person to check or correct and
 * import instead. */
static int write_ocr_text(struct ctl *c, const char *file, const char *text, size_t size) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (asprintf(&tmp, "%s.XXXXXX", file) < 0)
                return ctl_fail(c, EX_OSERR, "out of memory");
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return ctl_fail(c, EX_CANTCREAT, "--ocr-text: %s: %s", file, strerror(errno));
        if ((r = write_all(fd, text, size)) < 0) {
                unlink(tmp);
                return ctl_fail(c, EX_IOERR, "--ocr-text: %s: %s", file, strerror(-r));
        }
        mode_t mask = umask(0);
        umask(mask);
        if (fchmod(fd, 0644 & ~mask) < 0 || fsync(fd) < 0 || rename(tmp, file) < 0) {
                int e = errno;
                unlink(tmp);
                return ctl_fail(c, EX_CANTCREAT, "--ocr-text: %s: %s", file, strerror(e));
        }
        return 0;
}

static enum format guess_format(const char *path) {
        const char *dot = strrchr(path, '.');
        if (dot && strcasecmp(dot, ".csv") == 0)
                return FORMAT_CSV;
        if (dot && strcasecmp(dot, ".json") == 0)
                return FORMAT_JSON;
        return FORMAT_DIRECTIVE;
}

static int parse_limit(struct ctl *c, const char *option, const char *s, uint64_t max, uint64_t *ret) {
        if (parse_u64_range(s, 1, max, ret) < 0)
                return ctl_fail(c, EX_USAGE, "%s: \"%s\" is not a number from 1 to %" PRIu64, option, s, max);
        return 0;
}

static int parse_format(struct ctl *c, const char *s, enum format *ret) {
        if (streq(s, "directive"))
                *ret = FORMAT_DIRECTIVE;
        else if (streq(s, "csv"))
                *ret = FORMAT_CSV;
        else if (streq(s, "json"))
                *ret = FORMAT_JSON;
        else
                return ctl_fail(c, EX_USAGE, "--format: \"%s\" is not directive, csv or json", s);
        return 0;
}

int cmd_import(struct ctl *c, int argc, char **argv) {
        enum { ARG_FORMAT = CTL_ARG_JSON + 1, ARG_DRY_RUN, ARG_NUMBER, ARG_DEFAULT_LEAD, ARG_PARTIAL, ARG_OCR_TEXT,
               ARG_OCR_LANGUAGE, ARG_MAX_PAGES, ARG_MAX_PIXELS, ARG_NO_NOTIFY };
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "format", required_argument, NULL, ARG_FORMAT },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "document-number", required_argument, NULL, ARG_NUMBER },
                { "default-lead", required_argument, NULL, ARG_DEFAULT_LEAD },
                { "partial", no_argument, NULL, ARG_PARTIAL },
                { "ocr-text", required_argument, NULL, ARG_OCR_TEXT },
                { "ocr-language", required_argument, NULL, ARG_OCR_LANGUAGE },
                { "max-pages", required_argument, NULL, ARG_MAX_PAGES },
                { "max-pixels", required_argument, NULL, ARG_MAX_PIXELS },
                { "no-notify", no_argument, NULL, ARG_NO_NOTIFY },
                {},
        };
        struct scan_options scan = {
                .language = "vie",
                .max_pages = SCAN_DEFAULT_MAX_PAGES,
                .max_pixels = SCAN_DEFAULT_MAX_PIXELS,
        };
        enum scan_format scan_format = SCAN_NONE;
        const char *ocr_text = NULL;
        uint64_t v;
        enum format format = FORMAT_GUESS;
        const char *number = NULL, *default_lead = NULL;
        bool dry_run = false, notify = true;
        struct review rv = {};
        _cleanup_free_ char *text = NULL;
        struct import im = {};
        size_t size = 0;
        int opt, r;

        while ((opt = getopt_long(argc, argv, ":c:h", options, NULL)) >= 0) {
                int k = ctl_common_option(c, opt, argv);
                if (k >= 1000)
                        return k - 1000;
                switch (opt) {
                case ARG_DRY_RUN: dry_run = true; break;
                case ARG_NO_NOTIFY: notify = false; break;
                case ARG_NUMBER: number = optarg; break;
                case ARG_DEFAULT_LEAD: default_lead = optarg; break;
                case ARG_PARTIAL: rv.partial = true; break;
                case ARG_OCR_TEXT: ocr_text = optarg; break;
                case ARG_OCR_LANGUAGE:
                        if (!*optarg || strspn(optarg, "abcdefghijklmnopqrstuvwxyz_+") != strlen(optarg))
                                return ctl_fail(c, EX_USAGE, "--ocr-language: \"%s\" is not a tesseract model name "
                                                "(vie, eng, vie+eng)", optarg);
                        scan.language = optarg;
                        break;
                case ARG_MAX_PAGES:
                        if ((r = parse_limit(c, "--max-pages", optarg, 100000, &v)) != 0)
                                return r;
                        scan.max_pages = (unsigned) v;
                        break;
                case ARG_MAX_PIXELS:
                        if ((r = parse_limit(c, "--max-pixels", optarg, UINT64_C(1) << 32, &v)) != 0)
                                return r;
                        scan.max_pixels = v;
                        break;
                case ARG_FORMAT:
                        if ((r = parse_format(c, optarg, &format)) != 0)
                                return r;
                        break;
                }
        }
        if (optind != argc - 1)
                return ctl_fail(c, EX_USAGE, optind >= argc ? "missing FILE (a directive's text, PDF or image, .csv or "
                                                              ".json; - for standard input)"
                                                            : "unexpected argument \"%s\"",
                                argv[MIN(optind + 1, argc - 1)]);
        const char *path = argv[optind];
        if ((r = ctl_load_config(c)) != 0)
                return r;
        if (default_lead && !config_id_exists(c->config, default_lead))
                return ctl_fail(c, EX_USAGE, "--default-lead: no agency or group \"%s\" in %s (see deadlinectl "
                                "agencies)", default_lead, c->config->path);
        if (!streq(path, "-") && (format == FORMAT_GUESS || format == FORMAT_DIRECTIVE) &&
            (r = sniff_file(c, path, &scan_format)) != 0)
                return r;
        if (scan_format == SCAN_NONE) {
                if ((r = read_file(c, path, &text, &size)) != 0)
                        return r;
                /* Standard input is known by its content only. */
                if (streq(path, "-") && (format == FORMAT_GUESS || format == FORMAT_DIRECTIVE))
                        scan_format = scan_format_sniff(text, size);
        }
        if (scan_format != SCAN_NONE) {
                _cleanup_free_ char *input = TAKE_PTR(text);
                if ((r = scan_read(c, path, scan_format, &scan, input, input ? size : 0, &text, &size)) != 0)
                        return r;
                if (ocr_text && (r = write_ocr_text(c, ocr_text, text, size)) != 0)
                        return r;
                format = FORMAT_DIRECTIVE;
        } else if (ocr_text)
                return ctl_fail(c, EX_USAGE, "--ocr-text: %s is not a scan (a PDF or an image); its text is "
                                "imported as it is", path);
        if (format == FORMAT_GUESS)
                format = guess_format(path);

        r = format == FORMAT_DIRECTIVE ? import_directive(c, path, text, size, &im)
            : format == FORMAT_CSV     ? import_csv(c, path, text, size, &im)
                                       : import_json(c, path, text, size, &im);
        if (r == 0 && number) {
                free(im.doc.number);
                im.doc.number = strdup(number);
        }
        if (r == 0)
                r = validate(c, path, &im, number);
        if (r == 0 && im.n == 0)
                r = ctl_fail(c, EX_DATAERR, "%s: no tasks found%s", path,
                             format == FORMAT_DIRECTIVE ? " (numbered items \"1.\", \"2.\" … with a deadline)" : "");

        /* Every task needs someone to remind: an item without a lead takes
         * --default-lead, or keeps the import from applying it. */
        for (size_t i = 0; r == 0 && i < im.n; i++) {
                struct item *it = &im.items[i];
                if (!import_item_needs_lead(it))
                        continue;
                if (default_lead) {
                        strv_free(it->lead);
                        it->lead = NULL;
                        if (strv_push(&it->lead, default_lead) < 0)
                                r = ctl_fail(c, EX_OSERR, "out of memory");
                        it->flags = (it->flags & ~(unsigned) DIRECTIVE_TASK_NO_LEAD) | IMPORT_DEFAULT_LEAD;
                        /* The lead is not also a cooperating agency. */
                        for (char **s = it->support; s && *s;)
                                if (streq(*s, default_lead)) {
                                        free(*s);
                                        memmove(s, s + 1, (strv_length(s + 1) + 1) * sizeof *s);
                                } else
                                        s++;
                } else
                        rv.n_need_lead++;
        }
        rv.no_number = format == FORMAT_DIRECTIVE && !im.doc.number;

        if (r == 0 && dry_run) {
                /* The whole review, what a re-import would keep of people's
                 * work, then the refusal the import would give. */
                r = import_preview_conflicts(c, &im);
                if (r == 0)
                        r = import_print_review(c, &im, &rv);
                if (r == 0 && rv.no_number)
                        r = import_fail_no_number(c, path);
                else if (r == 0 && rv.n_need_lead > 0)
                        r = import_fail_need_lead(c, path, &im, &rv);
        } else if (r == 0) {
                struct import sub = {};
                size_t added, updated;

                if (rv.no_number)
                        r = import_fail_no_number(c, path);
                else if (rv.n_need_lead > 0 && (!rv.partial || rv.n_need_lead == im.n))
                        r = import_fail_need_lead(c, path, &im, &rv);
                else if (import_with_lead(&im, &sub) < 0)
                        r = ctl_fail(c, EX_OSERR, "out of memory");
                for (size_t i = 0; r == 0 && i < im.n; i++)
                        for (char **u = im.items[i].unmatched; u && *u; u++)
                                fprintf(stderr, "deadlinectl: import: item %s: unknown agency %s, left out\n",
                                        strempty(im.items[i].ref), *u);
                for (char **u = im.addressees_unmatched; r == 0 && u && *u; u++)
                        fprintf(stderr, "deadlinectl: import: %s: addressee \"%s\" matches no agency or group, "
                                "left out\n", path, *u);
                if (r == 0)
                        r = ctl_open_store(c);
                sub.notice_at = notify ? c->now : 0;
                if (r == 0)
                        r = import_apply(c, &sub, false, &added, &updated);
                if (r == 0 && c->json)
                        r = ctl_print_json(c, json_pack("{s:s, s:s?, s:I, s:I, s:I}", "file", path, "document",
                                                        im.doc.number, "added", (json_int_t) added, "updated",
                                                        (json_int_t) updated, "left_out",
                                                        (json_int_t) rv.n_need_lead));
                else if (r == 0) {
                        printf("Imported %s: %zu tasks added, %zu updated", im.doc.number ? im.doc.number : path,
                               added, updated);
                        if (rv.n_need_lead > 0)
                                printf("; %zu left out (no lead)", rv.n_need_lead);
                        printf(".\n");
                        for (size_t i = 0; i < im.n; i++)
                                if (import_item_needs_lead(&im.items[i])) {
                                        char name[96];
                                        import_item_name(&im.items[i], name, sizeof name);
                                        fprintf(stderr, "deadlinectl: import: %s: %s: no lead agency, left out\n",
                                                path, name);
                                }
                }
                reimport_conflicts_clear(&sub.conflicts);
                free(sub.items);
        }
        import_done(&im);
        return r;
}
