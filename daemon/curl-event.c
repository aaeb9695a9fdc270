/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "curl-event.h"

#include <stdio.h>

#include "log.h"

struct curl_event {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        sd_event_source *defer;         /* curl's "call me back at once" */
        uint64_t due;                   /* when curl wants a call (CLOCK_MONOTONIC µs), or UINT64_MAX */
        uint64_t armed;                 /* when the timer fires, or UINT64_MAX when it is off */
        char name[32];
        curl_event_finished_t on_finished;
        void *userdata;
};

static void drain(struct curl_event *ce) {
        CURLMsg *msg;
        int left;

        while ((msg = curl_multi_info_read(ce->multi, &left))) {
                CURL *easy;
                CURLcode result;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                /* The message is gone once its handle is removed. */
                easy = msg->easy_handle;
                result = msg->data.result;
                ce->on_finished(ce, easy, result, ce->userdata);
        }
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userdata);

/* Runs curl's due time-outs (and the transfers it was asked to start),
 * then reads its next time-out back: curl only reports one that changed,
 * and a wrong guess here would leave a transfer waiting forever. */
static void run_timeouts(struct curl_event *ce) {
        int running;
        long ms;

        if (curl_multi_socket_action(ce->multi, CURL_SOCKET_TIMEOUT, 0, &running) != CURLM_OK)
                log_warning("%s: curl_multi_socket_action() failed on timeout", ce->name);
        drain(ce);
        if (curl_multi_timeout(ce->multi, &ms) == CURLM_OK)
                (void) on_curl_timer(ce->multi, ms, ce);
}

/* A finished transfer often makes room for the next (the caller adds it
 * from on_finished), and curl asks to be called at once to start it: that
 * is done here rather than in another loop iteration. Bounded, so a
 * stream of instant failures still yields to the loop. */
static void drain_and_start(struct curl_event *ce) {
        drain(ce);
        for (unsigned i = 0; i < 16 && ce->due == 0; i++)
                run_timeouts(ce);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct curl_event *ce = userdata;
        int action = 0, running;

        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                action |= CURL_CSELECT_ERR;
        if (curl_multi_socket_action(ce->multi, fd, action, &running) != CURLM_OK)
                log_warning("%s: curl_multi_socket_action() failed on fd %d", ce->name, fd);
        drain_and_start(ce);
        /* Never negative: that would disable this source for good. */
        return 0;
}


static void arm(struct curl_event *ce, uint64_t at) {
        if (sd_event_source_set_time(ce->timer, at) >= 0 &&
            sd_event_source_set_enabled(ce->timer, SD_EVENT_ONESHOT) >= 0)
                ce->armed = at;
        else
                log_warning("%s: cannot arm curl's timer", ce->name);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct curl_event *ce = userdata;

        ce->armed = UINT64_MAX;
        /* Early (curl moved its time-out later since the timer was set):
         * wait on; otherwise let curl run its time-outs. */
        if (ce->due <= usec)
                run_timeouts(ce);
        if (ce->armed == UINT64_MAX && ce->due != UINT64_MAX && ce->due > usec)
                arm(ce, ce->due);
        return 0;
}

static int on_defer(sd_event_source *s, void *userdata) {
        run_timeouts(userdata);
        return 0;
}

/* curl asks us to watch a socket (or stop): one io source per socket, found
 * again through curl_multi_assign(). */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userdata, void *socketp) {
        struct curl_event *ce = userdata;
        sd_event_source *io = socketp;
        uint32_t events = 0;
        int r;

        if (what == CURL_POLL_REMOVE) {
                /* Disable before curl closes the fd: epoll must not keep a
                 * stale registration for a number that is reused. */
                sd_event_source_disable_unref(io);
                curl_multi_assign(ce->multi, fd, NULL);
                return 0;
        }
        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;
        if (io) {
                r = sd_event_source_set_io_events(io, events);
                if (r >= 0)
                        r = sd_event_source_set_enabled(io, SD_EVENT_ON);
        } else {
                r = sd_event_add_io(ce->event, &io, fd, events, on_io, ce);
                if (r >= 0) {
                        char name[48];
                        snprintf(name, sizeof name, "%s-curl-io", ce->name);
                        (void) sd_event_source_set_description(io, name);
                        curl_multi_assign(ce->multi, fd, io);
                }
        }
        if (r < 0) {
                log_error_errno(r, "%s: failed to watch a curl socket: %m", ce->name);
                return -1;
        }
        return 0;
}

