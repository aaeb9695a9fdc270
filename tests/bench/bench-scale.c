/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The scheduler's questions against a large database, timed in process:
 *   bench-scale CONFIG [prime]
 * "prime" first works out every task's next slot (what the daemon does on
 * its first start); then it times the indexed questions the daemon asks on
 * every wake-up: the next time anything is due, and deciding and claiming
 * the deliveries of one run. */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "outbox.h"
#include "store.h"
#include "timeutil.h"

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_(store_closep) struct store *s = NULL;
        _cleanup_free_ char *errors = NULL;
        int64_t next, start;
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: bench-scale CONFIG START [prime [stop]]\n");
                return 64;
        }
        if (config_load(argv[1], &c, &errors) < 0 || config_apply_timezone(c) < 0) {
                fprintf(stderr, "%s\n", errors ? errors : "bad config");
                return 78;
        }
        start = strtoll(argv[2], NULL, 10);
        r = store_open(c->database, 0, &s);
        if (r < 0) {
                fprintf(stderr, "store_open: %s\n", strerror(-r));
                return 66;
        }
        if (argc > 3 && streq(argv[3], "prime")) {
                double t0 = now_ms();
                r = outbox_decide(s, c, start);
                printf("prime_ms=%.1f\n", now_ms() - t0);
                if (r < 0)
                        return 70;
        }
        /* A primed database to profile the rest on (perf record). */
        if (argc > 4 && streq(argv[4], "stop")) {
                return 0;
        }

        /* What the daemon asks after every change: when next? */
        const int rounds = 2000;
        double t0 = now_ms();
        for (int i = 0; i < rounds; i++)
                if (outbox_next_wakeup(s, c, start, &next) < 0)
                        return 70;
        printf("next_due_us=%.2f\n", (now_ms() - t0) * 1000.0 / rounds);
        if (next == NO_TIME)
                return 70;

        /* One run: the tasks whose slot has come at the next wake-up. */
        t0 = now_ms();
        int created = outbox_decide(s, c, next);
        double decide = now_ms() - t0;
        struct job_list jobs = {};
        t0 = now_ms();
        r = outbox_claim(s, c, next, 256, NULL, &jobs);
        double claim = now_ms() - t0;
        if (created < 0 || r < 0)
                return 70;
        printf("decide_ms=%.3f deliveries=%d\nclaim_ms=%.3f jobs=%zu\n", decide, created, claim, jobs.n);
        for (size_t i = 0; i < jobs.n; i++)
                job_set_result(jobs.jobs[i], RESULT_NONE, NULL);
        (void) outbox_settle(s, c, next, jobs.jobs, jobs.n);
        job_list_done(&jobs);
        return 0;
}
