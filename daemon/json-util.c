/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "json-util.h"

#include "macro.h"
#include "render-text.h"
#include "store.h"
#include "timeutil.h"

json_t *json_time(int64_t t) {
        char buf[26];

        if (t == NO_TIME)
                return json_null();
        format_rfc3339(t, buf);
        return json_string(buf);
}

json_t *json_text(const char *s) {
        _cleanup_free_ char *clean = NULL;
        json_t *j;

        if (!s)
                return json_null();
        j = json_string(s);
        if (j || text_clean(s, false, &clean) < 0)
                return j;
        return json_string(clean);
}
