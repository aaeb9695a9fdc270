/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* CSV as spreadsheets write it (RFC 4180): quoted fields may hold commas,
 * quotes ("") and line breaks; lines end in CRLF or LF. Pure. */

#include <stdbool.h>
#include <stdio.h>

struct csv {
        const char *p, *end;
        int line;               /* of the next record, from 1 */
};

/* Starts reading `size` bytes, skipping a UTF-8 byte order mark. */
void csv_init(struct csv *in, const char *text, size_t size);
/* The fields of the next record as a NULL-terminated list, and the line it
 * starts on. Returns the number of fields, 0 at the end, -EBADMSG for a
 * quoted field left open, -EILSEQ for a NUL byte (`*ret_line` is then the
 * line the NUL is on), -ENOMEM. */
int csv_record(struct csv *in, char ***ret, int *ret_line);
/* Writes one field, quoted when it must be, then "," or CRLF after the
 * last. NULL writes an empty field. */
void csv_write_field(FILE *f, const char *s, bool last);
