/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dispatch.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "manager.h"
#include "webhook.h"

/* A webhook reply body is read up to this much (the first 200 bytes are
 * kept for the log); the rest is a receiver's problem, not ours. */
#define REPLY_MAX (64 * 1024)
#define REPLY_KEEP 200

struct transfer {
        struct dispatch *dispatch;
        struct job *job;
        CURL *easy;
        struct curl_slist *rcpt, *headers;
        size_t offset;                 /* upload progress in job->data */
        char errbuf[CURL_ERROR_SIZE];
        char reply[512];               /* the server's last reply line */
        char body[REPLY_KEEP + 1];     /* start of a webhook reply body */
        size_t body_len, body_total;
        ssize_t current_rcpt;          /* index of the RCPT TO under way */
        char *host;                    /* webhook: its receiver, for the per-host bound */
        enum { HOST_NONE, HOST_ACTIVE, HOST_WAITING } host_state;
        struct transfer *next, *prev;
};

struct dispatch {
        sd_event *event;
        struct manager *manager;
        CURLM *multi;
        sd_event_source *timer;
        const struct config *config;
        struct transfer *transfers;
        size_t n;
        struct hostqueue *hosts;       /* webhook transfers per receiver */
        bool aborting;
};

enum result_kind smtp_reply_result(long code) {
        if (code >= 200 && code < 400)
                return RESULT_SENT;
        if (code >= 500 && code < 600)
                return RESULT_FAIL;
        /* 4xx, and no reply at all (a dropped connection), may pass. */
        return RESULT_RETRY;
}

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

static void transfer_finish(struct transfer *t);

/* Hands a transfer to curl. */
static void transfer_start(struct transfer *t) {
        struct dispatch *d = t->dispatch;

        if (t->host_state == HOST_WAITING) {
                /* It waited for its receiver, perhaps for minutes: the
                 * attempt's timestamp and signature are made anew, or a
                 * receiver that checks the timestamp's age would refuse it. */
                int r = webhook_restamp(d->config, t->job, manager_now(d->manager));
                if (r > 0) {
                        curl_slist_free_all(t->headers);
                        t->headers = NULL;
                        r = webhook_setup_easy(t->easy, webhook_find(d->config, t->job), t->job, &t->headers);
                }
                if (r < 0) {
                        job_set_result(t->job, RESULT_RETRY, "cannot prepare the request");
                        t->host_state = HOST_ACTIVE;
                        transfer_finish(t);
                        return;
                }
        }
        t->host_state = t->host ? HOST_ACTIVE : HOST_NONE;
        if (curl_multi_add_handle(d->multi, t->easy) != CURLM_OK) {
                job_set_result(t->job, RESULT_RETRY, "cannot start a transfer");
                transfer_finish(t);
        }
}

/* Ends a transfer and returns its job to the manager; a webhook's place
 * goes to the next transfer waiting for the same receiver. */
static void transfer_finish(struct transfer *t) {
        struct dispatch *d = t->dispatch;
        struct job *j = t->job;
        struct transfer *next = NULL;

        transfer_unlink(t);
        if (t->host_state == HOST_WAITING)
                (void) hostqueue_forget(d->hosts, t->host, t);
        else if (t->host_state == HOST_ACTIVE)
                next = hostqueue_release(d->hosts, t->host);
        if (t->easy) {
                curl_multi_remove_handle(d->multi, t->easy);
                curl_easy_cleanup(t->easy);
        }
        curl_slist_free_all(t->rcpt);
        curl_slist_free_all(t->headers);
        free(t->host);
        free(t);
        manager_transfer_done(d->manager, j);
        /* When everything is being stopped, the next one is stopped too,
         * by the caller's loop, rather than started. */
        if (next && !d->aborting)
                transfer_start(next);
        else if (next)
                next->host_state = HOST_ACTIVE;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *userdata) {
        struct transfer *t = userdata;
        size_t n = MIN(size * nmemb, t->job->size - t->offset);

        memcpy(buf, t->job->data + t->offset, n);
        t->offset += n;
        return n;
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

/* Follows the SMTP dialogue to learn each recipient's fate: libcurl goes on
 * past a refused RCPT (CURLOPT_MAIL_RCPT_ALLLOWFAILS) but does not say which
 * one was refused, so pair each "RCPT TO" with the reply that follows it. */
static int on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *userdata) {
        struct transfer *t = userdata;
        struct job *j = t->job;

        if (type == CURLINFO_HEADER_OUT && size > 8 && strncasecmp(data, "RCPT TO:", 8) == 0) {
                t->current_rcpt = -1;
                for (size_t i = 0; i < j->n_rcpt; i++) {
                        size_t len = strlen(j->rcpt[i]);
                        const char *lt = memchr(data, '<', size);
                        if (lt && (size_t) (data + size - lt) > len + 1 && strncasecmp(lt + 1, j->rcpt[i], len) == 0 &&
                            lt[1 + len] == '>') {
                                t->current_rcpt = (ssize_t) i;
                                break;
                        }
                }
        } else if (type == CURLINFO_HEADER_IN && size >= 3) {
                size_t n = MIN(size, sizeof t->reply - 1);
                memcpy(t->reply, data, n);
                t->reply[n] = 0;
                t->reply[strcspn(t->reply, "\r\n")] = 0;
                if (t->current_rcpt >= 0 && j->channel == CHANNEL_EMAIL && (data[0] == '4' || data[0] == '5') &&
                    (size < 4 || data[3] != '-')) {
                        char err[600];
                        size_t row = j->rcpt_row[t->current_rcpt];
                        snprintf(err, sizeof err, "<%s>: %s", j->rcpt[t->current_rcpt], t->reply);
                        job_set_row_result(j, row, data[0] == '5' ? RESULT_FAIL : RESULT_RETRY, err);
                        log_warning("SMTP server refused recipient %s of task %lld: %s", j->rcpt[t->current_rcpt],
                                    (long long) j->rows[row].task_id, t->reply);
                }
                if (size >= 4 && data[3] != '-')
                        t->current_rcpt = -1;
        }
        return 0;
}

