/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl import and export: a directive's text (clean or scanned),
 * CSV or JSON in; CSV or JSON out, in the form import reads back.
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
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "ctl-reimport.h"
#include "ctl.h"
#include "directive.h"
#include "recurrence.h"
#include "strbuf.h"
#include "table.h"
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

/* One task to import, whatever the input format. */
struct item {
        char *document;
        char *ref;
        char *title;
        char *detail;
        char *due;
        char *recurrence;
        char **lead;
        char **support;
        enum task_status status;
        unsigned flags;                 /* DIRECTIVE_TASK_* */
        char **unmatched;               /* "text (did you mean: a, b)" */
        int line;                       /* where it came from, for errors */
        unsigned page, page_line;       /* a directive's item: where it starts; a CSV row: 0 and its line */
};

/* Not a DIRECTIVE_TASK_* bit: --default-lead gave the item its lead. */
#define IMPORT_DEFAULT_LEAD (1u << 16)

struct import {
        struct document doc;            /* the directive's document, if any */
        char **addressees;              /* a directive's "Kính gửi": the ids matched */
        char **addressees_unmatched;    /* and the lines that matched nobody */
        struct item *items;
        size_t n;
        struct reimport_conflicts conflicts;
};

static void item_done(struct item *it) {
        free(it->document);
        free(it->ref);
        free(it->title);
        free(it->detail);
        free(it->due);
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
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        struct stat st;

        if (fd < 0)
                return ctl_fail(c, errno == ENOENT ? EX_NOINPUT : EX_NOINPUT, "%s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return ctl_fail(c, EX_IOERR, "%s: %s", path, strerror(errno));
        if (S_ISDIR(st.st_mode))
                return ctl_fail(c, EX_NOINPUT, "%s: is a directory", path);
        if (S_ISREG(st.st_mode) && st.st_size > IMPORT_MAX_INPUT)
                return ctl_fail(c, EX_DATAERR, "%s: %lld bytes is more than an import takes (%d MiB)", path,
                                (long long) st.st_size, IMPORT_MAX_INPUT / 1024 / 1024);
        buf = malloc(IMPORT_MAX_INPUT + 1);
        if (!buf)
                return ctl_fail(c, EX_OSERR, "out of memory");
        for (;;) {
                ssize_t n = read(fd, buf + size, IMPORT_MAX_INPUT + 1 - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return ctl_fail(c, EX_IOERR, "%s: %s", path, strerror(errno));
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > IMPORT_MAX_INPUT)
                        return ctl_fail(c, EX_DATAERR, "%s: more than an import takes (%d MiB)", path,
                                        IMPORT_MAX_INPUT / 1024 / 1024);
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
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
                it->due = t->due ? strdup(t->due) : NULL;
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
                                           "lead", "support", "recurrence", "status", NULL };

static int import_csv(struct ctl *c, const char *path, const char *text, size_t size, struct import *im) {
        struct csv in;
        int map[16], n_cols, line, r;
        _cleanup_strv_free_ char **head = NULL;

        csv_init(&in, text, size);
        n_cols = csv_record(&in, &head, &line);
        if (n_cols == -ENOMEM)
                return ctl_fail(c, EX_OSERR, "out of memory");
        if (n_cols <= 0)
                return ctl_fail(c, EX_DATAERR, "%s:1: no header line (columns: document, ref, title, detail, due, "
                                "lead, support, recurrence, status)", path);
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
                const char *strings[] = { "document", "ref", "title", "detail", "due", "recurrence", "status" };
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

static int find_document(struct ctl *c, const char *number, int64_t *ret) {
        struct document d = {};
        int r = store_document_get(c->store, number, &d);

        if (r == -ENOENT) {
                d = (struct document) { .number = (char *) number };
                r = store_document_upsert(c->store, &d);
                *ret = d.id;
                return r;
        }
        if (r >= 0)
                *ret = d.id;
        document_done(&d);
        return r;
}

/* Adds the item's task, or updates it as reimport_task() decides. */
static int apply_item(struct ctl *c, struct import *im, struct item *it, int64_t document_id,
                      bool *ret_updated) {
        _cleanup_(task_done) struct task old = {};
        struct task t = {};
        int64_t id = 0;
        int r;

        *ret_updated = false;
        if (document_id && it->ref) {
                r = store_task_find_ref(c->store, document_id, it->ref, &id);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        if (id > 0) {
                r = store_task_get(c->store, id, &old);
                if (r < 0)
                        return r;
        }
        size_t nl = strv_length(it->lead), ns = strv_length(it->support);
        _cleanup_free_ struct task_agency *ag = calloc(nl + ns + 1, sizeof *ag);
        if (!ag)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < nl; i++)
                ag[n++] = (struct task_agency) { it->lead[i], ROLE_LEAD };
        for (size_t i = 0; i < ns; i++)
                if (!strv_contains(it->lead, it->support[i]))
                        ag[n++] = (struct task_agency) { it->support[i], ROLE_SUPPORT };

        struct due d;
        t = (struct task) {
                .id = id,
                .document_id = document_id,
                .ref = it->ref,
                .title = it->title,
                .detail = it->detail,
                .due = it->due,
                .due_at = it->due && parse_due(it->due, 0, &d) >= 0 ? due_instant(&d) : NO_TIME,
                .status = it->status,
                .recurrence = it->recurrence,
                .agencies = ag,
                .n_agencies = n,
        };
        _cleanup_free_ char *next_due = NULL, *note = NULL;
        if (!t.due && t.recurrence && id > 0 && old.due && streq_ptr(old.recurrence, t.recurrence)) {
                /* The task is at some occurrence of the same recurrence
                 * (done for a period, or rolled on): the document says
                 * nothing about which. */
                t.due = old.due;
                t.due_at = old.due_at;
        } else if (!t.due && t.recurrence) {
                /* A recurring task starts at its next occurrence from today. */
                struct recurrence rec;
                char buf[17];
                (void) recurrence_parse(t.recurrence, &rec);
                struct due nd = recurrence_first(&rec, c->now);
                format_due(&nd, buf);
                t.due = next_due = strdup(buf);
                t.due_at = due_instant(&nd);
        }
        if (asprintf(&note, "import%s%s", it->document ? " " : "", strempty(it->document)) < 0) {
                note = NULL;
                return -ENOMEM;
        }
        if (id > 0) {
                *ret_updated = true;
                return reimport_task(c, &old, &t, note, &im->conflicts);
        }
        r = store_task_add(c->store, &t, c->now);
        if (r >= 0)
                r = store_task_changes_record(c->store, NULL, &t, CHANGE_IMPORT, note, c->now);
        return r < 0 ? r : 0;
}

/* Applies the import in one transaction, and commits it unless `preview`
 * (a dry run: the conflicts are all it wants). Conflicts are printed as
 * they are kept, once the import is in. */
static int apply(struct ctl *c, struct import *im, bool preview, size_t *ret_added, size_t *ret_updated) {
        int64_t doc_id = 0;
        int r;

        reimport_conflicts_clear(&im->conflicts);
        r = store_begin(c->store);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot start a transaction");
        if (im->doc.number) {
                /* The directive's own description of itself wins over what
                 * an earlier import recorded. */
                r = store_document_upsert(c->store, &im->doc);
                doc_id = im->doc.id;
        }
        *ret_added = *ret_updated = 0;
        for (size_t i = 0; r >= 0 && i < im->n; i++) {
                struct item *it = &im->items[i];
                int64_t id = 0;
                bool updated;
                if (it->document && !(im->doc.number && streq(it->document, im->doc.number)))
                        r = find_document(c, it->document, &id);
                else
                        id = it->document ? doc_id : 0;
                if (r >= 0)
                        r = apply_item(c, im, it, id, &updated);
                if (r >= 0)
                        (*(updated ? ret_updated : ret_added))++;
        }
        if (r >= 0 && preview) {
                (void) store_rollback(c->store);
                return 0;
        }
        if (r >= 0)
                r = store_commit(c->store);
        if (r < 0) {
                (void) store_rollback(c->store);
                reimport_conflicts_clear(&im->conflicts);
                return ctl_store_fail(c, r, preview ? "cannot compare the import with the database"
                                                    : "import not applied");
        }
        for (size_t i = 0; i < im->conflicts.n; i++)
                fprintf(stderr, "deadlinectl: import: %s\n", im->conflicts.v[i].message);
        return 0;
}

static const char *item_flag_to_string(unsigned bit) {
        return bit == IMPORT_DEFAULT_LEAD ? "default-lead" : directive_task_flag_to_string(bit);
}

static bool item_needs_lead(const struct item *it) {
        return !it->lead || !*it->lead;
}

/* The flags the review shows: the parser's, and what any item can lack. */
static unsigned item_flags(const struct item *it) {
        return it->flags | (item_needs_lead(it) ? DIRECTIVE_TASK_NO_LEAD : 0) |
               (!it->due && !it->recurrence ? DIRECTIVE_TASK_NO_DEADLINE : 0);
}

/* The items that have a lead, for --partial and the dry run's preview;
 * they share the import's strings, so only the array is freed. */
static int import_with_lead(const struct import *im, struct import *ret) {
        *ret = (struct import) { .doc = im->doc };
        ret->items = calloc(im->n + 1, sizeof *ret->items);
        if (!ret->items)
                return -ENOMEM;
        for (size_t i = 0; i < im->n; i++)
                if (!item_needs_lead(&im->items[i]))
                        ret->items[ret->n++] = im->items[i];
        return 0;
}

/* For a dry run: what the import would keep of people's work, found by
 * applying it and rolling it back. Nothing to compare with when there is
 * no database yet, and none is made; one this user cannot write is left
 * alone, as the dry run always did. */
static int preview_conflicts(struct ctl *c, struct import *im) {
        struct import sub;
        size_t added, updated;
        int r;

        if (access(c->config->database, F_OK) < 0)
                return 0;
        if (access(c->config->database, R_OK | W_OK) < 0) {
                fprintf(stderr, "deadlinectl: import: %s: %s; what a re-import would keep of people's changes "
                        "is not shown\n", c->config->database, strerror(errno));
                return 0;
        }
        /* Only the items the import would apply. */
        if (import_with_lead(im, &sub) < 0)
                return ctl_fail(c, EX_OSERR, "out of memory");
        r = ctl_open_store(c);
        if (r == 0)
                r = apply(c, &sub, true, &added, &updated);
        reimport_conflicts_clear(&im->conflicts);
        im->conflicts = sub.conflicts;
        free(sub.items);
        return r;
}

static void flags_text(unsigned flags, char *buf, size_t size) {
        size_t len = 0;
        buf[0] = 0;
        for (unsigned bit = 1; bit && len < size; bit <<= 1)
                if ((flags & bit) && item_flag_to_string(bit))
                        len += (size_t) snprintf(buf + len, size - len, "%s%s", len ? "," : "",
                                                 item_flag_to_string(bit));
}

/* Where an item came from: "p1:12" (page and line of a directive), "line
 * 12" (of a CSV file), or "" when the input has no lines to speak of. */
static void item_at(const struct item *it, char *buf, size_t size) {
        if (it->page > 0)
                snprintf(buf, size, "p%u:%u", it->page, it->page_line);
        else if (it->page_line > 0)
                snprintf(buf, size, "line %u", it->page_line);
        else
                buf[0] = 0;
}

/* "5 (p2:3)", "line 12" for a CSV row without a reference. */
static void item_label(const struct item *it, char *buf, size_t size) {
        char at[32];
        item_at(it, at, sizeof at);
        if (!it->ref)
                snprintf(buf, size, "%s", *at ? at : "?");
        else
                snprintf(buf, size, "%s%s%s%s", it->ref, *at ? " (" : "", at, *at ? ")" : "");
}

/* "item 5 (p2:3)". */
static void item_name(const struct item *it, char *buf, size_t size) {
        char label[80];
        item_label(it, label, sizeof label);
        snprintf(buf, size, "item %s", label);
}

/* What keeps an import from applying everything. */
struct review {
        bool no_number;         /* a directive without "Số: …" nor --document-number */
        size_t n_need_lead;     /* items with no lead */
        bool partial;           /* --partial: those would be left out */
};

static bool review_complete(const struct review *rv) {
        return !rv->no_number && rv->n_need_lead == 0;
}

#define NO_NUMBER_TEXT "no document number found (\"Số: …\"); give --document-number"

static int fail_no_number(struct ctl *c, const char *path) {
        return ctl_fail(c, EX_DATAERR, "%s: " NO_NUMBER_TEXT, path);
}

/* One line naming every item without a lead and where it is. */
static int fail_need_lead(struct ctl *c, const char *path, const struct import *im, const struct review *rv) {
        struct strbuf b = STRBUF_INIT(1024);
        _cleanup_free_ char *list = NULL;
        const struct item *first = NULL;
        size_t shown = 0;

        for (size_t i = 0; i < im->n; i++) {
                const struct item *it = &im->items[i];
                char label[80];
                if (!item_needs_lead(it))
                        continue;
                if (!first)
                        first = it;
                if (shown++ == 20) {
                        strbuf_puts(&b, ", …");
                        break;
                }
                item_label(it, label, sizeof label);
                strbuf_printf(&b, "%s%s", shown > 1 ? ", " : "", label);
        }
        if (strbuf_steal(&b, &list, NULL) < 0)
                return ctl_fail(c, EX_OSERR, "out of memory");
        if (rv->partial && rv->n_need_lead == im->n)
                return ctl_fail(c, EX_DATAERR, "%s: %s %s: no lead agency recognised, and nothing else to import; "
                                "give --default-lead ID", path, rv->n_need_lead == 1 ? "item" : "items", list);
        return ctl_fail(c, EX_DATAERR, "%s: %s %s: no lead agency recognised%s%s%s; give --default-lead ID, add an "
                        "alias to the configuration or fix the text (--partial imports the rest)", path,
                        rv->n_need_lead == 1 ? "item" : "items", list,
                        rv->n_need_lead == 1 && first->unmatched ? ": " : "",
                        rv->n_need_lead == 1 && first->unmatched ? first->unmatched[0] : "",
                        first->page > 0 && (!im->addressees || !*im->addressees)
                                ? (rv->n_need_lead == 1 ? " (and the document has no addressees to take it)"
                                                        : " (and the document has no addressees to take them)")
                                : "");
}

static int print_dry_run(struct ctl *c, const struct import *im, const struct review *rv) {
        if (c->json) {
                json_t *tasks = json_array(), *problems = json_array();
                for (size_t i = 0; i < im->n; i++) {
                        const struct item *it = &im->items[i];
                        json_t *flags = json_array();
                        for (unsigned bit = 1; bit; bit <<= 1)
                                if ((item_flags(it) & bit) && item_flag_to_string(bit))
                                        json_array_append_new(flags, json_string(item_flag_to_string(bit)));
                        json_array_append_new(tasks, json_pack("{s:s?, s:s?, s:s, s:s?, s:s?, s:o, s:o, s:s?, s:o, s:o, "
                                                               "s:o, s:o}",
                                "document", it->document, "ref", it->ref, "title", it->title, "detail", it->detail,
                                "due", it->due, "lead", json_strv(it->lead), "support", json_strv(it->support),
                                "recurrence", it->recurrence, "flags", flags, "unmatched", json_strv(it->unmatched),
                                "page", it->page > 0 ? json_integer(it->page) : json_null(),
                                "line", it->page_line > 0 ? json_integer(it->page_line) : json_null()));
                        if (item_needs_lead(it)) {
                                char name[96], *p = NULL;
                                item_name(it, name, sizeof name);
                                if (asprintf(&p, "%s: no lead agency%s", name, rv->partial ? ", left out" : "") >= 0)
                                        json_array_append_new(problems, json_string(p));
                                free(p);
                        }
                }
                if (rv->no_number)
                        json_array_insert_new(problems, 0, json_string(NO_NUMBER_TEXT));
                json_t *j = json_pack("{s:{s:s?, s:s?, s:s?, s:s?, s:s?, s:o, s:o}, s:o, s:b, s:o}",
                                      "document", "number", im->doc.number, "issued_on", im->doc.issued_on,
                                      "subject", im->doc.subject, "issuer", im->doc.issuer, "signer",
                                      im->doc.signer, "addressees", json_strv(im->addressees),
                                      "addressees_unmatched", json_strv(im->addressees_unmatched), "tasks", tasks,
                                      "complete", review_complete(rv), "problems", problems);
                if (j)
                        json_object_set_new(j, "conflicts", reimport_conflicts_json(&im->conflicts));
                return ctl_print_json(c, j);
        }
        if (im->doc.number || rv->no_number)
                printf("Document %s%s%s%s%s\n", im->doc.number ? im->doc.number : "without a number",
                       im->doc.issued_on ? " of " : "", strempty(im->doc.issued_on), im->doc.subject ? ": " : "",
                       strempty(im->doc.subject));
        if (rv->no_number)
                printf("No document number found (\"Số: …\"): give --document-number NUMBER.\n");
        if (im->doc.signer)
                printf("Signed by %s\n", im->doc.signer);
        if (im->addressees && *im->addressees) {
                printf("To:");
                for (char **a = im->addressees; *a; a++)
                        printf("%s %s", a == im->addressees ? "" : ",", *a);
                printf("\n");
        }
        for (char **u = im->addressees_unmatched; u && *u; u++)
                printf("Addressee \"%s\" matches no agency or group\n", *u);
        _cleanup_(table_freep) struct table *t = NULL;
        if (table_new(7, &t) < 0)
                return EX_OSERR;
        table_set_max_width(t, 6, 60);
        const char *head[] = { "REF", "AT", "DUE", "LEAD", "SUPPORT", "FLAGS", "TITLE" };
        for (size_t i = 0; i < ELEMENTSOF(head); i++)
                table_add(t, head[i]);
        for (size_t i = 0; i < im->n; i++) {
                const struct item *it = &im->items[i];
                char lead[256] = "", support[256] = "", flags[160], due[40], at[32];
                size_t n = 0;
                for (char **l = it->lead; l && *l && n < sizeof lead; l++)
                        n += (size_t) snprintf(lead + n, sizeof lead - n, "%s%s", n ? "," : "", *l);
                n = 0;
                for (char **l = it->support; l && *l && n < sizeof support; l++)
                        n += (size_t) snprintf(support + n, sizeof support - n, "%s%s", n ? "," : "", *l);
                flags_text(item_flags(it), flags, sizeof flags);
                item_at(it, at, sizeof at);
                if (it->recurrence)
                        snprintf(due, sizeof due, "%s", it->recurrence);
                else
                        snprintf(due, sizeof due, "%s", it->due ? it->due : "-");
                table_add(t, it->ref), table_add(t, *at ? at : NULL), table_add(t, due);
                table_add(t, *lead ? lead : NULL), table_add(t, *support ? support : NULL);
                table_add(t, *flags ? flags : NULL), table_add(t, it->title);
        }
        table_print(t, stdout);
        for (size_t i = 0; i < im->n; i++)
                for (char **u = im->items[i].unmatched; u && *u; u++)
                        printf("item %s: unknown agency %s\n", strempty(im->items[i].ref), *u);
        for (size_t i = 0; i < im->n; i++)
                if (item_needs_lead(&im->items[i])) {
                        char name[96];
                        item_name(&im->items[i], name, sizeof name);
                        printf("%s: no lead agency: %s\n", name,
                               rv->partial ? "left out (--partial)" : "give --default-lead ID, or --partial to leave it out");
                }
        for (size_t i = 0; i < im->conflicts.n; i++)
                printf("%s\n", im->conflicts.v[i].message);
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
        enum { ARG_FORMAT = CTL_ARG_JSON + 1, ARG_DRY_RUN, ARG_NUMBER, ARG_DEFAULT_LEAD, ARG_PARTIAL };
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "format", required_argument, NULL, ARG_FORMAT },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "document-number", required_argument, NULL, ARG_NUMBER },
                { "default-lead", required_argument, NULL, ARG_DEFAULT_LEAD },
                { "partial", no_argument, NULL, ARG_PARTIAL },
                {},
        };
        enum format format = FORMAT_GUESS;
        const char *number = NULL, *default_lead = NULL;
        bool dry_run = false;
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
                case ARG_NUMBER: number = optarg; break;
                case ARG_DEFAULT_LEAD: default_lead = optarg; break;
                case ARG_PARTIAL: rv.partial = true; break;
                case ARG_FORMAT:
                        if ((r = parse_format(c, optarg, &format)) != 0)
                                return r;
                        break;
                }
        }
        if (optind != argc - 1)
                return ctl_fail(c, EX_USAGE, optind >= argc ? "missing FILE (a directive's text, .csv or .json; - for "
                                                              "standard input)"
                                                            : "unexpected argument \"%s\"",
                                argv[MIN(optind + 1, argc - 1)]);
        const char *path = argv[optind];
        if (format == FORMAT_GUESS)
                format = guess_format(path);
        if ((r = ctl_load_config(c)) != 0)
                return r;
        if (default_lead && !config_id_exists(c->config, default_lead))
                return ctl_fail(c, EX_USAGE, "--default-lead: no agency or group \"%s\" in %s (see deadlinectl "
                                "agencies)", default_lead, c->config->path);
        if ((r = read_file(c, path, &text, &size)) != 0)
                return r;

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
                if (!item_needs_lead(it))
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
                r = preview_conflicts(c, &im);
                if (r == 0)
                        r = print_dry_run(c, &im, &rv);
                if (r == 0 && rv.no_number)
                        r = fail_no_number(c, path);
                else if (r == 0 && rv.n_need_lead > 0)
                        r = fail_need_lead(c, path, &im, &rv);
        } else if (r == 0) {
                struct import sub = {};
                size_t added, updated;

                if (rv.no_number)
                        r = fail_no_number(c, path);
                else if (rv.n_need_lead > 0 && (!rv.partial || rv.n_need_lead == im.n))
                        r = fail_need_lead(c, path, &im, &rv);
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
                if (r == 0)
                        r = apply(c, &sub, false, &added, &updated);
                if (r == 0) {
                        printf("Imported %s: %zu tasks added, %zu updated", im.doc.number ? im.doc.number : path,
                               added, updated);
                        if (rv.n_need_lead > 0)
                                printf("; %zu left out (no lead)", rv.n_need_lead);
                        printf(".\n");
                        for (size_t i = 0; i < im.n; i++)
                                if (item_needs_lead(&im.items[i])) {
                                        char name[96];
                                        item_name(&im.items[i], name, sizeof name);
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
