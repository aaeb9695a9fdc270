/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dispatch.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "manager.h"
#include "smtp.h"

/* A webhook reply body is read up to this much (the first 200 bytes are
 * kept for the log); the rest is a receiver's problem, not ours. */
#define REPLY_MAX (64 * 1024)
#define REPLY_KEEP 200
#define WEBHOOK_PER_HOST 4
#define WEBHOOK_CONNECTIONS 16
#define WEBHOOK_CONNECT_TIMEOUT 10L
#define WEBHOOK_TIMEOUT 15L

/* One curl multi handle with its sockets and timer. SMTP and webhooks each
 * have their own, so smtp.max_connections bounds the mail server's
 * connections alone and a slow webhook receiver never holds up mail. */
struct pool {
        struct dispatch *dispatch;
        const char *name;
        CURLM *multi;
        sd_event_source *timer;
        /* Transfers running at once; 0 leaves the bound to curl. Beyond
         * it, transfers wait here rather than inside curl, so that their
         * time-out counts from when they really start. */
        size_t limit, running;
        struct transfer *waiting, *waiting_tail;
        /* Totals since start, for the log: how well connections are reused. */
        uint64_t done, connects;
};

struct transfer {
        struct dispatch *dispatch;
        struct pool *pool;
        struct job *job;
        CURL *easy;
        bool running;                  /* added to the pool's multi handle */
        struct smtp_session smtp;      /* e-mail: envelope, progress, replies */
        struct curl_slist *headers;
        char errbuf[CURL_ERROR_SIZE];
        char body[REPLY_KEEP + 1];     /* start of a webhook reply body */
        size_t body_len, body_total;
        struct transfer *next, *prev;  /* every transfer */
        struct transfer *next_waiting;
};

struct dispatch {
        sd_event *event;
        struct manager *manager;
        const struct config *config;
        struct pool smtp, webhook;
        struct transfer *transfers;
        size_t n;
};

enum result_kind http_status_result(long status) {
        if (status >= 200 && status < 300)
                return RESULT_SENT;
        if (status == 408 || status == 429 || (status >= 500 && status < 600) || status == 0)
                return RESULT_RETRY;
        return RESULT_FAIL;
}

bool url_host_is_loopback(const char *url) {
        CURLU *u = curl_url();
        char *host = NULL;
        bool loopback = false;

        if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
                struct in_addr a4;
                if (streq(host, "localhost") || streq(host, "[::1]"))
                        loopback = true;
                else if (inet_pton(AF_INET, host, &a4) == 1)
                        loopback = (ntohl(a4.s_addr) >> 24) == 127;
        }
        curl_free(host);
        curl_url_cleanup(u);
        return loopback;
}

static void transfer_unlink(struct transfer *t) {
        struct dispatch *d = t->dispatch;
        if (t->prev)
                t->prev->next = t->next;
        else
                d->transfers = t->next;
        if (t->next)
                t->next->prev = t->prev;
        d->n--;
}

static void pool_unqueue(struct pool *p, struct transfer *t) {
        struct transfer **i, *prev = NULL;

        for (i = &p->waiting; *i; prev = *i, i = &(*i)->next_waiting)
                if (*i == t) {
                        *i = t->next_waiting;
                        if (p->waiting_tail == t)
                                p->waiting_tail = prev;
                        t->next_waiting = NULL;
                        return;
                }
}

/* Releases what a transfer holds, without returning its job. */
static struct job *transfer_free(struct transfer *t) {
        struct job *j = t->job;

        transfer_unlink(t);
        if (t->running) {
                curl_multi_remove_handle(t->pool->multi, t->easy);
                t->pool->running--;
        } else
                pool_unqueue(t->pool, t);
        curl_easy_cleanup(t->easy);
        smtp_session_done(&t->smtp);
        curl_slist_free_all(t->headers);
        free(t);
        return j;
}

/* Ends a transfer and returns its job to the manager. */
static void transfer_finish(struct transfer *t) {
        struct dispatch *d = t->dispatch;

        manager_transfer_done(d->manager, transfer_free(t));
}

