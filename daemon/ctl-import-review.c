/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl import's review (ctl-import.h): what a dry run shows, and
 * the one-line refusals when the import cannot apply everything. */

#include <stdio.h>
#include <string.h>

#include "ctl-import.h"
#include "directive.h"
#include "strbuf.h"
#include "table.h"

static const char *item_flag_to_string(unsigned bit) {
        return bit == IMPORT_DEFAULT_LEAD ? "default-lead" : directive_task_flag_to_string(bit);
}

bool import_item_needs_lead(const struct item *it) {
        return !it->lead || !*it->lead;
}

/* The flags the review shows: the parser's, and what any item can lack. */
static unsigned item_flags(const struct item *it) {
        return it->flags | (import_item_needs_lead(it) ? DIRECTIVE_TASK_NO_LEAD : 0) |
               (!it->due && !it->recurrence ? DIRECTIVE_TASK_NO_DEADLINE : 0);
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
void import_item_name(const struct item *it, char *buf, size_t size) {
        char label[80];
        item_label(it, label, sizeof label);
        snprintf(buf, size, "item %s", label);
}

/* What keeps an import from applying everything. */

bool import_review_complete(const struct review *rv) {
        return !rv->no_number && rv->n_need_lead == 0;
}

#define NO_NUMBER_TEXT "no document number found (\"Số: …\"); give --document-number"

int import_fail_no_number(struct ctl *c, const char *path) {
        return ctl_fail(c, EX_DATAERR, "%s: " NO_NUMBER_TEXT, path);
}

/* One line naming every item without a lead and where it is. */
int import_fail_need_lead(struct ctl *c, const char *path, const struct import *im, const struct review *rv) {
        struct strbuf b = STRBUF_INIT(1024);
        _cleanup_free_ char *list = NULL;
        const struct item *first = NULL;
        size_t shown = 0;

        for (size_t i = 0; i < im->n; i++) {
                const struct item *it = &im->items[i];
                char label[80];
                if (!import_item_needs_lead(it))
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

int import_print_review(struct ctl *c, const struct import *im, const struct review *rv) {
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
                        if (import_item_needs_lead(it)) {
                                char name[96], *p = NULL;
                                import_item_name(it, name, sizeof name);
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
                                      "complete", import_review_complete(rv), "problems", problems);
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
                if (import_item_needs_lead(&im->items[i])) {
                        char name[96];
                        import_item_name(&im->items[i], name, sizeof name);
                        printf("%s: no lead agency: %s\n", name,
                               rv->partial ? "left out (--partial)" : "give --default-lead ID, or --partial to leave it out");
                }
        for (size_t i = 0; i < im->conflicts.n; i++)
                printf("%s\n", im->conflicts.v[i].message);
        return 0;
}
