/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "imap.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "curl-event.h"
#include "log.h"
#include "smtp.h"
#include "strbuf.h"

#define DETAIL_MAX 512
/* What a response may hold besides a message's literal. */
#define RESPONSE_SLACK (256u * 1024u)
#define READ_CHUNK (64u * 1024u)

enum poll_state {
        POLL_CONNECTING,
        POLL_EXAMINE,
        POLL_SEARCH,
        POLL_SIZES,
        POLL_FETCH,
        POLL_DONE,
};

struct imap_poll {
        sd_event *event;
        const struct inbox *inbox;
        const struct imap_ops *ops;
        void *userdata;
        enum poll_state state;
        struct curl_event *curl;
        CURL *easy;
        curl_socket_t fd;
        sd_event_source *io, *timer, *finisher;
        char errbuf[CURL_ERROR_SIZE];
        char last_reply[256];       /* the connection phase's last line, for messages */

        char *in;                   /* what the server sent, not yet handled */
        size_t in_len, in_cap;
        struct strbuf out;
        size_t out_off;
        unsigned tag;               /* of the command under way */

        uint64_t uidvalidity, last;
        uint64_t *uids;             /* UID SEARCH's answer above `last`, sorted */
        uint64_t *sizes;            /* RFC822.SIZE of each, UINT64_MAX: not known */
        size_t n_uids, next;
        bool got_body;
        size_t handed;

        int result;
        char detail[DETAIL_MAX];
};

/* --- pure parts ------------------------------------------------------------ */

int imap_mailbox_quoted(const char *url, char **ret) {
        _cleanup_free_ char *path = NULL;
        struct strbuf b = STRBUF_INIT(4096);
        const char *name;
        CURLU *u = curl_url();

        if (!u)
                return -ENOMEM;
        if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK) {
                curl_url_cleanup(u);
                return -EINVAL;
        }
        curl_url_cleanup(u);
        name = path;
        while (*name == '/')
                name++;
        if (!*name)
                name = "INBOX";
        strbuf_putc(&b, '"');
        for (const char *c = name; *c; c++) {
                if (*c == '\r' || *c == '\n' || *c == 0) {
                        strbuf_done(&b);
                        return -EINVAL;
                }
                if (*c == '"' || *c == '\\')
                        strbuf_putc(&b, '\\');
                strbuf_putc(&b, *c);
        }
        strbuf_putc(&b, '"');
        return strbuf_steal(&b, ret, NULL);
}

ssize_t imap_response_length(const char *buf, size_t len, size_t max_literal, size_t *ret_lit,
                             size_t *ret_lit_len) {
        size_t pos = 0;

        *ret_lit = *ret_lit_len = 0;
        for (;;) {
                const char *nl = memchr(buf + pos, '\n', len - pos);
                size_t end, k;
                uint64_t n = 0;

                if (!nl)
                        return 0;
                end = (size_t) (nl - buf);              /* the '\n' */
                k = end;
                if (k > pos && buf[k - 1] == '\r')
                        k--;
                /* A line that ends in "{N}" announces N bytes of literal. */
                if (k > pos && buf[k - 1] == '}') {
                        size_t d = k - 1;
                        while (d > pos && buf[d - 1] >= '0' && buf[d - 1] <= '9')
                                d--;
                        if (d > pos && d < k - 1 && buf[d - 1] == '{') {
                                for (size_t i = d; i < k - 1; i++) {
                                        n = n * 10 + (uint64_t) (buf[i] - '0');
                                        if (n > max_literal)
                                                return -EBADMSG;
                                }
                                if (len - (end + 1) < n)
                                        return 0;
                                if (*ret_lit_len == 0 && *ret_lit == 0) {
                                        *ret_lit = end + 1;
                                        *ret_lit_len = (size_t) n;
                                }
                                pos = end + 1 + (size_t) n;
                                continue;
                        }
                }
                return (ssize_t) (end + 1);
        }
}

/* --- the poll ---------------------------------------------------------------- */

