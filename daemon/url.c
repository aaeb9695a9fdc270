/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "url.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"

#define REDACTED "***"

/* For what curl cannot parse there is no telling where the user
 * information ends, so the widest reading is taken: up to the last '@'
 * anywhere after the scheme. A path or query with an '@' of its own loses
 * more than it must, which is harmless in a message. */
static const char *redact_text(const char *url, char *buf, size_t size) {
        const char *start = strstr(url, "://"), *at = strrchr(url, '@');

        start = start ? start + 3 : url;
        if (!at || at < start) {
                snprintf(buf, size, "%s", url);
                return buf;
        }
        snprintf(buf, size, "%.*s" REDACTED "%s", (int) (start - url), url, at);
        return buf;
}

const char *url_redact(const char *url, char *buf, size_t size) {
        CURLU *u;
        char *user = NULL, *password = NULL, *options = NULL, *out = NULL;
        bool secret;

        if (size == 0)
                return buf;
        if (!strchr(url, '@')) {
                snprintf(buf, size, "%s", url);
                return buf;
        }

        u = curl_url();
        if (!u || curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
                curl_url_cleanup(u);
                return redact_text(url, buf, size);
        }
        secret = curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK;
        secret |= curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK;
        secret |= curl_url_get(u, CURLUPART_OPTIONS, &options, 0) == CURLUE_OK;
        if (!secret)
                /* The '@' is in the path or query: the URL is shown as written. */
                snprintf(buf, size, "%s", url);
        else if (curl_url_set(u, CURLUPART_USER, REDACTED, 0) == CURLUE_OK &&
                 curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
                 curl_url_set(u, CURLUPART_OPTIONS, NULL, 0) == CURLUE_OK &&
                 curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK)
                snprintf(buf, size, "%s", out);
        else
                redact_text(url, buf, size);
        curl_free(user);
        curl_free(password);
        curl_free(options);
        curl_free(out);
        curl_url_cleanup(u);
        return buf;
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

void url_host_key(const char *url, char buf[static URL_HOST_KEY_MAX]) {
        CURLU *u = curl_url();
        char *scheme = NULL, *host = NULL, *port = NULL;

        if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
                snprintf(buf, URL_HOST_KEY_MAX, "%s://%s:%s", scheme, host, port);
        else
                snprintf(buf, URL_HOST_KEY_MAX, "%s", url);
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
        curl_url_cleanup(u);
}
