/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hostqueue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

struct waiter {
        void *item;
        struct waiter *next;
};

struct host {
        char *key;
        size_t active;
        struct waiter *head, *tail;
        size_t waiting;
        size_t reserved;        /* claimed, not admitted yet */
        struct host *next;
};

struct hostqueue {
        size_t limit;
        struct host *hosts;     /* a handful of receivers: a list will do */
};

int hostqueue_new(size_t limit, struct hostqueue **ret) {
        struct hostqueue *q = calloc(1, sizeof *q);

        if (!q)
                return -ENOMEM;
        q->limit = MAX(limit, (size_t) 1);
        *ret = q;
        return 0;
}

static void host_free(struct host *h) {
        while (h->head) {
                struct waiter *w = h->head;
                h->head = w->next;
                free(w);
        }
        free(h->key);
        free(h);
}

struct hostqueue *hostqueue_free(struct hostqueue *q) {
        if (!q)
                return NULL;
        while (q->hosts) {
                struct host *h = q->hosts;
                q->hosts = h->next;
                host_free(h);
        }
        free(q);
        return NULL;
}

static struct host *host_find(const struct hostqueue *q, const char *key) {
        for (struct host *h = q->hosts; h; h = h->next)
                if (streq(h->key, key))
                        return h;
        return NULL;
}

/* A host with nothing in progress and nothing waiting is forgotten, so the
 * list holds only the receivers that are busy now. */
static void host_drop_if_idle(struct hostqueue *q, struct host *h) {
        if (h->active > 0 || h->head || h->reserved > 0)
                return;
        for (struct host **p = &q->hosts; *p; p = &(*p)->next)
                if (*p == h) {
                        *p = h->next;
                        break;
                }
        host_free(h);
}

static struct host *host_get(struct hostqueue *q, const char *key) {
        struct host *h = host_find(q, key);

        if (h)
                return h;
        h = calloc(1, sizeof *h);
        if (!h)
                return NULL;
        h->key = strdup(key);
        if (!h->key) {
                free(h);
                return NULL;
        }
        h->next = q->hosts;
        q->hosts = h;
        return h;
}

int hostqueue_admit(struct hostqueue *q, const char *key, void *item) {
        struct host *h = host_get(q, key);

        if (!h)
                return -ENOMEM;
        if (h->reserved > 0)
                h->reserved--;
        if (h->active < q->limit) {
                h->active++;
                return 1;
        }
        struct waiter *w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->item = item;
        if (h->tail)
                h->tail->next = w;
        else
                h->head = w;
        h->tail = w;
        h->waiting++;
        return 0;
}

void *hostqueue_release(struct hostqueue *q, const char *key) {
        struct host *h = host_find(q, key);
        struct waiter *w;
        void *item;

        if (!h)
                return NULL;
        if (h->active > 0)
                h->active--;
        w = h->head;
        if (!w || h->active >= q->limit) {
                host_drop_if_idle(q, h);
                return NULL;
        }
        h->head = w->next;
        if (!h->head)
                h->tail = NULL;
        h->waiting--;
        h->active++;
        item = w->item;
        free(w);
        return item;
}

bool hostqueue_forget(struct hostqueue *q, const char *key, void *item) {
        struct host *h = host_find(q, key);
        struct waiter *prev = NULL;

        if (!h)
                return false;
        for (struct waiter *w = h->head; w; prev = w, w = w->next) {
                if (w->item != item)
                        continue;
                if (prev)
                        prev->next = w->next;
                else
                        h->head = w->next;
                if (h->tail == w)
                        h->tail = prev;
                h->waiting--;
                free(w);
                host_drop_if_idle(q, h);
                return true;
        }
        return false;
}

size_t hostqueue_active(const struct hostqueue *q, const char *key) {
        const struct host *h = host_find(q, key);
        return h ? h->active : 0;
}

size_t hostqueue_waiting(const struct hostqueue *q, const char *key) {
        const struct host *h = host_find(q, key);
        return h ? h->waiting : 0;
}

int hostqueue_reserve(struct hostqueue *q, const char *key, size_t max) {
        struct host *h = host_get(q, key);

        if (!h)
                return -ENOMEM;
        if (h->active + h->waiting + h->reserved >= max) {
                host_drop_if_idle(q, h);
                return 0;
        }
        h->reserved++;
        return 1;
}

void hostqueue_unreserve(struct hostqueue *q) {
        for (struct host *h = q->hosts, *next; h; h = next) {
                next = h->next;
                h->reserved = 0;
                host_drop_if_idle(q, h);
        }
}

size_t hostqueue_load(const struct hostqueue *q, const char *key) {
        const struct host *h = host_find(q, key);
        return h ? h->active + h->waiting + h->reserved : 0;
}

size_t hostqueue_n_loaded(const struct hostqueue *q) {
        size_t n = 0;
        for (const struct host *h = q->hosts; h; h = h->next)
                n += h->active + h->waiting + h->reserved > 0;
        return n;
}