static void pool_start(struct pool *p, struct transfer *t) {
        if (curl_multi_add_handle(p->multi, t->easy) != CURLM_OK) {
                job_set_result(t->job, RESULT_RETRY, "cannot start a transfer");
                transfer_finish(t);
                return;
        }
        t->running = true;
        p->running++;
}

/* Starts waiting transfers while there is room. */
static void pool_kick(struct pool *p) {
        while (p->waiting && (p->limit == 0 || p->running < p->limit)) {
                struct transfer *t = p->waiting;
                p->waiting = t->next_waiting;
                if (!p->waiting)
                        p->waiting_tail = NULL;
                t->next_waiting = NULL;
                pool_start(p, t);
        }
}

static void pool_queue(struct pool *p, struct transfer *t) {
        if (p->waiting_tail)
                p->waiting_tail->next_waiting = t;
        else
                p->waiting = t;
        p->waiting_tail = t;
        pool_kick(p);
}

static size_t on_write(char *buf, size_t size, size_t nmemb, void *userdata) {
        struct transfer *t = userdata;
        size_t n = size * nmemb;

        if (t->body_len < REPLY_KEEP) {
                size_t k = MIN(n, REPLY_KEEP - t->body_len);
                memcpy(t->body + t->body_len, buf, k);
                t->body_len += k;
                t->body[t->body_len] = 0;
        }
        t->body_total += n;
        /* Returning less than given ends the transfer: enough was read. */
        return t->body_total > REPLY_MAX ? 0 : n;
}

/* A recipient refused at RCPT TO fails (5xx) or defers (4xx) its own
 * agency's delivery; the others' go on with the message. */
static void on_rcpt_refused(struct smtp_session *ss, size_t rcpt, const char *reply) {
        struct transfer *t = ss->userdata;
        struct job *j = t->job;
        size_t row = j->rcpt_row[rcpt];
        char err[SMTP_REPLY_MAX + 300];

        snprintf(err, sizeof err, "<%s>: %s", j->rcpt[rcpt], reply);
        job_set_row_result(j, row, reply[0] == '5' ? RESULT_FAIL : RESULT_RETRY, err);
        log_warning("SMTP server refused recipient %s of task %lld: %s", j->rcpt[rcpt],
                    (long long) j->rows[row].task_id, reply);
}

static int setup_email(struct dispatch *d, struct transfer *t) {
        struct job *j = t->job;

        if (!d->config->has_smtp) {
                job_set_result(j, RESULT_RETRY, "no smtp settings in the configuration");
                return -EINVAL;
        }
        t->smtp.on_refused = on_rcpt_refused;
        t->smtp.userdata = t;
        return smtp_session_setup(&t->smtp, t->easy, &d->config->smtp, j->mail_from, j->rcpt, j->n_rcpt, j->data,
                                  j->size);
}

static int setup_webhook(struct dispatch *d, struct transfer *t) {
        CURL *e = t->easy;
        struct job *j = t->job;

        for (char **h = j->headers; h && *h; h++) {
                struct curl_slist *l = curl_slist_append(t->headers, *h);
                if (!l)
                        return -ENOMEM;
                t->headers = l;
        }
        curl_easy_setopt(e, CURLOPT_URL, j->url);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) j->body_size);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, WEBHOOK_CONNECT_TIMEOUT);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, WEBHOOK_TIMEOUT);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "deadlined/" VERSION);
        return 0;
}

void dispatch_submit(struct dispatch *d, struct job *j) {
        struct transfer *t = calloc(1, sizeof *t);
        int r;

        if (!t) {
                job_set_result(j, RESULT_RETRY, "out of memory");
                manager_transfer_done(d->manager, j);
                return;
        }
        *t = (struct transfer) {
                .dispatch = d,
                .pool = j->channel == CHANNEL_EMAIL ? &d->smtp : &d->webhook,
                .job = j,
                .next = d->transfers,
        };
        if (d->transfers)
                d->transfers->prev = t;
        d->transfers = t;
        d->n++;

        t->easy = curl_easy_init();
        if (!t->easy) {
                job_set_result(j, RESULT_RETRY, "cannot start a transfer");
                transfer_finish(t);
                return;
        }
        curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
        curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
        curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
        r = j->channel == CHANNEL_EMAIL ? setup_email(d, t) : setup_webhook(d, t);
        if (r < 0) {
                if (r == -ENOMEM)
                        job_set_result(j, RESULT_RETRY, "out of memory");
                transfer_finish(t);
                return;
        }
        pool_queue(t->pool, t);
}

