/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "csv.h"

#include <stdbool.h>
#include <string.h>

#include "macro.h"

void csv_init(struct csv *in, const char *text, size_t size) {
        *in = (struct csv) { .p = text, .end = text + size, .line = 1 };
        if (size >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
                in->p += 3;
}

int csv_record(struct csv *in, char ***ret, int *ret_line) {
        char **fields = calloc(1, sizeof *fields);
        size_t cap = 256, len = 0;
        char *field = malloc(cap);
        bool any = false;

        if (!fields || !field)
                goto oom;
        *ret_line = in->line;
        if (in->p >= in->end) {
                free(field);
                *ret = fields;
                return 0;
        }
        for (;;) {
                bool quoted = false;
                len = 0;
                if (in->p < in->end && *in->p == '"') {
                        quoted = true;
                        in->p++;
                }
                for (;;) {
                        if (in->p >= in->end) {
                                if (quoted) {
                                        free(field);
                                        strv_free(fields);
                                        return -EBADMSG;
                                }
                                break;
                        }
                        char ch = *in->p;
                        /* A NUL would silently end the field wherever it
                         * is used as a C string: the input is not text. */
                        if (ch == 0) {
                                *ret_line = in->line;
                                free(field);
                                strv_free(fields);
                                return -EILSEQ;
                        }
                        if (quoted && ch == '"') {
                                if (in->p + 1 < in->end && in->p[1] == '"') {
                                        in->p += 2;
                                } else {
                                        in->p++;
                                        quoted = false;
                                        continue;
                                }
                        } else if (!quoted && (ch == ',' || ch == '\n' || ch == '\r'))
                                break;
                        else
                                in->p++;
                        if (ch == '\n')
                                in->line++;
                        if (len + 2 > cap) {
                                char *f = realloc(field, cap *= 2);
                                if (!f)
                                        goto oom;
                                field = f;
                        }
                        field[len++] = ch;
                }
                field[len] = 0;
                any = true;
                if (strv_push(&fields, field) < 0)
                        goto oom;
                if (in->p < in->end && *in->p == ',') {
                        in->p++;
                        continue;
                }
                if (in->p < in->end && *in->p == '\r')
                        in->p++;
                if (in->p < in->end && *in->p == '\n') {
                        in->p++;
                        in->line++;
                }
                break;
        }
        (void) any;
        free(field);
        *ret = fields;
        return (int) strv_length(fields);
oom:
        free(field);
        strv_free(fields);
        return -ENOMEM;
}

void csv_write_field(FILE *f, const char *s, bool last) {
        if (s && strpbrk(s, ",\"\r\n")) {
                fputc('"', f);
                for (const char *p = s; *p; p++) {
                        if (*p == '"')
                                fputc('"', f);
                        fputc(*p, f);
                }
                fputc('"', f);
        } else if (s)
                fputs(s, f);
        fputs(last ? "\r\n" : ",", f);
}

