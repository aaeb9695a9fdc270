/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Aligned text tables for people. Columns are aligned by display width,
 * not bytes, so Vietnamese text (and wide CJK, and combining marks) lines
 * up in a terminal. */

#include <stdbool.h>
#include <stdio.h>

#include "macro.h"

struct table;

int table_new(size_t n_columns, struct table **ret);
struct table *table_free(struct table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct table *, table_free);

/* Appends one cell; rows fill left to right. NULL prints as "-". The text
 * is copied, with control characters replaced by spaces. */
int table_add(struct table *t, const char *text);
/* Right-align a column (numbers). */
void table_set_align_right(struct table *t, size_t column, bool right);
/* Cap a column's width; longer cells are cut with "…". 0: no cap. */
void table_set_max_width(struct table *t, size_t column, size_t width);
int table_print(const struct table *t, FILE *f);
size_t table_rows(const struct table *t);
