/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What an import does to a task it finds already there: the document
 * changes only what nobody changed since. Each field takes the document's
 * value when the last change to it came from an import; when a person
 * changed it since (done, cancelled, a deadline extended, agencies or a
 * title edited), or it predates the change log and nobody knows who set
 * it, the task keeps its value and the difference is a conflict, reported
 * in one line. A title or text that is the task's own up to OCR damage is
 * no change at all, so a scanned copy never replaces the clean text. */

#include <jansson.h>
#include <stdint.h>

#include "ctl.h"
#include "store.h"

struct reimport_conflict {
        int64_t task;
        char *ref;
        enum task_field field;
        char *kept, *document;          /* the values (NULL: none) */
        int64_t changed_at;             /* when a person changed it, NO_TIME if not known */
        char *message;                  /* "task 12: done since 2025-05-03; …" */
};

struct reimport_conflicts {
        struct reimport_conflict *v;
        size_t n;
};

/* Updates `old` (as read from the store, in the caller's transaction)
 * with the fields of `doc`, the document's version of the same task, that
 * nobody changed since; logs what it changed (source import, `note`) and
 * appends a conflict for each value kept. An agency the document hands
 * the task to is owed a notice from `notice_at` (0: none). Returns 0 or a
 * negative errno from the store. */
int reimport_task(struct ctl *c, const struct task *old, const struct task *doc, const char *note,
                  int64_t notice_at, struct reimport_conflicts *l);

/* The conflicts as a JSON array of { task, ref, field, kept, document,
 * changed_at, message }. */
json_t *reimport_conflicts_json(const struct reimport_conflicts *l);
void reimport_conflicts_clear(struct reimport_conflicts *l);