static int setup_email(struct dispatch *d, struct transfer *t) {
        const struct smtp *s = &d->config->smtp;
        CURL *e = t->easy;
        struct job *j = t->job;

        if (!d->config->has_smtp) {
                job_set_result(j, RESULT_RETRY, "no smtp settings in the configuration");
                return -EINVAL;
        }
        for (size_t i = 0; i < j->n_rcpt; i++) {
                struct curl_slist *l = curl_slist_append(t->rcpt, j->rcpt[i]);
                if (!l)
                        return -ENOMEM;
                t->rcpt = l;
        }
        curl_easy_setopt(e, CURLOPT_URL, s->url);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        /* STARTTLS is required unless plain text was asked for, and then
         * only towards this machine unless asked for that too. */
        bool plain = s->allow_plaintext && (s->allow_plaintext_remote || url_host_is_loopback(s->url));
        curl_easy_setopt(e, CURLOPT_USE_SSL, plain ? (long) CURLUSESSL_NONE : (long) CURLUSESSL_ALL);
        if (s->ca_file)
                curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
        if (s->username) {
                curl_easy_setopt(e, CURLOPT_USERNAME, s->username);
                curl_easy_setopt(e, CURLOPT_PASSWORD, strempty(s->password));
        }
        curl_easy_setopt(e, CURLOPT_MAIL_FROM, j->mail_from);
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t->rcpt);
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t) j->size);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, t);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long) s->connect_timeout);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, (long) s->timeout);
        curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
        curl_easy_setopt(e, CURLOPT_DEBUGDATA, t);
        curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
        return 0;
}

static int setup_webhook(struct dispatch *d, struct transfer *t) {
        char host[HOSTQUEUE_KEY_MAX];
        int r = webhook_setup_easy(t->easy, webhook_find(d->config, t->job), t->job, &t->headers);

        if (r < 0)
                return r;
        webhook_host_key(t->job->url, host);
        t->host = strdup(host);
        if (!t->host)
                return -ENOMEM;
        curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
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
        *t = (struct transfer) { .dispatch = d, .job = j, .current_rcpt = -1, .next = d->transfers };
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
        if (t->host) {
                /* curl would queue the transfers beyond its per-host
                 * bound itself, but with their timeouts running: behind a
                 * slow receiver they would time out unsent. They wait here. */
                r = hostqueue_admit(d->hosts, t->host, t);
                if (r < 0) {
                        job_set_result(j, RESULT_RETRY, "out of memory");
                        transfer_finish(t);
                        return;
                }
                if (r == 0) {
                        t->host_state = HOST_WAITING;
                        return;
                }
        }
        transfer_start(t);
}

static void finish_email(struct transfer *t, CURLcode code) {
        struct job *j = t->job;
        long reply = 0;
        char err[CURL_ERROR_SIZE + 600];

        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &reply);
        if (code == CURLE_OK) {
                /* Rows whose recipients were refused already have their
                 * result; the rest were accepted with the message. */
                for (size_t i = 0; i < j->n_rows; i++)
                        if (j->rows[i].result == RESULT_NONE)
                                job_set_row_result(j, i, RESULT_SENT, NULL);
                return;
        }
        snprintf(err, sizeof err, "%s%s%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(code),
                 t->reply[0] ? "; server said: " : "", t->reply);
        enum result_kind kind = RESULT_RETRY;
        /* A 5xx at MAIL FROM or DATA refuses the message itself; anything
         * else (timeouts, TLS, a dropped connection) may pass later. */
        if (reply >= 500 && reply < 600 && code != CURLE_LOGIN_DENIED && code != CURLE_USE_SSL_FAILED)
                kind = RESULT_FAIL;
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
        webhook_reply_sanitize(t->body);
        snprintf(err, sizeof err, "HTTP %ld%s%s", status, t->body_len ? ": " : "", t->body);
        job_set_result(j, kind, err);
        if (kind == RESULT_RETRY) {
                curl_off_t after = 0;
                if (curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0)
                        for (size_t i = 0; i < j->n_rows; i++)
                                j->rows[i].retry_after = (int64_t) after;
        }
}

