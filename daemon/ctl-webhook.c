/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl send-test --channel webhook: one test message to each of an
 * agency's webhooks, sent at once and waited for, with the daemon's own
 * request (webhook.c), so that what works here works for reminders. */

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "ctl.h"
#include "job.h"
#include "url.h"
#include "webhook.h"

struct reply {
        char text[WEBHOOK_REPLY_KEEP + 1];
        size_t len;
};

static size_t on_write(char *buf, size_t size, size_t nmemb, void *userdata) {
        struct reply *r = userdata;
        size_t n = size * nmemb, k = MIN(n, WEBHOOK_REPLY_KEEP - r->len);

        memcpy(r->text + r->len, buf, k);
        r->len += k;
        r->text[r->len] = 0;
        return n;
}

/* A test has no delivery row to name it: a random id, so that a receiver
 * that deduplicates does not drop the second test. */
static int test_id(char buf[static WEBHOOK_ID_MAX]) {
        uint8_t b[8];

        if (getrandom(b, sizeof b, 0) != (ssize_t) sizeof b)
                return -errno_or(EIO);
        snprintf(buf, WEBHOOK_ID_MAX, "deadlined-test-%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
                 b[4], b[5], b[6], b[7]);
        return 0;
}

/* Sends one test; returns the HTTP status, or 0 with `error` set when
 * there was no answer. */
static int send_one(struct ctl *c, const struct agency *a, size_t index, char id[static WEBHOOK_ID_MAX],
                    long *ret_status, char *error, size_t error_size, struct reply *reply) {
        struct job j = { .channel = CHANNEL_WEBHOOK, .webhook_index = index, .agency = a->id };
        char errbuf[CURL_ERROR_SIZE] = "";
        struct curl_slist *headers = NULL;
        CURL *e = NULL;
        CURLcode code;
        int r;

        r = test_id(id);
        if (r >= 0)
                r = webhook_compose_test(c->config, &j, id, c->now);
        if (r < 0) {
                snprintf(error, error_size, "cannot build the test message: %s", strerror(-r));
                goto finish;
        }
        e = curl_easy_init();
        if (!e) {
                r = -ENOMEM;
                snprintf(error, error_size, "cannot start a transfer");
                goto finish;
        }
        r = webhook_setup_easy(e, &a->webhooks[index], &j, &headers);
        if (r < 0) {
                snprintf(error, error_size, "cannot set up the request: %s",
                         r == -ENOKEY ? "the bot token is not readable here" : strerror(-r));
                goto finish;
        }
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, reply);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        code = curl_easy_perform(e);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, ret_status);
        if (code != CURLE_OK) {
                *ret_status = 0;
                snprintf(error, error_size, "%s", errbuf[0] ? errbuf : curl_easy_strerror(code));
        }
        r = 0;
finish:
        curl_slist_free_all(headers);
        curl_easy_cleanup(e);
        free(j.url);
        strv_free(j.headers);
        free(j.body);
        return r;
}

int ctl_send_test_webhook(struct ctl *c, const struct agency *a) {
        json_t *results = c->json ? json_array() : NULL;
        bool all_ok = true;

        if (a->n_webhooks == 0)
                return ctl_fail(c, EX_CONFIG, "agency %s has no webhook in %s", a->id, c->config->path);
        if (c->json && !results)
                return ctl_print_json(c, NULL);

        for (size_t i = 0; i < a->n_webhooks; i++) {
                const struct webhook *w = &a->webhooks[i];
                char id[WEBHOOK_ID_MAX] = "", error[CURL_ERROR_SIZE + 64] = "", url[2048];
                struct reply reply = {};
                long status = 0;
                int r;

                r = send_one(c, a, i, id, &status, error, sizeof error, &reply);
                bool ok = r >= 0 && status >= 200 && status < 300;
                all_ok = all_ok && ok;
                webhook_reply_sanitize(reply.text);
                url_redact(w->url, url, sizeof url);
                if (r >= 0 && status > 0 && !ok)
                        snprintf(error, sizeof error, "HTTP %ld%s%s", status, reply.len ? ": " : "", reply.text);
                webhook_mask_secret(w, error);

                if (results) {
                        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:b}", "webhook", (json_int_t) i, "url",
                                              url, "format", webhook_format_to_string(w->format), "id", id,
                                              "ok", ok);
                        if (o && status > 0)
                                json_object_set_new(o, "status", json_integer(status));
                        if (o && !ok)
                                json_object_set_new(o, "error", json_string(error));
                        if (!o || json_array_append_new(results, o) < 0) {
                                json_decref(results);
                                return ctl_print_json(c, NULL);
                        }
                } else if (ok)
                        printf("%s webhook[%zu] (%s, %s): sent, HTTP %ld, webhook-id %s\n", a->id, i, url,
                               webhook_format_to_string(w->format), status, id);
                else
                        printf("%s webhook[%zu] (%s, %s): not sent: %s\n", a->id, i, url,
                               webhook_format_to_string(w->format), error);
        }
        if (results) {
                int r = ctl_print_json(c, json_pack("{s:s, s:s, s:o}", "agency", a->id, "channel", "webhook",
                                                    "results", results));
                if (r != 0)
                        return r;
        }
        return all_ok ? 0 : EX_UNAVAILABLE;
}