static void poll_finish(struct imap_poll *p, int r, const char *format, ...) _printf_(3, 4);
static void poll_finish(struct imap_poll *p, int r, const char *format, ...) {
        if (p->state == POLL_DONE)
                return;
        if (r < 0 && p->state > POLL_CONNECTING && p->fd != CURL_SOCKET_BAD) {
                /* Best effort, not waited for. */
                size_t n;
                (void) curl_easy_send(p->easy, "Z LOGOUT\r\n", 10, &n);
        }
        p->state = POLL_DONE;
        p->result = r;
        if (format) {
                va_list ap;
                va_start(ap, format);
                vsnprintf(p->detail, sizeof p->detail, format, ap);
                va_end(ap);
        }
        if (p->fd != CURL_SOCKET_BAD)
                (void) shutdown(p->fd, SHUT_RDWR);
        (void) sd_event_source_set_enabled(p->io, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(p->finisher, SD_EVENT_ONESHOT);
}

static int on_finisher(sd_event_source *s, void *userdata) {
        struct imap_poll *p = userdata;

        /* From the loop, outside curl's and the socket's callbacks, so that
         * the owner may free the poll. */
        p->ops->done(p->result, p->detail, p->handed, p->userdata);
        return 0;
}

static void poll_flush(struct imap_poll *p) {
        while (p->out_off < p->out.len) {
                size_t n = 0;
                CURLcode r = curl_easy_send(p->easy, p->out.data + p->out_off, p->out.len - p->out_off, &n);
                if (r == CURLE_AGAIN)
                        break;
                if (r != CURLE_OK) {
                        poll_finish(p, -EIO, "IMAP connection lost: %s", curl_easy_strerror(r));
                        return;
                }
                p->out_off += n;
        }
        if (p->out_off == p->out.len)
                p->out.len = p->out_off = 0;
        (void) sd_event_source_set_io_events(p->io, EPOLLIN | (p->out.len > 0 ? EPOLLOUT : 0));
}

static void poll_send(struct imap_poll *p, const char *format, ...) _printf_(2, 3);
static void poll_send(struct imap_poll *p, const char *format, ...) {
        _cleanup_free_ char *line = NULL;
        va_list ap;
        int r;

        p->tag++;
        va_start(ap, format);
        r = vasprintf(&line, format, ap);
        va_end(ap);
        if (r < 0) {
                line = NULL;
                poll_finish(p, -ENOMEM, "out of memory");
                return;
        }
        strbuf_printf(&p->out, "D%u %s\r\n", p->tag, line);
        if (p->out.error < 0) {
                poll_finish(p, p->out.error, "out of memory");
                return;
        }
        poll_flush(p);
}

/* Reads a number at *s (advancing it); false when there is none. */
static bool read_u64(const char **s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (**s < '0' || **s > '9')
                return false;
        errno = 0;
        v = strtoull(*s, &end, 10);
        if (errno != 0)
                return false;
        *s = end;
        *ret = v;
        return true;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

/* The value of item `name` ("UID", "RFC822.SIZE") in a FETCH line. */
static bool fetch_item(const char *line, size_t len, const char *name, uint64_t *ret) {
        size_t l = strlen(name);

        for (size_t i = 0; i + l + 1 < len; i++) {
                if ((line[i] == '(' || line[i] == ' ') && strncasecmp(line + i + 1, name, l) == 0 &&
                    line[i + 1 + l] == ' ') {
                        const char *s = line + i + l + 2;
                        return read_u64(&s, ret);
                }
        }
        return false;
}

static void poll_next_message(struct imap_poll *p);

static void poll_sizes(struct imap_poll *p) {
        struct strbuf set = STRBUF_INIT(64 * 1024);

        for (size_t i = 0; i < p->n_uids; i++)
                strbuf_printf(&set, "%s%" PRIu64, i ? "," : "", p->uids[i]);
        if (set.error < 0) {
                strbuf_done(&set);
                poll_finish(p, -ENOMEM, "out of memory");
                return;
        }
        p->state = POLL_SIZES;
        poll_send(p, "UID FETCH %s (UID RFC822.SIZE)", set.data);
        strbuf_done(&set);
}

static void poll_next_message(struct imap_poll *p) {
        while (p->next < p->n_uids && p->state != POLL_DONE) {
                size_t i = p->next;
                if (p->sizes[i] != UINT64_MAX && p->sizes[i] <= (uint64_t) p->inbox->max_size) {
                        p->state = POLL_FETCH;
                        p->got_body = false;
                        poll_send(p, "UID FETCH %" PRIu64 " (UID BODY.PEEK[])", p->uids[i]);
                        return;
                }
                p->next++;
                if (p->sizes[i] == UINT64_MAX)
                        continue;   /* expunged meanwhile */
                int r = p->ops->too_large(p->uidvalidity, p->uids[i], p->sizes[i], p->userdata);
                if (r < 0) {
                        poll_finish(p, r, "could not record message UID %" PRIu64, p->uids[i]);
                        return;
                }
                p->handed++;
        }
        if (p->state != POLL_DONE) {
                /* Politely, without waiting for the answer. */
                poll_send(p, "LOGOUT");
                poll_finish(p, 0, NULL);
        }
}

static void poll_untagged(struct imap_poll *p, const char *line, size_t len, const char *lit, size_t lit_len) {
        uint64_t v;

        if (p->state == POLL_EXAMINE) {
                const char *s = strcasestr(line, "[UIDVALIDITY ");
                if (s && (size_t) (s - line) < len) {
                        s += strlen("[UIDVALIDITY ");
                        if (read_u64(&s, &v))
                                p->uidvalidity = v;
                }
        } else if (p->state == POLL_SEARCH && len >= 9 && strncasecmp(line, "* SEARCH", 8) == 0) {
                const char *s = line + 8, *end = line + len;
                while (s < end && p->n_uids < IMAP_POLL_MAX_MESSAGES) {
                        while (s < end && *s == ' ')
                                s++;
                        if (!read_u64(&s, &v))
                                break;
                        /* "N:*" also names the last message when none is above N. */
                        if (v > p->last) {
                                uint64_t *n = reallocarray(p->uids, p->n_uids + 1, sizeof *n);
                                if (!n) {
                                        poll_finish(p, -ENOMEM, "out of memory");
                                        return;
                                }
                                p->uids = n;
                                p->uids[p->n_uids++] = v;
                        }
                }
        } else if (p->state == POLL_SIZES && strcasestr(line, " FETCH ")) {
                uint64_t uid, size;
                if (fetch_item(line, len, "UID", &uid) && fetch_item(line, len, "RFC822.SIZE", &size))
                        for (size_t i = 0; i < p->n_uids; i++)
                                if (p->uids[i] == uid)
                                        p->sizes[i] = size;
        } else if (p->state == POLL_FETCH && lit && strcasestr(line, " FETCH ") && strcasestr(line, "BODY[]")) {
                uint64_t uid = p->uids[p->next];
                int r;

                if (fetch_item(line, len, "UID", &v) && v != uid)
                        return;
                p->got_body = true;
                r = p->ops->message(p->uidvalidity, uid, lit, lit_len, p->userdata);
                if (r < 0) {
                        poll_finish(p, r, "could not record message UID %" PRIu64, uid);
                        return;
                }
                p->handed++;
        }
}

static void poll_tagged(struct imap_poll *p, const char *status, const char *text) {
        static const char *const what[] = {
                [POLL_EXAMINE] = "EXAMINE", [POLL_SEARCH] = "UID SEARCH",
                [POLL_SIZES] = "UID FETCH", [POLL_FETCH] = "UID FETCH",
        };

        if (strncasecmp(status, "OK", 2) != 0) {
                poll_finish(p, -EIO, "IMAP %s refused: %s", what[p->state], text);
                return;
        }
        switch (p->state) {
        case POLL_EXAMINE: {
                int r;
                if (p->uidvalidity == 0) {
                        poll_finish(p, -EPROTO, "IMAP server gave no UIDVALIDITY for the mailbox");
                        return;
                }
                r = p->ops->last_uid(p->uidvalidity, &p->last, p->userdata);
                if (r < 0) {
                        poll_finish(p, r, "could not read the last message recorded");
                        return;
                }
                p->state = POLL_SEARCH;
                poll_send(p, "UID SEARCH UID %" PRIu64 ":*", p->last + 1);
                return;
        }
        case POLL_SEARCH:
                if (p->n_uids == 0) {
                        poll_next_message(p);
                        return;
                }
                qsort(p->uids, p->n_uids, sizeof *p->uids, cmp_u64);
                p->sizes = malloc(p->n_uids * sizeof *p->sizes);
                if (!p->sizes) {
                        poll_finish(p, -ENOMEM, "out of memory");
                        return;
                }
                for (size_t i = 0; i < p->n_uids; i++)
                        p->sizes[i] = UINT64_MAX;
                poll_sizes(p);
                return;
        case POLL_SIZES:
                poll_next_message(p);
                return;
        case POLL_FETCH:
                /* A message expunged meanwhile gives no body: skipped. */
                p->next++;
                poll_next_message(p);
                return;
        default:
                return;
        }
}

static void poll_response(struct imap_poll *p, const char *buf, size_t len, size_t lit, size_t lit_len) {
        _cleanup_free_ char *first = NULL;
        char line[DETAIL_MAX];
        size_t l = (size_t) ((const char *) memchr(buf, '\n', len) - buf);
        char tag[16];

        if (l > 0 && buf[l - 1] == '\r')
                l--;
        /* The first line on its own, NUL-terminated (a literal's bytes may
         * hold anything). */
        first = strndup(buf, l);
        if (!first) {
                poll_finish(p, -ENOMEM, "out of memory");
                return;
        }
        l = strlen(first);
        if (first[0] == '*') {
                poll_untagged(p, first, l, lit_len > 0 || lit > 0 ? buf + lit : NULL, lit_len);
                return;
        }
        snprintf(tag, sizeof tag, "D%u ", p->tag);
        if (l < strlen(tag) + 2 || strncmp(first, tag, strlen(tag)) != 0)
                return;
        smtp_text_clean(line, sizeof line, first + strlen(tag), l - strlen(tag));
        poll_tagged(p, line, line);
}

static void poll_parse(struct imap_poll *p) {
        size_t start = 0;

        while (p->state != POLL_DONE && start < p->in_len) {
                size_t lit, lit_len;
                ssize_t n = imap_response_length(p->in + start, p->in_len - start,
                                                 (size_t) p->inbox->max_size + RESPONSE_SLACK, &lit, &lit_len);
                if (n < 0) {
                        poll_finish(p, -EBADMSG, "IMAP server sent a literal larger than inbox.max_size");
                        return;
                }
                if (n == 0)
                        break;
                poll_response(p, p->in + start, (size_t) n, lit, lit_len);
                start += (size_t) n;
        }
        if (p->state == POLL_DONE)
                return;
        memmove(p->in, p->in + start, p->in_len - start);
        p->in_len -= start;
}

static void poll_read(struct imap_poll *p) {
        size_t max = (size_t) p->inbox->max_size + 2 * RESPONSE_SLACK;

        while (p->state != POLL_DONE) {
                size_t n = 0;
                CURLcode r;

                if (p->in_cap - p->in_len < READ_CHUNK) {
                        size_t cap = MAX(p->in_cap * 2, (size_t) 4 * READ_CHUNK);
                        char *in;
                        if (p->in_len + READ_CHUNK > max) {
                                poll_finish(p, -EBADMSG, "IMAP response larger than inbox.max_size");
                                return;
                        }
                        in = realloc(p->in, cap);
                        if (!in) {
                                poll_finish(p, -ENOMEM, "out of memory");
                                return;
                        }
                        p->in = in;
                        p->in_cap = cap;
                }
                r = curl_easy_recv(p->easy, p->in + p->in_len, p->in_cap - p->in_len, &n);
                if (r == CURLE_AGAIN)
                        return;
                if (r != CURLE_OK) {
                        poll_finish(p, -EIO, "IMAP connection lost: %s", curl_easy_strerror(r));
                        return;
                }
                if (n == 0) {
                        poll_finish(p, -EIO, "IMAP server closed the connection");
                        return;
                }
                p->in_len += n;
                (void) sd_event_source_set_time_relative(p->timer, (uint64_t) p->inbox->timeout * 1000000ULL);
                poll_parse(p);
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct imap_poll *p = userdata;

        if (revents & EPOLLOUT)
                poll_flush(p);
        if (p->state != POLL_DONE && (revents & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                poll_read(p);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct imap_poll *p = userdata;

        poll_finish(p, -ETIMEDOUT, "no answer from the IMAP server within %llus",
                    (unsigned long long) p->inbox->timeout);
        return 0;
}

/* Follows the connection phase for messages: the server's last line.
 * Lines curl sends are never kept: LOGIN carries the password. */
static int on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *userdata) {
        struct imap_poll *p = userdata;

        if (type == CURLINFO_HEADER_IN && size > 0)
                smtp_text_clean(p->last_reply, sizeof p->last_reply, data, size);
        return 0;
}

static void on_connected(struct curl_event *ce, CURL *easy, CURLcode result, void *userdata) {
        _cleanup_free_ char *mailbox = NULL;
        struct imap_poll *p = userdata;
        int r;

        if (p->state != POLL_CONNECTING)
                return;
        if (result == CURLE_OK && curl_easy_getinfo(easy, CURLINFO_ACTIVESOCKET, &p->fd) != CURLE_OK)
                result = CURLE_COULDNT_CONNECT;
        if (result != CURLE_OK) {
                p->fd = CURL_SOCKET_BAD;
                poll_finish(p, result == CURLE_LOGIN_DENIED ? -EACCES : -EIO, "IMAP connection failed: %s%s%s",
                            p->errbuf[0] ? p->errbuf : curl_easy_strerror(result),
                            p->last_reply[0] ? "; server said: " : "", p->last_reply);
                return;
        }
        r = sd_event_add_io(p->event, &p->io, p->fd, EPOLLIN, on_io, p);
        if (r < 0) {
                poll_finish(p, r, "cannot watch the IMAP connection: %s", strerror(-r));
                return;
        }
        (void) sd_event_source_set_description(p->io, "imap-io");
        r = imap_mailbox_quoted(p->inbox->url, &mailbox);
        if (r < 0) {
                poll_finish(p, r, "inbox.url names no mailbox");
                return;
        }
        p->state = POLL_EXAMINE;
        poll_send(p, "EXAMINE %s", mailbox);
}

int imap_poll_start(sd_event *event, const struct inbox *inbox, const struct imap_ops *ops, void *userdata,
                    struct imap_poll **ret) {
        _cleanup_(imap_poll_freep) struct imap_poll *p = calloc(1, sizeof *p);
        int r;

        if (!p)
                return -ENOMEM;
        p->event = sd_event_ref(event);
        p->inbox = inbox;
        p->ops = ops;
        p->userdata = userdata;
        p->fd = CURL_SOCKET_BAD;
        p->out = STRBUF_INIT(64 * 1024 + 1024);

        r = sd_event_add_defer(event, &p->finisher, on_finisher, p);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(p->finisher, SD_EVENT_OFF);
        (void) sd_event_source_set_description(p->finisher, "imap-done");
        r = sd_event_add_time_relative(event, &p->timer, CLOCK_MONOTONIC,
                                       (uint64_t) inbox->timeout * 1000000ULL, 0, on_timer, p);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(p->timer, "imap-timer");

        r = curl_event_new(event, "imap", on_connected, p, &p->curl);
        if (r < 0)
                return r;
        p->easy = curl_easy_init();
        if (!p->easy)
                return -ENOMEM;
        curl_easy_setopt(p->easy, CURLOPT_URL, inbox->url);
        curl_easy_setopt(p->easy, CURLOPT_PROTOCOLS_STR, "imap,imaps");
        /* imaps:// is TLS from the first byte; imap:// must offer STARTTLS,
         * or the connection ends before LOGIN. Always verified. */
        curl_easy_setopt(p->easy, CURLOPT_USE_SSL, (long) CURLUSESSL_ALL);
        curl_easy_setopt(p->easy, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(p->easy, CURLOPT_SSL_VERIFYHOST, 2L);
        if (inbox->ca_file)
                curl_easy_setopt(p->easy, CURLOPT_CAINFO, inbox->ca_file);
        curl_easy_setopt(p->easy, CURLOPT_USERNAME, strempty(inbox->username));
        curl_easy_setopt(p->easy, CURLOPT_PASSWORD, strempty(inbox->password));
        curl_easy_setopt(p->easy, CURLOPT_CONNECT_ONLY, 1L);
        curl_easy_setopt(p->easy, CURLOPT_CONNECTTIMEOUT, (long) inbox->connect_timeout);
        curl_easy_setopt(p->easy, CURLOPT_TIMEOUT, (long) inbox->timeout);
        curl_easy_setopt(p->easy, CURLOPT_ERRORBUFFER, p->errbuf);
        curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(p->easy, CURLOPT_DEBUGFUNCTION, on_debug);
        curl_easy_setopt(p->easy, CURLOPT_DEBUGDATA, p);
        curl_easy_setopt(p->easy, CURLOPT_VERBOSE, 1L);
        curl_easy_setopt(p->easy, CURLOPT_PRIVATE, p);
        r = curl_event_add(p->curl, p->easy);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

struct imap_poll *imap_poll_free(struct imap_poll *p) {
        if (!p)
                return NULL;
        if (p->fd != CURL_SOCKET_BAD && p->state != POLL_DONE)
                (void) shutdown(p->fd, SHUT_RDWR);
        sd_event_source_disable_unref(p->io);
        sd_event_source_disable_unref(p->timer);
        sd_event_source_disable_unref(p->finisher);
        if (p->easy) {
                if (p->curl)
                        curl_multi_remove_handle(curl_event_multi(p->curl), p->easy);
                curl_easy_cleanup(p->easy);
        }
        curl_event_free(p->curl);
        sd_event_unref(p->event);
        free(p->in);
        strbuf_done(&p->out);
        free(p->uids);
        free(p->sizes);
        free(p);
        return NULL;
}