static void dispatch_drain(struct dispatch *d) {
        CURLMsg *msg;
        int left;

        while ((msg = curl_multi_info_read(d->multi, &left))) {
                struct transfer *t = NULL;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &t);
                if (t->job->channel == CHANNEL_EMAIL)
                        finish_email(t, msg->data.result);
                else
                        finish_webhook(t, msg->data.result);
                transfer_finish(t);
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct dispatch *d = userdata;
        int action = 0, running;

        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                action |= CURL_CSELECT_ERR;
        if (curl_multi_socket_action(d->multi, fd, action, &running) != CURLM_OK)
                log_warning("curl_multi_socket_action() failed on fd %d", fd);
        dispatch_drain(d);
        /* Never negative: that would disable this source for good. */
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct dispatch *d = userdata;
        int running;

        if (curl_multi_socket_action(d->multi, CURL_SOCKET_TIMEOUT, 0, &running) != CURLM_OK)
                log_warning("curl_multi_socket_action() failed on timeout");
        dispatch_drain(d);
        return 0;
}

/* curl asks us to watch a socket (or stop): one io source per socket, found
 * again through curl_multi_assign(). */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userdata, void *socketp) {
        struct dispatch *d = userdata;
        sd_event_source *io = socketp;
        uint32_t events = 0;
        int r;

        if (what == CURL_POLL_REMOVE) {
                /* Disable before curl closes the fd: epoll must not keep a
                 * stale registration for a number that is reused. */
                sd_event_source_disable_unref(io);
                curl_multi_assign(d->multi, fd, NULL);
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
                r = sd_event_add_io(d->event, &io, fd, events, on_io, d);
                if (r >= 0) {
                        (void) sd_event_source_set_description(io, "curl-io");
                        curl_multi_assign(d->multi, fd, io);
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
        struct dispatch *d = userdata;
        int r;

        if (timeout_ms < 0)
                return sd_event_source_set_enabled(d->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        r = sd_event_source_set_time_relative(d->timer, (uint64_t) timeout_ms * 1000 + 999);
        if (r >= 0)
                r = sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
        return r < 0 ? -1 : 0;
}

int dispatch_new(sd_event *event, struct manager *m, struct dispatch **ret) {
        struct dispatch *d = calloc(1, sizeof *d);
        int r;

        if (!d)
                return -ENOMEM;
        d->event = sd_event_ref(event);
        d->manager = m;
        d->multi = curl_multi_init();
        if (!d->multi || hostqueue_new(WEBHOOK_PER_HOST, &d->hosts) < 0) {
                dispatch_free(d);
                return -ENOMEM;
        }
        /* Retries, backoff and curl's own timeouts are intervals, not wall
         * clock times: they run on CLOCK_MONOTONIC. Accuracy 1 µs: curl
         * asks to be called back "in 0 ms" to start every transfer, and
         * sd-event's default accuracy (0 means 250 ms) would let each
         * batch wait that long. */
        r = sd_event_add_time(event, &d->timer, CLOCK_MONOTONIC, UINT64_MAX, 1, on_timer, d);
        if (r < 0) {
                dispatch_free(d);
                return r;
        }
        (void) sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);
        (void) sd_event_source_set_description(d->timer, "curl-timer");
        curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d);
        curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
        curl_multi_setopt(d->multi, CURLMOPT_TIMERDATA, d);
        *ret = d;
        return 0;
}

void dispatch_reconfigure(struct dispatch *d, const struct config *c) {
        long total = c->has_smtp ? c->smtp.max_connections : 4;

        d->config = c;
        /* The bound on transfers at once; curl queues the rest. The
         * per-host bound keeps one slow webhook receiver from taking
         * every connection. */
        curl_multi_setopt(d->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, total + WEBHOOK_PER_HOST * 4L);
        curl_multi_setopt(d->multi, CURLMOPT_MAX_HOST_CONNECTIONS, MAX(total, (long) WEBHOOK_PER_HOST));
        curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS, total + WEBHOOK_PER_HOST * 4L);
}

void dispatch_abort_all(struct dispatch *d) {
        if (!d)
                return;
        d->aborting = true;
        while (d->transfers)
                transfer_finish(d->transfers);
        d->aborting = false;
}

size_t dispatch_in_flight(const struct dispatch *d) {
        return d ? d->n : 0;
}

struct dispatch *dispatch_free(struct dispatch *d) {
        if (!d)
                return NULL;
        /* Unsettled jobs go back (and are put back to pending by the
         * manager's last settle); then curl, which may still call the
         * socket callback while cleaning up, then our sources. */
        while (d->transfers) {
                struct transfer *t = d->transfers;
                transfer_unlink(t);
                curl_multi_remove_handle(d->multi, t->easy);
                curl_easy_cleanup(t->easy);
                curl_slist_free_all(t->rcpt);
                curl_slist_free_all(t->headers);
                free(t->host);
                job_free(t->job);
                free(t);
        }
        if (d->multi)
                curl_multi_cleanup(d->multi);
        hostqueue_free(d->hosts);
        sd_event_source_disable_unref(d->timer);
        sd_event_unref(d->event);
        free(d);
        return NULL;
}