/* curl asks to be called back in timeout_ms. Never call curl from here
 * (re-entrancy): the timer and defer handlers do.
 *
 * curl moves its time-out with almost every transfer, mostly later (each
 * new transfer brings its own, seconds ahead). Reprogramming a timerfd for
 * each move was a fifth of the daemon's time under load, so the timer is
 * only moved earlier: a timer that fires before curl's time-out just waits
 * on (on_timer), and one left armed after curl cancels costs one wake-up. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userdata) {
        struct curl_event *ce = userdata;
        uint64_t now;

        if (timeout_ms < 0) {
                ce->due = UINT64_MAX;
                return sd_event_source_set_enabled(ce->defer, SD_EVENT_OFF) < 0 ? -1 : 0;
        }
        if (timeout_ms == 0) {
                /* "At once", to start every transfer: the next iteration. */
                ce->due = 0;
                return sd_event_source_set_enabled(ce->defer, SD_EVENT_ONESHOT) < 0 ? -1 : 0;
        }
        (void) sd_event_source_set_enabled(ce->defer, SD_EVENT_OFF);
        if (sd_event_now(ce->event, CLOCK_MONOTONIC, &now) < 0)
                return -1;
        ce->due = now + (uint64_t) timeout_ms * 1000;
        if (ce->due < ce->armed)
                arm(ce, ce->due);
        return 0;
}

int curl_event_new(sd_event *event, const char *name, curl_event_finished_t on_finished, void *userdata,
                   struct curl_event **ret) {
        _cleanup_(curl_event_freep) struct curl_event *ce = calloc(1, sizeof *ce);
        char description[48];
        int r;

        if (!ce)
                return -ENOMEM;
        ce->event = sd_event_ref(event);
        snprintf(ce->name, sizeof ce->name, "%s", name);
        ce->on_finished = on_finished;
        ce->userdata = userdata;
        ce->due = ce->armed = UINT64_MAX;
        ce->multi = curl_multi_init();
        if (!ce->multi)
                return -ENOMEM;
        /* curl's time-outs are intervals, not wall-clock times: they run on
         * CLOCK_MONOTONIC. They are transfer time-outs of seconds and short
         * waits of curl's own: 10 ms of slack lets sd-event share a wake-up
         * with other timers (its default 250 ms would stall the short
         * waits). */
        r = sd_event_add_time(event, &ce->timer, CLOCK_MONOTONIC, UINT64_MAX, 10 * 1000, on_timer, ce);
        if (r < 0)
                return r;
        r = sd_event_add_defer(event, &ce->defer, on_defer, ce);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(ce->defer, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(ce->timer, SD_EVENT_OFF);
        snprintf(description, sizeof description, "%s-curl-timer", ce->name);
        (void) sd_event_source_set_description(ce->timer, description);
        if (curl_multi_setopt(ce->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
            curl_multi_setopt(ce->multi, CURLMOPT_SOCKETDATA, ce) != CURLM_OK ||
            curl_multi_setopt(ce->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK ||
            curl_multi_setopt(ce->multi, CURLMOPT_TIMERDATA, ce) != CURLM_OK)
                return -EINVAL;
        *ret = TAKE_PTR(ce);
        return 0;
}

struct curl_event *curl_event_free(struct curl_event *ce) {
        if (!ce)
                return NULL;
        /* curl may still call the socket callback while cleaning up. */
        if (ce->multi)
                curl_multi_cleanup(ce->multi);
        sd_event_source_disable_unref(ce->timer);
        sd_event_source_disable_unref(ce->defer);
        sd_event_unref(ce->event);
        free(ce);
        return NULL;
}

CURLM *curl_event_multi(struct curl_event *ce) {
        return ce->multi;
}

int curl_event_add(struct curl_event *ce, CURL *easy) {
        return curl_multi_add_handle(ce->multi, easy) == CURLM_OK ? 0 : -ENOMEM;
}
