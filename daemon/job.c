/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "job.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"

struct job *job_free(struct job *j) {
        if (!j)
                return NULL;
        for (size_t i = 0; i < j->n_rows; i++) {
                free(j->rows[i].slot);
                free(j->rows[i].agency);
                free(j->rows[i].error);
                free(j->rows[i].delivered_to);
        }
        free(j->rows);
        free(j->agency);
        free(j->subject);
        free(j->mail_from);
        strv_free(j->rcpt);
        free(j->rcpt_in_row);
        free(j->rcpt_refused);
        free(j->data);
        free(j->url);
        strv_free(j->headers);
        free(j->body);
        free(j);
        return NULL;
}

void job_list_done(struct job_list *l) {
        for (size_t i = 0; i < l->n; i++)
                job_free(l->jobs[i]);
        free(l->jobs);
        *l = (struct job_list) {};
}

void job_set_row_result(struct job *j, size_t row, enum result_kind kind, const char *error) {
        struct job_row *r = &j->rows[row];

        /* A recipient refused for good stays refused, whatever the rest
         * of the transaction does. */
        if (r->result == RESULT_FAIL && kind != RESULT_FAIL)
                return;
        r->result = kind;
        free(r->error);
        r->error = error ? strdup(error) : NULL;
}

void job_set_result(struct job *j, enum result_kind kind, const char *error) {
        for (size_t i = 0; i < j->n_rows; i++)
                job_set_row_result(j, i, kind, error);
}

bool job_row_delivered(const struct job_row *r, const char *address) {
        size_t n = strlen(address);

        for (const char *p = r->delivered_to; p && *p;) {
                const char *end = strchrnul(p, '\n');
                if ((size_t) (end - p) == n && strncasecmp(p, address, n) == 0)
                        return true;
                p = *end ? end + 1 : end;
        }
        return false;
}