static void finish_email(struct transfer *t, CURLcode code) {
        struct job *j = t->job;
        char err[CURL_ERROR_SIZE + SMTP_REPLY_MAX + 32];
        enum result_kind kind = smtp_session_result(&t->smtp, t->easy, code, err, sizeof err);

        if (kind == RESULT_SENT) {
                /* Rows whose recipients were refused already have their
                 * result; the rest were accepted with the message. */
                for (size_t i = 0; i < j->n_rows; i++)
                        if (j->rows[i].result == RESULT_NONE)
                                job_set_row_result(j, i, RESULT_SENT, NULL);
                return;
        }
        for (size_t i = 0; i < j->n_rows; i++)
                if (j->rows[i].result == RESULT_NONE || j->rows[i].result == RESULT_SENT)
                        job_set_row_result(j, i, kind, err);
}

static void finish_webhook(struct transfer *t, CURLcode code) {
        struct job *j = t->job;
        long status = 0;
        char err[CURL_ERROR_SIZE + 300];

        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && status > 0)) {
                snprintf(err, sizeof err, "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(code));
                job_set_result(j, RESULT_RETRY, err);
                return;
        }
        enum result_kind kind = http_status_result(status);
        if (kind == RESULT_SENT) {
                job_set_result(j, RESULT_SENT, NULL);
                return;
        }
        for (char *p = t->body; *p; p++)
                if ((unsigned char) *p < 0x20)
                        *p = ' ';
        snprintf(err, sizeof err, "HTTP %ld%s%s", status, t->body_len ? ": " : "", t->body);
        job_set_result(j, kind, err);
        if (kind == RESULT_RETRY) {
                curl_off_t after = 0;
                if (curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0)
                        for (size_t i = 0; i < j->n_rows; i++)
                                j->rows[i].retry_after = (int64_t) after;
        }
}

static void pool_drain(struct pool *p) {
        CURLMsg *msg;
        int left;

        while ((msg = curl_multi_info_read(p->multi, &left))) {
                struct transfer *t = NULL;
                long connects = 0;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &t);
                if (curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
                        p->connects += (uint64_t) connects;
                p->done++;
                if (t->job->channel == CHANNEL_EMAIL)
                        finish_email(t, msg->data.result);
                else
                        finish_webhook(t, msg->data.result);
                transfer_finish(t);
        }
        pool_kick(p);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct pool *p = userdata;
        int action = 0, running;

        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                action |= CURL_CSELECT_ERR;
        if (curl_multi_socket_action(p->multi, fd, action, &running) != CURLM_OK)
                log_warning("curl_multi_socket_action() failed on fd %d", fd);
        pool_drain(p);
        /* Never negative: that would disable this source for good. */
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct pool *p = userdata;
        int running;

        if (curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running) != CURLM_OK)
                log_warning("curl_multi_socket_action() failed on timeout");
        pool_drain(p);
        return 0;
}

/* curl asks us to watch a socket (or stop): one io source per socket, found
 * again through curl_multi_assign(). */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userdata, void *socketp) {
        struct pool *p = userdata;
        sd_event_source *io = socketp;
        uint32_t events = 0;
        int r;

        if (what == CURL_POLL_REMOVE) {
                /* Disable before curl closes the fd: epoll must not keep a
                 * stale registration for a number that is reused. */
                sd_event_source_disable_unref(io);
                curl_multi_assign(p->multi, fd, NULL);
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
                r = sd_event_add_io(p->dispatch->event, &io, fd, events, on_io, p);
                if (r >= 0) {
                        char name[32];
                        snprintf(name, sizeof name, "%s-io", p->name);
                        (void) sd_event_source_set_description(io, name);
                        curl_multi_assign(p->multi, fd, io);
                }
        }
        if (r < 0) {
                log_error_errno(r, "Failed to watch a curl socket: %m");
                return -1;
        }
        return 0;
}

