/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "smtp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "url.h"

/* curl keeps an idle connection for this long by default and would close
 * ours, which it believes idle while we use it: they live as long as we
 * want them to. */
#define SMTP_MAXAGE_CONN (24L * 3600L)

bool smtp_plaintext_allowed(const struct smtp *s) {
        return s->allow_plaintext && (s->allow_plaintext_remote || url_host_is_loopback(s->url));
}

enum result_kind smtp_reply_result(long code) {
        if (code >= 200 && code < 400)
                return RESULT_SENT;
        if (code >= 500 && code < 600)
                return RESULT_FAIL;
        /* 4xx, and no reply at all (a dropped connection), may pass. */
        return RESULT_RETRY;
}

enum result_kind smtp_message_result(int code) {
        if (code == 530 || code == 534 || code == 535 || code == 538)
                return RESULT_RETRY;
        return smtp_reply_result(code);
}

void smtp_text_clean(char *dst, size_t size, const char *src, size_t n) {
        size_t k = 0;

        if (size == 0)
                return;
        for (size_t i = 0; i < n && k < size - 1; i++) {
                unsigned char ch = (unsigned char) src[i];
                if (ch == '\r' || ch == '\n')
                        break;
                dst[k++] = ch < 0x20 || ch >= 0x7f ? ' ' : (char) ch;
        }
        while (k > 0 && dst[k - 1] == ' ')
                k--;
        dst[k] = 0;
}

/* Follows the connection phase: the last reply (for an error message) and
 * whether the last EHLO offered PIPELINING. Lines curl sends are ignored:
 * the AUTH line carries the credentials. */
static int on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *userdata) {
        struct smtp_greeting *g = userdata;

        if (type == CURLINFO_HEADER_OUT && size >= 4 &&
            (strncasecmp(data, "EHLO", 4) == 0 || strncasecmp(data, "HELO", 4) == 0))
                g->pipelining = false;
        if (type != CURLINFO_HEADER_IN || size < 3)
                return 0;
        smtp_text_clean(g->reply, sizeof g->reply, data, size);
        if (size >= 14 && strncmp(data, "250", 3) == 0 && strncasecmp(data + 4, "PIPELINING", 10) == 0 &&
            (size == 14 || data[14] == '\r' || data[14] == '\n' || data[14] == ' '))
                g->pipelining = true;
        return 0;
}

void smtp_connect_setup(CURL *e, const struct smtp *s, struct smtp_greeting *g) {
        *g = (struct smtp_greeting) {};
        curl_easy_setopt(e, CURLOPT_URL, s->url);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        /* STARTTLS is required (and smtps:// is TLS from the first byte)
         * unless plain text was asked for explicitly. With CURLUSESSL_ALL a
         * server that does not offer STARTTLS, or refuses it, ends the
         * connection before AUTH, and no message is ever given to it. */
        curl_easy_setopt(e, CURLOPT_USE_SSL,
                         smtp_plaintext_allowed(s) ? (long) CURLUSESSL_NONE : (long) CURLUSESSL_ALL);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
        if (s->ca_file)
                curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
        if (s->username) {
                curl_easy_setopt(e, CURLOPT_USERNAME, s->username);
                curl_easy_setopt(e, CURLOPT_PASSWORD, strempty(s->password));
        }
        curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
        curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, SMTP_MAXAGE_CONN);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long) s->connect_timeout);
        /* The whole connection phase, greeting to AUTH. */
        curl_easy_setopt(e, CURLOPT_TIMEOUT, (long) s->timeout);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, g->errbuf);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
        curl_easy_setopt(e, CURLOPT_DEBUGDATA, g);
        curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
}

void smtp_data_append(struct strbuf *out, const char *data, size_t size) {
        bool line_start = true;
        size_t i = 0;

        while (i < size) {
                /* Copy up to the next line end in one piece: the first CR
                 * or LF, found by memchr() rather than byte by byte. */
                const char *lf = memchr(data + i, '\n', size - i);
                size_t k = lf ? (size_t) (lf - data) : size;
                const char *cr = memchr(data + i, '\r', k - i);
                if (cr)
                        k = (size_t) (cr - data);
                if (line_start && k > i && data[i] == '.')
                        strbuf_putc(out, '.');
                strbuf_putn(out, data + i, k - i);
                if (k == size) {
                        line_start = false;
                        break;
                }
                /* CRLF, a lone LF or a lone CR: each ends one line. */
                strbuf_puts(out, "\r\n");
                i = k + (data[k] == '\r' && k + 1 < size && data[k + 1] == '\n' ? 2 : 1);
                line_start = true;
        }
        if (!line_start)
                strbuf_puts(out, "\r\n");
        strbuf_puts(out, ".\r\n");
}
