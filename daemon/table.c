/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "table.h"

#include <stdbool.h>
#include <string.h>
#include <utf8proc.h>

struct table {
        size_t n_columns;
        char **cells;
        size_t n_cells, allocated;
        bool *right;
        size_t *max_width;
};

int table_new(size_t n_columns, struct table **ret) {
        struct table *t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->n_columns = n_columns;
        t->right = calloc(n_columns, sizeof *t->right);
        t->max_width = calloc(n_columns, sizeof *t->max_width);
        if (!t->right || !t->max_width) {
                table_free(t);
                return -ENOMEM;
        }
        *ret = t;
        return 0;
}

struct table *table_free(struct table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t->right);
        free(t->max_width);
        free(t);
        return NULL;
}

int table_add(struct table *t, const char *text) {
        if (t->n_cells == t->allocated) {
                size_t n = t->allocated ? t->allocated * 2 : 64;
                char **c = realloc(t->cells, n * sizeof *c);
                if (!c)
                        return -ENOMEM;
                t->cells = c;
                t->allocated = n;
        }
        char *copy = strdup(text ? text : "-");
        if (!copy)
                return -ENOMEM;
        for (char *p = copy; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = ' ';
        t->cells[t->n_cells++] = copy;
        return 0;
}

void table_set_align_right(struct table *t, size_t column, bool right) {
        if (column < t->n_columns)
                t->right[column] = right;
}

void table_set_max_width(struct table *t, size_t column, size_t width) {
        if (column < t->n_columns)
                t->max_width[column] = width;
}

size_t table_rows(const struct table *t) {
        return t->n_columns ? t->n_cells / t->n_columns : 0;
}

/* Walks one code point; returns its byte length and display width. */
static size_t next_char(const char *s, int *ret_width) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *) s, -1, &cp);

        if (n <= 0) {
                *ret_width = 1;
                return 1;
        }
        int w = utf8proc_charwidth(cp);
        *ret_width = w < 0 ? 0 : w;
        return (size_t) n;
}

/* Display width of a UTF-8 string (invalid bytes count as one column). */
static size_t utf8_width(const char *s) {
        size_t width = 0;
        int w;

        while (*s) {
                s += next_char(s, &w);
                width += (size_t) w;
        }
        return width;
}

/* Prints at most `max` columns of s, cutting with "…", and returns the
 * width printed. */
static size_t print_cut(FILE *f, const char *s, size_t max) {
        size_t width = utf8_width(s), used = 0;
        int w;

        if (max == 0 || width <= max) {
                fputs(s, f);
                return width;
        }
        while (*s) {
                size_t n = next_char(s, &w);
                if (used + (size_t) w + 1 > max)
                        break;
                fwrite(s, 1, n, f);
                used += (size_t) w;
                s += n;
        }
        fputs("…", f);
        return used + 1;
}

int table_print(const struct table *t, FILE *f) {
        _cleanup_free_ size_t *widths = calloc(t->n_columns, sizeof *widths);
        size_t rows = table_rows(t);

        if (!widths)
                return -ENOMEM;
        for (size_t i = 0; i < rows * t->n_columns; i++) {
                size_t c = i % t->n_columns, w = utf8_width(t->cells[i]);
                if (t->max_width[c] && w > t->max_width[c])
                        w = t->max_width[c];
                widths[c] = MAX(widths[c], w);
        }
        for (size_t r = 0; r < rows; r++) {
                for (size_t c = 0; c < t->n_columns; c++) {
                        const char *cell = t->cells[r * t->n_columns + c];
                        bool last = c + 1 == t->n_columns;
                        size_t w = MIN(utf8_width(cell), t->max_width[c] ? t->max_width[c] : SIZE_MAX);

                        if (t->right[c])
                                fprintf(f, "%*s", (int) (widths[c] - w), "");
                        print_cut(f, cell, t->max_width[c]);
                        if (!last) {
                                if (!t->right[c])
                                        fprintf(f, "%*s", (int) (widths[c] - w), "");
                                fputs("  ", f);
                        }
                }
                fputc('\n', f);
        }
        return ferror(f) ? -EIO : 0;
}
