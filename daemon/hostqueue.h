/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Admission per destination: at most `limit` transfers in progress for one
 * key (a webhook's scheme, host and port), the others waiting their turn
 * in order. The dispatcher hands curl only what this admits: curl's own
 * queue (CURLMOPT_MAX_HOST_CONNECTIONS) counts the time a transfer waits
 * against its timeouts, so behind a slow receiver the waiting ones would
 * time out without ever being sent. Pure bookkeeping: no I/O. */

#include <stdbool.h>
#include <stddef.h>

struct hostqueue;

int hostqueue_new(size_t limit, struct hostqueue **ret);
/* Waiting items themselves are the caller's and are not freed. */
struct hostqueue *hostqueue_free(struct hostqueue *q);

/* 1: `item` may start now and counts as in progress for `key`; 0: it
 * waits; -ENOMEM. */
int hostqueue_admit(struct hostqueue *q, const char *key, void *item);
/* An item of `key` in progress is done: the next waiting one, now in
 * progress in its place, or NULL. */
void *hostqueue_release(struct hostqueue *q, const char *key);
/* Takes a waiting item out (its transfer was aborted): true if it was
 * waiting, false if it is in progress or unknown. */
bool hostqueue_forget(struct hostqueue *q, const char *key, void *item);

/* Claim-time bookkeeping, so that one receiver's backlog cannot take all
 * the room for transfers: 1 (and one more reserved for `key`) if its
 * items in progress, waiting and reserved are fewer than `max`; 0 if not;
 * -ENOMEM. hostqueue_admit() uses up a reservation of its key;
 * hostqueue_unreserve() drops those left. */
int hostqueue_reserve(struct hostqueue *q, const char *key, size_t max);
void hostqueue_unreserve(struct hostqueue *q);
/* In progress, waiting and reserved. */
size_t hostqueue_load(const struct hostqueue *q, const char *key);
/* How many keys have any. */
size_t hostqueue_n_loaded(const struct hostqueue *q);

size_t hostqueue_active(const struct hostqueue *q, const char *key);
size_t hostqueue_waiting(const struct hostqueue *q, const char *key);
