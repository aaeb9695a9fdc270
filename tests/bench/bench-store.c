/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Times the store's queries on a database of many tasks (default 100000,
 * or argv[1]): `make bench-store`. Prints one line per query. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define NOW INT64_C(1745000000)

static double seconds(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

#define TIME(what, expr)                                                        \
        do {                                                                    \
                double _t = seconds();                                          \
                int _r = (expr);                                                \
                printf("%-44s %8.1f ms  (%d)\n", what, (seconds() - _t) * 1e3, _r); \
                if (_r < 0)                                                     \
                        goto finish;                                            \
        } while (0)

int main(int argc, char *argv[]) {
        static const char *const agencies[] = { "sxd", "stc", "snn", "skhdt", "syt", "sgddt", "scongthuong" };
        char dir[] = "/tmp/bench-store.XXXXXX", path[64], cmd[128];
        long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
        struct task_list l = {};
        struct delivery_list dl = {};
        struct store *s = NULL;
        struct task_filter f;
        int64_t next;
        int r = 1;

        if (n <= 0 || !mkdtemp(dir))
                return 1;
        snprintf(path, sizeof path, "%s/bench.db", dir);
        if (store_open(path, STORE_CREATE, &s) < 0)
                goto finish;

        double t0 = seconds();
        if (store_begin(s) < 0)
                goto finish;
        for (long i = 0; i < n; i++) {
                struct task_agency a[] = {
                        { (char *) agencies[i % 7], ROLE_LEAD, 0 },
                        { (char *) agencies[(i + 3) % 7], ROLE_SUPPORT, 0 },
                };
                struct task t = {
                        .title = "Báo cáo tình hình thực hiện nhiệm vụ",
                        .due = "2025-06-30",
                        /* One in ten without a deadline, the rest over a year. */
                        .due_at = i % 10 == 0 ? NO_TIME : NOW + (i * 7919) % (365 * 86400),
                        .agencies = a, .n_agencies = 2,
                };
                if (store_task_add(s, &t, NOW) < 0 ||
                    store_task_set_schedule(s, t.id, NOW + (i * 104729) % (365 * 86400), NOW) < 0)
                        goto finish;
                if (i % 3 == 0 && store_task_set_status(s, t.id, TASK_DONE, NOW) < 0)
                        goto finish;
                struct delivery d = {
                        .task_id = t.id, .slot = "before:7d", .slot_at = NOW, .agency = a[0].agency,
                        .channel = "email", .next_attempt_at = NOW + (i * 31) % 86400, .created_at = NOW,
                        .state = i % 50 == 0 ? DELIVERY_PENDING : DELIVERY_SENT,
                };
                if (store_delivery_insert(s, &d) < 0)
                        goto finish;
        }
        if (store_commit(s) < 0)
                goto finish;
        printf("%-44s %8.1f ms\n", "insert tasks + agencies + deliveries", (seconds() - t0) * 1e3);

        TIME("task_list (all)", store_task_list(s, NULL, &l));
        task_list_done(&l);
        f = TASK_FILTER_INIT;
        f.status = TASK_OPEN;
        TIME("task_list (open)", store_task_list(s, &f, &l));
        task_list_done(&l);
        f.agencies = (char *[]) { "sxd", "stc", NULL };
        TIME("task_list (open, 2 agencies)", store_task_list(s, &f, &l));
        task_list_done(&l);
        f = TASK_FILTER_INIT;
        f.limit = 20;
        TIME("task_list (all, limit 20)", store_task_list(s, &f, &l));
        task_list_done(&l);
        TIME("next_fire", store_next_fire(s, &next));
        TIME("tasks_due (a day, limit 100)", store_tasks_due(s, NOW + 86400, 100, &l));
        task_list_done(&l);
        TIME("tasks_due (a week, no limit)", store_tasks_due(s, NOW + 7 * 86400, 0, &l));
        task_list_done(&l);
        TIME("next_delivery", store_next_delivery(s, &next));
        TIME("deliveries_due (a day, limit 100)",
             store_deliveries_due(s, NOW + 86400, &(struct delivery_filter) { .limit = 100 }, &dl));
        delivery_list_done(&dl);
        /* A claim while two receivers are full. */
        const struct delivery_receiver busy[] = { { "sxd", "email" }, { "stc", "email" } };
        const struct delivery_filter skip = { .skip = busy, .n_skip = 2, .limit = 100 };
        TIME("deliveries_due (a day, limit 100, 2 skipped)", store_deliveries_due(s, NOW + 86400, &skip, &dl));
        delivery_list_done(&dl);
        r = 0;
finish:
        if (r != 0)
                fprintf(stderr, "failed: %s\n", store_last_error(s));
        task_list_done(&l);
        delivery_list_done(&dl);
        store_close(s);
        snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", dir);
        (void) system(cmd);
        return r;
}
