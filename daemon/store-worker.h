/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The store thread: work on a server's database (PostgreSQL) runs on a
 * thread of its own, with blocking calls on a connection only it uses, so
 * that the event loop never waits on the network. The loop hands one piece
 * of work over at a time and hears of its end through an eventfd watched
 * by sd-event, as it hears of a finished transfer. Nothing is shared but
 * the piece of work: the loop does not touch it, nor what it points to,
 * until done() is called. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "store.h"

struct store_worker;

/* Runs on the thread, with the thread's store. */
typedef void (*store_work_fn)(struct store *s, void *arg);

/* A thread that owns `s` from now on (closed by store_worker_free()).
 * done(userdata) is called on the loop after each piece of work ends. */
int store_worker_new(sd_event *event, struct store *s, void (*done)(void *userdata), void *userdata,
                     struct store_worker **ret);
/* Ends the thread once the work under way is done (it is never cut
 * short: each call is bounded by the store's own timeouts), and closes
 * its store. */
struct store_worker *store_worker_free(struct store_worker *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct store_worker *, store_worker_free);

/* Hands fn(store, arg) to the thread: -EBUSY while other work is under
 * way (done() has not been called for it yet). */
int store_worker_submit(struct store_worker *w, store_work_fn fn, void *arg);
bool store_worker_busy(const struct store_worker *w);
