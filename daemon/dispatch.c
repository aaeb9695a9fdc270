/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dispatch.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "curl-event.h"
#include "hostqueue.h"
#include "log.h"
#include "smtp-client.h"
#include "smtp.h"
#include "url.h"
#include "webhook.h"

/* A webhook reply body is read up to this much (the first 200 bytes are
 * kept for the log); the rest is a receiver's problem, not ours. */
#define REPLY_MAX (64 * 1024)
#define WEBHOOK_CONNECTIONS 16

/* A job under way: a webhook request on the webhook multi handle, or an
 * e-mail handed to the SMTP client. */
struct transfer {
        struct dispatch *dispatch;
        struct job *job;
        CURL *easy;                    /* webhooks */
        struct smtp_message mail;      /* e-mail */
        struct curl_slist *headers;
        char errbuf[CURL_ERROR_SIZE];
        char body[WEBHOOK_REPLY_KEEP + 1]; /* start of a webhook reply body */
        size_t body_len, body_total;
        char *host;                    /* webhook: its receiver, for the per-host bound */
        enum { HOST_NONE, HOST_ACTIVE, HOST_WAITING } host_state;
        struct transfer *next, *prev;
};

/* SMTP and webhooks go their own ways, so that smtp.max_connections bounds
 * the mail server's connections alone and a slow webhook receiver never
 * holds up mail. */
struct dispatch {
        sd_event *event;
        const struct dispatch_ops *ops;
        void *userdata;
        const struct config *config;
        struct curl_event *webhooks;
        struct smtp_client *smtp;
        struct transfer *transfers;
        size_t n;
        struct hostqueue *hosts;       /* webhook transfers per receiver */
        bool aborting;
};

enum result_kind http_status_result(long status) {
        if (status >= 200 && status < 300)
                return RESULT_SENT;
        if (status == 408 || status == 429 || (status >= 500 && status < 600) || status == 0)
                return RESULT_RETRY;
        return RESULT_FAIL;
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

/* Hands a webhook transfer to curl, timestamped and signed for the second
 * it leaves: a transfer that waited for its receiver, perhaps for minutes,
 * is not refused by one that checks the timestamp's age. */
static void transfer_start(struct transfer *t) {
        struct dispatch *d = t->dispatch;
        int r;

        /* Admitted, or handed its receiver's place by the one before it. */
        t->host_state = t->host ? HOST_ACTIVE : HOST_NONE;
        r = webhook_stamp(d->config, t->job, d->ops->now(d->userdata));
        if (r >= 0 && (r > 0 || !t->headers)) {
                curl_slist_free_all(t->headers);
                t->headers = NULL;
                r = webhook_setup_easy(t->easy, webhook_find(d->config, t->job), t->job, &t->headers);
        }
        if (r < 0) {
                job_set_result(t->job, RESULT_RETRY, r == -ENOMEM ? "out of memory" : "cannot prepare the request");
                transfer_finish(t);
                return;
        }
        r = curl_event_add(d->webhooks, t->easy);
        if (r < 0) {
                job_set_result(t->job, RESULT_RETRY, r == -ENOMEM ? "out of memory" : "cannot start a transfer");
                transfer_finish(t);
        }
}

/* Releases what a transfer holds, and hands back its job; a webhook's
 * place goes to the next transfer waiting for the same receiver, returned
 * in *ret_next. */
static struct job *transfer_free(struct transfer *t, struct transfer **ret_next) {
        struct dispatch *d = t->dispatch;
        struct job *j = t->job;
        struct transfer *next = NULL;

