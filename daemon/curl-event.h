/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* libcurl's multi interface driven by sd-event, after systemd's curl-util:
 * curl says which sockets to watch (CURLMOPT_SOCKETFUNCTION, one io source
 * each) and when to call it back (CURLMOPT_TIMERFUNCTION, one monotonic
 * timer); no thread and no polling loop. Every finished transfer comes back
 * through one callback, found again by the caller through CURLINFO_PRIVATE.
 *
 * The callback may remove and clean up the easy handle it is given, but
 * must not free the curl_event it runs in. */

#include <curl/curl.h>
#include <systemd/sd-event.h>

#include "macro.h"

struct curl_event;

typedef void (*curl_event_finished_t)(struct curl_event *ce, CURL *easy, CURLcode result, void *userdata);

/* `name` describes the event sources ("smtp", "webhook"); it is copied. */
int curl_event_new(sd_event *event, const char *name, curl_event_finished_t on_finished, void *userdata,
                   struct curl_event **ret);
/* Cleans up the multi handle; easy handles still added must have been
 * removed by the caller. */
struct curl_event *curl_event_free(struct curl_event *ce);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_event *, curl_event_free);

CURLM *curl_event_multi(struct curl_event *ce);
int curl_event_add(struct curl_event *ce, CURL *easy);
