/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Network deliveries: libcurl's multi interface driven by sd-event. No
 * thread and no polling loop: curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION -> an io source each) and when to call it back
 * (CURLMOPT_TIMERFUNCTION -> one monotonic timer). SMTP and webhooks have
 * a multi handle each. Concurrency is bounded (smtp.max_connections for the
 * mail server, and per webhook host), connections are kept and reused
 * across messages, and every finished job goes back to its submitter,
 * through the done() callback it gave, with a result per outbox row. */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "job.h"
#include "macro.h"
#include "outbox.h"

struct dispatch;

/* What the dispatcher is given by the one that submits jobs to it. */
struct dispatch_ops {
        /* A submitted job is back, its rows with their results (rows left
         * RESULT_NONE were cut short under way, RESULT_UNSENT ones never
         * started). Called once per job, from the event loop or from
         * within dispatch_submit(), dispatch_stop() or dispatch_abort_all();
         * the job is the callee's from then on. Only dispatch_free() drops
         * the jobs it still has instead. */
        void (*done)(struct job *j, void *userdata);
        /* The wall clock as the submitter keeps it (seconds since the
         * epoch; deadlined --now shifts it). A webhook request that waited
         * for its receiver is stamped anew when it starts, which happens
         * inside curl's callbacks, where no caller could pass the time. */
        int64_t (*now)(void *userdata);
};

int dispatch_new(sd_event *event, const struct dispatch_ops *ops, void *userdata, struct dispatch **ret);
struct dispatch *dispatch_free(struct dispatch *d);
/* Takes the SMTP settings and limits of a (new) configuration. */
void dispatch_reconfigure(struct dispatch *d, const struct config *c);
/* Starts sending a job; it comes back through ops->done(). */
void dispatch_submit(struct dispatch *d, struct job *j);
/* Starts nothing more: e-mails and webhooks not yet started come back
 * unsettled at once, the ones under way finish. */
void dispatch_stop(struct dispatch *d);
/* Stops every transfer and hands its job back unsettled. */
void dispatch_abort_all(struct dispatch *d);
size_t dispatch_in_flight(const struct dispatch *d);

/* The claim filter of the moment (outbox.h): webhooks whose receiver holds
 * its share of DISPATCH_HOST_CLAIMED jobs (under way and waiting their
 * turn) are left pending, so that slow receivers' backlogs never take all
 * the room for transfers. The share is that amount divided among the
 * receivers that hold any, a newcomer included. The filter is valid until
 * dispatch_claim_done(), which drops what it reserved and was not
 * submitted; filter.busy is NULL when no receiver is at its share. */
#define DISPATCH_HOST_CLAIMED 192
int dispatch_claim_filter(struct dispatch *d, struct claim_filter *ret);
/* The same filter for a claim on another thread: it reads only a copy of
 * each receiver's room (and the configuration, which must outlive it),
 * never the dispatcher. */
int dispatch_claim_filter_detached(struct dispatch *d, struct claim_filter *ret);
void dispatch_claim_done(struct dispatch *d, struct claim_filter *f);

/* Classifies an HTTP status for a webhook: 2xx sent; 408, 429 and 5xx retry;
 * other statuses (redirects included: they are not followed) fail. */
enum result_kind http_status_result(long status);