        transfer_unlink(t);
        if (t->host_state == HOST_WAITING)
                (void) hostqueue_forget(d->hosts, t->host, t);
        else if (t->host_state == HOST_ACTIVE)
                next = hostqueue_release(d->hosts, t->host);
        if (t->easy) {
                curl_multi_remove_handle(curl_event_multi(d->webhooks), t->easy);
                curl_easy_cleanup(t->easy);
        }
        curl_slist_free_all(t->headers);
        free(t->host);
        free(t);
        if (ret_next)
                *ret_next = next;
        else if (next)
                next->host_state = HOST_ACTIVE;
        return j;
}

/* Ends a transfer and returns its job to the submitter. */
static void transfer_finish(struct transfer *t) {
        struct dispatch *d = t->dispatch;
        struct transfer *next = NULL;

        d->ops->done(transfer_free(t, &next), d->userdata);
        /* When everything is being stopped, the next one is stopped too,
         * by the caller's loop, rather than started. */
        if (next && !d->aborting)
                transfer_start(next);
        else if (next)
                next->host_state = HOST_ACTIVE;
}

static size_t on_write(char *buf, size_t size, size_t nmemb, void *userdata) {
        struct transfer *t = userdata;
        size_t n = size * nmemb;

        if (t->body_len < WEBHOOK_REPLY_KEEP) {
                size_t k = MIN(n, WEBHOOK_REPLY_KEEP - t->body_len);
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
static void on_mail_refused(struct smtp_message *m, size_t rcpt, int code, const char *reply) {
        struct transfer *t = m->userdata;
        struct job *j = t->job;
        enum result_kind kind = smtp_reply_result(code) == RESULT_FAIL ? RESULT_FAIL : RESULT_RETRY;
        char err[SMTP_REPLY_MAX + 300];
        int64_t task = 0;

        snprintf(err, sizeof err, "<%s>: %s", j->rcpt[rcpt], reply);
        for (size_t i = 0; i < j->n_rows; i++)
                if (job_rcpt_in_row(j, rcpt, i)) {
                        job_set_row_result(j, i, kind, err);
                        task = task ?: j->rows[i].task_id;
                }
        j->rcpt_refused[rcpt] = true;
        log_warning("SMTP server refused recipient %s of task %lld: %s", j->rcpt[rcpt], (long long) task, reply);
}

static void on_mail_done(struct smtp_message *m, enum result_kind kind, const char *detail) {
        struct transfer *t = m->userdata;
        struct job *j = t->job;

        /* Rows whose recipients were refused already have their result;
         * the rest share the message's. Cancelled under way: left
         * unsettled, to be put back with the attempt counted; never
         * started (RESULT_UNSENT): put back as it was. */
        if (kind != RESULT_NONE)
                for (size_t i = 0; i < j->n_rows; i++)
                        if (j->rows[i].result == RESULT_NONE)
                                job_set_row_result(j, i, kind, kind == RESULT_SENT ? NULL : detail);
        /* The recipients not refused have it now, whatever became of the
         * others of their agency. */
        j->data_accepted = kind == RESULT_SENT;
        transfer_finish(t);
}

static const struct smtp_client_ops mail_ops = {
        .refused = on_mail_refused,
        .done = on_mail_done,
};

/* The receiver a webhook transfer waits for; its request is set up when
 * it starts (transfer_start()). */
static int setup_webhook(struct dispatch *d, struct transfer *t) {
        const struct webhook *w = webhook_find(d->config, t->job);
        char host[URL_HOST_KEY_MAX];

        /* The configuration knows its receivers; a job whose webhook a
         * reload removed or changed still has its URL. */
        const char *key = w && streq(w->url, t->job->url) ? w->host : NULL;
        if (!key) {
                url_host_key(t->job->url, host);
                key = host;
        }
        t->host = strdup(key);
        if (!t->host)
                return -ENOMEM;
        curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
        return 0;
}

static void submit_email(struct dispatch *d, struct transfer *t) {
        struct job *j = t->job;

        if (!d->config->has_smtp) {
                job_set_result(j, RESULT_RETRY, "no smtp settings in the configuration");
                transfer_finish(t);
                return;
        }
        t->mail = (struct smtp_message) {
                .mail_from = j->mail_from,
                .rcpt = j->rcpt,
                .n_rcpt = j->n_rcpt,
                .data = j->data,
                .size = j->size,
                .userdata = t,
        };
        smtp_client_submit(d->smtp, &t->mail);
}

static void submit_webhook(struct dispatch *d, struct transfer *t) {
        struct job *j = t->job;
        int r;

        t->easy = curl_easy_init();
        if (!t->easy) {
                job_set_result(j, RESULT_RETRY, "cannot start a transfer");
                transfer_finish(t);
                return;
        }
        curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
        curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
        curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
        r = setup_webhook(d, t);
        if (r < 0) {
                job_set_result(j, RESULT_RETRY, r == -ENOMEM ? "out of memory" : "cannot prepare the request");
                transfer_finish(t);
                return;
        }
        /* curl would queue the transfers beyond its per-host bound itself,
         * but with their timeouts running: behind a slow receiver they
         * would time out unsent. They wait here instead. */
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
        transfer_start(t);
}

void dispatch_submit(struct dispatch *d, struct job *j) {
        struct transfer *t = calloc(1, sizeof *t);

        if (!t) {
                job_set_result(j, RESULT_RETRY, "out of memory");
                d->ops->done(j, d->userdata);
                return;
        }
        *t = (struct transfer) { .dispatch = d, .job = j, .next = d->transfers };
        if (d->transfers)
                d->transfers->prev = t;
        d->transfers = t;
        d->n++;
        if (j->channel == CHANNEL_EMAIL)
                submit_email(d, t);
        else
                submit_webhook(d, t);
}

static void finish_webhook(struct transfer *t, CURLcode code) {
        struct job *j = t->job;
        const struct webhook *w = webhook_find(t->dispatch->config, j);
        long status = 0;
        char err[CURL_ERROR_SIZE + 300];

        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && status > 0)) {
                snprintf(err, sizeof err, "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(code));
                webhook_mask_secret(w, err);
                job_set_result(j, RESULT_RETRY, err);
                return;
        }
        enum result_kind kind = http_status_result(status);
        if (kind == RESULT_SENT) {
                job_set_result(j, RESULT_SENT, NULL);
                return;
        }
        int64_t body_after = webhook_reply_retry_after(w, t->body);
        for (char *p = t->body; *p; p++)
                if ((unsigned char) *p < 0x20)
                        *p = ' ';
        snprintf(err, sizeof err, "HTTP %ld%s%s", status, t->body_len ? ": " : "", t->body);
        webhook_mask_secret(w, err);
        job_set_result(j, kind, err);
        if (kind == RESULT_RETRY) {
                curl_off_t after = 0;
                if (curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &after) != CURLE_OK || after <= 0)
                        after = (curl_off_t) body_after;
                if (after > 0)
                        for (size_t i = 0; i < j->n_rows; i++)
                                j->rows[i].retry_after = (int64_t) after;
        }
}

static void on_webhook_finished(struct curl_event *ce, CURL *easy, CURLcode result, void *userdata) {
        struct transfer *t = NULL;

        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &t);
        finish_webhook(t, result);
        transfer_finish(t);
}

