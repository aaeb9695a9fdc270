/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "json-util.h"

#include "store.h"
#include "timeutil.h"

json_t *json_time(int64_t t) {
        char buf[26];

        if (t == NO_TIME)
                return json_null();
        format_rfc3339(t, buf);
        return json_string(buf);
}
