/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The per-agency calendar files (ics-feed.h). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "ics-feed.h"
#include "ics.h"

int ics_feed_prepare(const char *dir) {
        struct stat st;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        if (stat(dir, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        return access(dir, W_OK | X_OK) < 0 ? -errno : 0;
}

int ics_feed_update(const struct config *c, struct store *s, char **ret_path) {
        struct task_filter f = TASK_FILTER_INIT;
        _cleanup_(task_list_done) struct task_list l = {};
        int written = 0, r;

        f.status = TASK_OPEN;
        r = store_task_list(s, &f, &l);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->n_agencies; i++) {
                const struct agency *a = &c->agencies[i];
                struct ics_options o = {
                        .instance_id = store_instance_id(s),
                        .agency = a->id,
                        .component = ICS_EVENT,
                        .name = a->name ?: a->id,
                };
                _cleanup_free_ char *text = NULL, *path = NULL;

                r = ics_build(c, l.tasks, l.n, &o, &text);
                if (r >= 0 && asprintf(&path, "%s/%s.ics", c->calendar_dir, a->id) < 0)
                        r = -ENOMEM;
                if (r < 0)
                        return r;
                if (file_has_content(path, text, strlen(text)))
                        continue;
                r = write_file_atomic(path, text, strlen(text), 0644);
                if (r < 0) {
                        if (ret_path)
                                *ret_path = TAKE_PTR(path);
                        return r;
                }
                written++;
        }
        return written;
}