int dispatch_new(sd_event *event, const struct dispatch_ops *ops, void *userdata, struct dispatch **ret) {
        struct dispatch *d = calloc(1, sizeof *d);
        int r;

        if (!d)
                return -ENOMEM;
        d->event = sd_event_ref(event);
        d->ops = ops;
        d->userdata = userdata;
        r = hostqueue_new(WEBHOOK_PER_HOST, &d->hosts);
        if (r >= 0)
                r = curl_event_new(event, "webhook", on_webhook_finished, d, &d->webhooks);
        if (r >= 0)
                r = smtp_client_new(event, &mail_ops, &d->smtp);
        if (r < 0) {
                dispatch_free(d);
                return r;
        }
        *ret = d;
        return 0;
}

void dispatch_reconfigure(struct dispatch *d, const struct config *c) {
        CURLM *multi = curl_event_multi(d->webhooks);

        d->config = c;
        smtp_client_configure(d->smtp, c->has_smtp ? &c->smtp : NULL);
        /* The per-host bound keeps one slow webhook receiver from taking
         * every connection. */
        curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long) WEBHOOK_CONNECTIONS);
        curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) WEBHOOK_PER_HOST);
        curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long) WEBHOOK_CONNECTIONS);
}

void dispatch_stop(struct dispatch *d) {
        if (!d)
                return;
        smtp_client_cancel_waiting(d->smtp);
        /* Webhooks waiting for their receiver have not started either. */
        for (struct transfer *t = d->transfers, *next; t; t = next) {
                next = t->next;
                if (t->host_state == HOST_WAITING) {
                        job_set_result(t->job, RESULT_UNSENT, NULL);
                        transfer_finish(t);
                }
        }
}

void dispatch_abort_all(struct dispatch *d) {
        if (!d)
                return;
        /* E-mails come back through on_mail_done(), unsettled. */
        smtp_client_cancel_all(d->smtp);
        d->aborting = true;
        while (d->transfers)
                transfer_finish(d->transfers);
        d->aborting = false;
}

static const struct webhook *channel_webhook(const struct config *c, const char *agency, const char *channel) {
        const struct agency *a = config_find_agency(c, agency);
        char *end;
        unsigned long i;

        if (!a || strncmp(channel, "webhook:", strlen("webhook:")) != 0)
                return NULL;
        i = strtoul(channel + strlen("webhook:"), &end, 10);
        return *end == 0 && i < a->n_webhooks ? &a->webhooks[i] : NULL;
}

/* A receiver's share of the claimed jobs: at least a few beyond those
 * it has under way. */
static size_t host_share(const struct dispatch *d, const char *host) {
        size_t n = hostqueue_n_loaded(d->hosts) + (hostqueue_load(d->hosts, host) == 0);
        return MAX(DISPATCH_HOST_CLAIMED / MAX(n, (size_t) 1), (size_t) 2 * WEBHOOK_PER_HOST);
}

