/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A number given on the command line (number.h). */

#include <errno.h>
#include <stdlib.h>

#include "number.h"

int parse_u64_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || *end || *s == '-' || v < min || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}
