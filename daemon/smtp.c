/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "smtp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dispatch.h"

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

static size_t on_read(char *buf, size_t size, size_t nmemb, void *userdata) {
        struct smtp_session *ss = userdata;
        size_t n = MIN(size * nmemb, ss->size - ss->offset);

        memcpy(buf, ss->data + ss->offset, n);
        ss->offset += n;
        return n;
}

/* Keeps one reply line as printable ASCII without its line end. */
static void keep_reply(struct smtp_session *ss, const char *data, size_t size) {
        size_t n = MIN(size, sizeof ss->reply - 1);

        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char) data[i];
                ss->reply[i] = ch < 0x20 || ch >= 0x7f ? ' ' : (char) ch;
        }
        while (n > 0 && ss->reply[n - 1] == ' ')
                n--;
        ss->reply[n] = 0;
}

static bool strcaseeq(const char *a, const char *b) {
        return strcasecmp(a, b) == 0;
}

static bool command_is(const char *data, size_t size, const char *cmd) {
        size_t n = strlen(cmd);
        return size >= n && strncasecmp(data, cmd, n) == 0;
}

/* Follows the dialogue. curl hands over each command it sends and each
 * reply line it reads as one call; the body goes as CURLINFO_DATA_OUT and
 * is ignored, and so is AUTH, whose line carries the credentials. */
static int on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *userdata) {
        struct smtp_session *ss = userdata;

        if (type == CURLINFO_HEADER_OUT) {
                size_t n = 0;
                while (n < size && n < sizeof ss->command - 1 && data[n] != ' ' && data[n] != '\r')
                        n++;
                memcpy(ss->command, data, n);
                ss->command[n] = 0;
                /* Recipients are sent in the order of the list. */
                if (command_is(data, size, "MAIL FROM:"))
                        ss->rcpt_sent = 0;
                if (command_is(data, size, "RCPT TO:"))
                        ss->current_rcpt = ss->rcpt_sent < ss->n_rcpt ? (ssize_t) ss->rcpt_sent++ : -1;
                else
                        ss->current_rcpt = -1;
                return 0;
        }
        if (type != CURLINFO_HEADER_IN || size < 3)
                return 0;
        /* "250-…" continues a multi-line reply; "250 …" ends it. */
        bool last = size < 4 || data[3] != '-';
        keep_reply(ss, data, size);
        if (last && ss->current_rcpt >= 0 && (data[0] == '4' || data[0] == '5') && ss->on_refused)
                ss->on_refused(ss, (size_t) ss->current_rcpt, ss->reply);
        if (last)
                ss->current_rcpt = -1;
        return 0;
}

int smtp_session_setup(struct smtp_session *ss, CURL *e, const struct smtp *s, const char *mail_from,
                       char *const *rcpt, size_t n_rcpt, const char *data, size_t size) {
        ss->data = data;
        ss->size = size;
        ss->offset = 0;
        ss->rcpt = rcpt;
        ss->n_rcpt = n_rcpt;
        ss->current_rcpt = -1;
        ss->rcpt_sent = 0;
        ss->reply[0] = 0;
        ss->command[0] = 0;
        ss->errbuf[0] = 0;
        for (size_t i = 0; i < n_rcpt; i++) {
                struct curl_slist *l = curl_slist_append(ss->rcpt_list, rcpt[i]);
                if (!l)
                        return -ENOMEM;
                ss->rcpt_list = l;
        }

        curl_easy_setopt(e, CURLOPT_URL, s->url);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        /* STARTTLS is required (and smtps:// is TLS from the first byte)
         * unless plain text was asked for explicitly. With CURLUSESSL_ALL a
         * server that does not offer STARTTLS, or refuses it, ends the
         * transaction before AUTH or MAIL FROM. */
        curl_easy_setopt(e, CURLOPT_USE_SSL, smtp_plaintext_allowed(s) ? (long) CURLUSESSL_NONE
                                                                         : (long) CURLUSESSL_ALL);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
        if (s->ca_file)
                curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
        if (s->username) {
                curl_easy_setopt(e, CURLOPT_USERNAME, s->username);
                curl_easy_setopt(e, CURLOPT_PASSWORD, strempty(s->password));
        }
        curl_easy_setopt(e, CURLOPT_MAIL_FROM, mail_from);
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT, ss->rcpt_list);
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t) size);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, ss);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long) s->connect_timeout);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, (long) s->timeout);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ss->errbuf);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
        curl_easy_setopt(e, CURLOPT_DEBUGDATA, ss);
        curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
        return 0;
}

void smtp_session_done(struct smtp_session *ss) {
        curl_slist_free_all(ss->rcpt_list);
        ss->rcpt_list = NULL;
}

enum result_kind smtp_session_result(const struct smtp_session *ss, CURL *e, CURLcode code, char *err,
                                     size_t size) {
        long reply = 0;
        bool refused = ss->reply[0] == '4' || ss->reply[0] == '5';

        if (code == CURLE_OK) {
                if (size > 0)
                        snprintf(err, size, "%s", ss->reply);
                return RESULT_SENT;
        }
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &reply);
        snprintf(err, size, "%s%s%s", ss->errbuf[0] ? ss->errbuf : curl_easy_strerror(code),
                 refused ? "; server said: " : "", refused ? ss->reply : "");

        /* Whether the message itself was refused: a 5xx to MAIL FROM, RCPT
         * TO (all recipients) or DATA (before or after the body). A 5xx to
         * the greeting, EHLO, STARTTLS or AUTH, or one that asks for
         * authentication (530, 534, 535, 538), is about this client's set-up
         * or the server's state, which an administrator can fix: retried,
         * and given up only after delivery.max_retry_age. */
        bool message_phase = strcaseeq(ss->command, "MAIL") || strcaseeq(ss->command, "RCPT") ||
                             strcaseeq(ss->command, "DATA");
        bool auth_reply = reply == 530 || reply == 534 || reply == 535 || reply == 538;
        if (smtp_reply_result(reply) == RESULT_FAIL && message_phase && !auth_reply &&
            code != CURLE_LOGIN_DENIED && code != CURLE_USE_SSL_FAILED)
                return RESULT_FAIL;
        return RESULT_RETRY;
}