static bool admit(void *userdata, const char *agency, const char *channel) {
        struct dispatch *d = userdata;
        const struct webhook *w = channel_webhook(d->config, agency, channel);

        /* E-mail waits for the mail server's connections, which every
         * message shares alike. */
        if (!w || !w->host)
                return true;
        return hostqueue_reserve(d->hosts, w->host, host_share(d, w->host)) > 0;
}

int dispatch_claim_filter(struct dispatch *d, struct claim_filter *ret) {
        _cleanup_free_ struct delivery_receiver *busy = NULL;
        _cleanup_free_ char (*channels)[32] = NULL;
        size_t n = 0, n_webhooks = 0;
        int r;

        *ret = (struct claim_filter) { .admit = admit, .userdata = d };
        for (size_t i = 0; i < d->config->n_agencies; i++)
                n_webhooks += d->config->agencies[i].n_webhooks;
        for (size_t i = 0; i < d->config->n_agencies; i++) {
                const struct agency *a = &d->config->agencies[i];
                for (size_t k = 0; k < a->n_webhooks; k++) {
                        const char *host = a->webhooks[k].host;
                        if (!host || hostqueue_load(d->hosts, host) < host_share(d, host))
                                continue;
                        if (!busy) {
                                busy = calloc(n_webhooks, sizeof *busy);
                                channels = calloc(n_webhooks, sizeof *channels);
                                if (!busy || !channels)
                                        return -ENOMEM;
                        }
                        snprintf(channels[n], sizeof channels[n], "webhook:%zu", k);
                        busy[n] = (struct delivery_receiver) { .agency = a->id, .channel = channels[n] };
                        n++;
                }
        }
        /* A copy of its own, which the manager may keep past a reload of
         * the configuration. */
        r = delivery_receivers_dup(busy, n, &ret->busy);
        if (r < 0)
                return r;
        ret->n_busy = n;
        return 0;
}

/* The room each receiver's host had when the filter was made, for a
 * claim on another thread (the store thread), which must not touch the
 * host queues the loop keeps: its admissions count down this copy. */
struct host_room {
        const char *host;
        size_t room;
};

struct room_snapshot {
        const struct config *config;
        size_t n;
        struct host_room hosts[];
};

static bool admit_snapshot(void *userdata, const char *agency, const char *channel) {
        struct room_snapshot *s = userdata;
        const struct webhook *w = channel_webhook(s->config, agency, channel);

        if (!w || !w->host)
                return true;
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->hosts[i].host, w->host)) {
                        if (s->hosts[i].room == 0)
                                return false;
                        s->hosts[i].room--;
                        return true;
                }
        return true;
}

int dispatch_claim_filter_detached(struct dispatch *d, struct claim_filter *ret) {
        struct room_snapshot *s;
        size_t n_webhooks = 0;
        int r;

        r = dispatch_claim_filter(d, ret);
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->config->n_agencies; i++)
                n_webhooks += d->config->agencies[i].n_webhooks;
        s = calloc(1, sizeof *s + n_webhooks * sizeof s->hosts[0]);
        if (!s) {
                dispatch_claim_done(d, ret);
                return -ENOMEM;
        }
        s->config = d->config;
        for (size_t i = 0; i < d->config->n_agencies; i++)
                for (size_t k = 0; k < d->config->agencies[i].n_webhooks; k++) {
                        const char *host = d->config->agencies[i].webhooks[k].host;
                        size_t j, share, load;

                        if (!host)
                                continue;
                        for (j = 0; j < s->n && !streq(s->hosts[j].host, host); j++)
                                ;
                        if (j < s->n)
                                continue;
                        share = host_share(d, host);
                        load = hostqueue_load(d->hosts, host);
                        s->hosts[s->n++] = (struct host_room) { host, share > load ? share - load : 0 };
                }
        ret->admit = admit_snapshot;
        ret->userdata = s;
        return 0;
}

void dispatch_claim_done(struct dispatch *d, struct claim_filter *f) {
        if (f->admit == admit_snapshot) {
                f->userdata = mfree(f->userdata);
                f->admit = NULL;
        }
        hostqueue_unreserve(d->hosts);
        f->busy = mfree(f->busy);
        f->n_busy = 0;
}

size_t dispatch_in_flight(const struct dispatch *d) {
        return d ? d->n : 0;
}

struct dispatch *dispatch_free(struct dispatch *d) {
        if (!d)
                return NULL;
        /* The connections go first (the client calls back no more), then
         * the jobs still here are dropped: their rows stay "attempting",
         * which the next start puts back. */
        d->smtp = smtp_client_free(d->smtp);
        while (d->transfers)
                job_free(transfer_free(d->transfers, NULL));
        d->webhooks = curl_event_free(d->webhooks);
        hostqueue_free(d->hosts);
        sd_event_unref(d->event);
        free(d);
        return NULL;
}
