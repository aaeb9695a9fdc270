/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ceiling of deadlined's HTTP path with none of its own work: N POSTs
 * of one prebuilt body and header set through the daemon's curl_event
 * (libcurl's multi interface on sd-event), `conns` at a time on kept-alive
 * connections, each easy handle set up as the daemon sets up its own.
 * Prints "requests=N seconds=S". Used by bench-webhook.py.
 *
 *   bench-curl-multi URL BODY_FILE HEADERS_FILE N CONNS */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "curl-event.h"

struct bench {
        const char *url;
        char *body;
        size_t body_size;
        struct curl_slist *headers;
        unsigned long started, finished, failed, total;
        struct curl_event *ce;
        sd_event *event;
};

static size_t discard(char *buf, size_t size, size_t nmemb, void *userdata) {
        return size * nmemb;
}

static int start_one(struct bench *b) {
        CURL *e = curl_easy_init();

        if (!e)
                return -ENOMEM;
        curl_easy_setopt(e, CURLOPT_URL, b->url);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, b->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) b->body_size);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, b->headers);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, 15L);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        b->started++;
        return curl_event_add(b->ce, e);
}

static void on_finished(struct curl_event *ce, CURL *easy, CURLcode result, void *userdata) {
        struct bench *b = userdata;
        long status = 0;

        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        if (result != CURLE_OK || status < 200 || status >= 300)
                b->failed++;
        curl_multi_remove_handle(curl_event_multi(ce), easy);
        curl_easy_cleanup(easy);
        b->finished++;
        if (b->started < b->total && start_one(b) < 0)
                b->failed++;
        if (b->finished == b->total)
                (void) sd_event_exit(b->event, 0);
}

static char *read_file(const char *path, size_t *ret_size) {
        FILE *f = fopen(path, "rb");
        char *s = NULL;
        long n;

        if (!f)
                return NULL;
        if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
            (s = calloc(1, (size_t) n + 1)) && fread(s, 1, (size_t) n, f) != (size_t) n) {
                free(s);
                s = NULL;
        }
        if (s)
                *ret_size = (size_t) n;
        fclose(f);
        return s;
}

int main(int argc, char *argv[]) {
        struct bench b = {};
        struct timespec t0, t1;
        size_t size;
        char *headers;
        unsigned long conns;

        if (argc != 6) {
                fprintf(stderr, "usage: %s URL BODY_FILE HEADERS_FILE N CONNS\n", argv[0]);
                return 64;
        }
        b.url = argv[1];
        b.total = strtoul(argv[4], NULL, 10);
        conns = strtoul(argv[5], NULL, 10);
        b.body = read_file(argv[2], &b.body_size);
        headers = read_file(argv[3], &size);
        if (!b.body || !headers || b.total == 0 || conns == 0) {
                fprintf(stderr, "%s: cannot read %s or %s, or bad N or CONNS\n", argv[0], argv[2], argv[3]);
                return 66;
        }
        for (char *line = strtok(headers, "\n"); line; line = strtok(NULL, "\n"))
                b.headers = curl_slist_append(b.headers, line);
        b.headers = curl_slist_append(b.headers, "Expect:");

        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (sd_event_new(&b.event) < 0 || curl_event_new(b.event, "bench", on_finished, &b, &b.ce) < 0)
                return 71;
        curl_multi_setopt(curl_event_multi(b.ce), CURLMOPT_MAX_HOST_CONNECTIONS, (long) conns);
        curl_multi_setopt(curl_event_multi(b.ce), CURLMOPT_MAXCONNECTS, (long) conns);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (unsigned long i = 0; i < conns && i < b.total; i++)
                if (start_one(&b) < 0)
                        return 71;
        if (sd_event_loop(b.event) < 0)
                return 70;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("requests=%lu failed=%lu seconds=%.6f\n", b.finished, b.failed,
               (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
        curl_event_free(b.ce);
        sd_event_unref(b.event);
        curl_slist_free_all(b.headers);
        free(b.body);
        free(headers);
        return b.failed ? 69 : 0;
}
