/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Network deliveries: libcurl's multi interface driven by sd-event. No
 * thread and no polling loop: curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION -> an io source each) and when to call it back
 * (CURLMOPT_TIMERFUNCTION -> one monotonic timer). Concurrency is bounded
 * (smtp.max_connections in all, and per webhook host), connections are
 * kept and reused across messages, and every finished job goes back to
 * the manager with a result per outbox row. */

#include <systemd/sd-event.h>

#include "config.h"
#include "macro.h"
#include "outbox.h"

struct dispatch;
struct manager;

int dispatch_new(sd_event *event, struct manager *m, struct dispatch **ret);
struct dispatch *dispatch_free(struct dispatch *d);
/* Takes the SMTP settings and limits of a (new) configuration. */
void dispatch_reconfigure(struct dispatch *d, const struct config *c);
/* Starts sending a job; it comes back through manager_transfer_done(). */
void dispatch_submit(struct dispatch *d, struct job *j);
/* Stops every transfer and hands its job back unsettled. */
void dispatch_abort_all(struct dispatch *d);
size_t dispatch_in_flight(const struct dispatch *d);

/* Classifies one SMTP reply code: 2xx/3xx sent, 4xx retry, 5xx fail. */
enum result_kind smtp_reply_result(long code);
/* Classifies an HTTP status for a webhook: 2xx sent; 408, 429 and 5xx retry;
 * other statuses (redirects included: they are not followed) fail. */
enum result_kind http_status_result(long status);
/* Whether a URL's host is the loopback (127.0.0.0/8, ::1, localhost). */
bool url_host_is_loopback(const char *url);
