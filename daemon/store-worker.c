/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "store-worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

struct store_worker {
        struct store *store;           /* the thread's only */
        pthread_t thread;
        bool started;

        /* Under `lock`: the work handed over and not yet taken, and the
         * end of the thread asked for. */
        pthread_mutex_t lock;
        pthread_cond_t wake;
        store_work_fn fn;
        void *arg;
        bool quit;

        /* The loop's side: work handed over whose done() has not run. */
        bool busy;
        int efd;
        sd_event_source *source;
        void (*done)(void *userdata);
        void *userdata;
};

static void *worker_main(void *userdata) {
        struct store_worker *w = userdata;

        for (;;) {
                store_work_fn fn;
                void *arg;

                pthread_mutex_lock(&w->lock);
                while (!w->fn && !w->quit)
                        pthread_cond_wait(&w->wake, &w->lock);
                if (!w->fn) {
                        pthread_mutex_unlock(&w->lock);
                        return NULL;
                }
                fn = w->fn;
                arg = w->arg;
                pthread_mutex_unlock(&w->lock);

                fn(w->store, arg);

                pthread_mutex_lock(&w->lock);
                w->fn = NULL;
                w->arg = NULL;
                pthread_mutex_unlock(&w->lock);
                /* The write is the hand-back: the loop reads the work's
                 * results only after it has seen it. */
                for (;;) {
                        uint64_t one = 1;
                        if (write(w->efd, &one, sizeof one) >= 0 || errno != EINTR)
                                break;
                }
        }
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct store_worker *w = userdata;
        uint64_t n;

        if (read(fd, &n, sizeof n) < 0)
                return 0;       /* EAGAIN: nothing ended yet */
        w->busy = false;
        w->done(w->userdata);
        return 0;
}

int store_worker_new(sd_event *event, struct store *s, void (*done)(void *userdata), void *userdata,
                     struct store_worker **ret) {
        struct store_worker *w;
        int r;

        w = calloc(1, sizeof *w);
        if (!w) {
                store_close(s);
                return -ENOMEM;
        }
        w->store = s;
        w->efd = -EBADF;
        w->done = done;
        w->userdata = userdata;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->wake, NULL);
        w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->efd < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(event, &w->source, w->efd, EPOLLIN, on_done, w);
        if (r < 0)
                goto fail;
        (void) sd_event_source_set_description(w->source, "store-thread");
        r = -pthread_create(&w->thread, NULL, worker_main, w);
        if (r < 0)
                goto fail;
        w->started = true;
        *ret = w;
        return 0;
fail:
        store_worker_free(w);
        return r;
}

struct store_worker *store_worker_free(struct store_worker *w) {
        if (!w)
                return NULL;
        if (w->started) {
                pthread_mutex_lock(&w->lock);
                w->quit = true;
                pthread_cond_signal(&w->wake);
                pthread_mutex_unlock(&w->lock);
                (void) pthread_join(w->thread, NULL);
        }
        w->source = sd_event_source_disable_unref(w->source);
        if (w->efd >= 0)
                close(w->efd);
        store_close(w->store);
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
}

int store_worker_submit(struct store_worker *w, store_work_fn fn, void *arg) {
        if (w->busy)
                return -EBUSY;
        w->busy = true;
        pthread_mutex_lock(&w->lock);
        w->fn = fn;
        w->arg = arg;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);
        return 0;
}

bool store_worker_busy(const struct store_worker *w) {
        return w && w->busy;
}