/* curl asks to be called back in timeout_ms. Never call curl from here
 * (re-entrancy): the timer handler does. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userdata) {
        struct pool *p = userdata;
        int r;

        if (timeout_ms < 0)
                return sd_event_source_set_enabled(p->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        r = sd_event_source_set_time_relative(p->timer, (uint64_t) timeout_ms * 1000);
        if (r >= 0)
                r = sd_event_source_set_enabled(p->timer, SD_EVENT_ONESHOT);
        return r < 0 ? -1 : 0;
}

static int pool_init(struct pool *p, struct dispatch *d, const char *name) {
        char description[32];
        int r;

        p->dispatch = d;
        p->name = name;
        p->multi = curl_multi_init();
        if (!p->multi)
                return -ENOMEM;
        /* Retries, backoff and curl's own timeouts are intervals, not wall
         * clock times: they run on CLOCK_MONOTONIC. curl asks for "now"
         * (0 ms) to start each transfer: sd-event's default accuracy of
         * 250 ms would stall every one of them, so the timer is exact. */
        r = sd_event_add_time(d->event, &p->timer, CLOCK_MONOTONIC, UINT64_MAX, 1, on_timer, p);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
        snprintf(description, sizeof description, "%s-timer", name);
        (void) sd_event_source_set_description(p->timer, description);
        curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
        curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
        curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
        return 0;
}

static void pool_done(struct pool *p) {
        if (p->done > 0)
                log_info("%s: %llu transfers over %llu new connections", p->name, (unsigned long long) p->done,
                         (unsigned long long) p->connects);
        /* curl may still call the socket callback while cleaning up (and
         * closes its cached connections, saying QUIT to SMTP servers). */
        if (p->multi)
                curl_multi_cleanup(p->multi);
        p->multi = NULL;
        p->timer = sd_event_source_disable_unref(p->timer);
}

int dispatch_new(sd_event *event, struct manager *m, struct dispatch **ret) {
        struct dispatch *d = calloc(1, sizeof *d);
        int r;

        if (!d)
                return -ENOMEM;
        d->event = sd_event_ref(event);
        d->manager = m;
        r = pool_init(&d->smtp, d, "smtp");
        if (r >= 0)
                r = pool_init(&d->webhook, d, "webhook");
        if (r < 0) {
                dispatch_free(d);
                return r;
        }
        *ret = d;
        return 0;
}

void dispatch_reconfigure(struct dispatch *d, const struct config *c) {
        long smtp = c->has_smtp ? c->smtp.max_connections : 4;

        d->config = c;
        /* Every SMTP transfer goes to the one configured server: at most
         * max_connections of them at once, each connection kept open and
         * reused for the next message. */
        d->smtp.limit = (size_t) smtp;
        curl_multi_setopt(d->smtp.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, smtp);
        curl_multi_setopt(d->smtp.multi, CURLMOPT_MAX_HOST_CONNECTIONS, smtp);
        curl_multi_setopt(d->smtp.multi, CURLMOPT_MAXCONNECTS, smtp);
        /* The per-host bound keeps one slow webhook receiver from taking
         * every connection. */
        curl_multi_setopt(d->webhook.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long) WEBHOOK_CONNECTIONS);
        curl_multi_setopt(d->webhook.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) WEBHOOK_PER_HOST);
        curl_multi_setopt(d->webhook.multi, CURLMOPT_MAXCONNECTS, (long) WEBHOOK_CONNECTIONS);
        pool_kick(&d->smtp);
}

void dispatch_abort_all(struct dispatch *d) {
        while (d && d->transfers)
                transfer_finish(d->transfers);
}

size_t dispatch_in_flight(const struct dispatch *d) {
        return d ? d->n : 0;
}

struct dispatch *dispatch_free(struct dispatch *d) {
        if (!d)
                return NULL;
        /* Unsettled jobs are dropped here (their rows stay "attempting",
         * which the next start puts back); then curl, then our sources. */
        while (d->transfers)
                job_free(transfer_free(d->transfers));
        pool_done(&d->smtp);
        pool_done(&d->webhook);
        sd_event_unref(d->event);
        free(d);
        return NULL;
}
