/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "smtp-client.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "curl-event.h"
#include "log.h"
#include "smtp.h"
#include "strbuf.h"

/* A reply line longer than this is cut (RFC 5321 allows 512 bytes). */
#define LINE_MAX_BYTES 2048
/* What one connection may have queued to send: a message with its DATA
 * dot-stuffing, and the commands of a pipelined transaction. */
#define OUT_MAX (16u * 1024 * 1024)
/* An idle connection is kept this long for the next message, then closed
 * with QUIT: reminders come in bursts, and a server should not have to keep
 * our connections open between them. */
#define IDLE_USEC (10 * 1000000ULL)
#define DETAIL_MAX (SMTP_REPLY_MAX + CURL_ERROR_SIZE + 128)

enum conn_state {
        CONN_CONNECTING,   /* libcurl: TCP, TLS, EHLO, AUTH */
        CONN_IDLE,         /* ready for a message */
        CONN_MAIL,         /* a mail transaction under way */
        CONN_RSET,         /* RSET sent after a transaction that did not end */
        CONN_DEAD,         /* closed, waiting to be freed */
};

struct smtp_conn {
        struct smtp_client *client;
        struct smtp_conn *next, *prev;
        enum conn_state state;
        unsigned generation;

        struct curl_event *curl;           /* a multi handle of its own, see conn_open() */
        CURL *easy;
        struct smtp_greeting greeting;
        curl_socket_t fd;
        sd_event_source *io, *timer;
        bool pipelining;
        bool closing;                      /* the server said 421: close after this reply */
        uint64_t timeout_usec;             /* smtp.timeout when the transaction began */
        unsigned served;                   /* transactions finished on this connection */

        char in[LINE_MAX_BYTES];
        size_t in_len;
        bool skip_line;                    /* the rest of an over-long line */
        int reply_code;                    /* of a multi-line reply being read, or 0 */
        char reply[SMTP_REPLY_MAX];        /* the last complete reply, code and text */

        struct strbuf out;
        size_t out_off;

        /* The transaction under way. Replies come in the order of the
         * commands: MAIL FROM (0), RCPT TO (1..n), DATA (n+1), and the end
         * of the data (n+2). */
        struct smtp_message *msg;
        size_t next_reply, pending, accepted;
        bool refused_retry;                /* a recipient was refused with 4xx */
        enum result_kind failed;           /* RESULT_NONE while it may still succeed */
        char failure[DETAIL_MAX];
};

struct smtp_client {
        sd_event *event;
        const struct smtp_client_ops *ops;
        const struct smtp *settings;
        unsigned generation;
        struct smtp_message *queue, *queue_tail;
        size_t n_queue;
        struct smtp_conn *conns, *dead;
        size_t n_conns;
        sd_event_source *reaper, *kicker;
        uint64_t sent, opened;
};

static void client_kick(struct smtp_client *c);
static void conn_flush(struct smtp_conn *k);

static size_t client_count(const struct smtp_client *c, enum conn_state state) {
        size_t n = 0;
        for (const struct smtp_conn *k = c->conns; k; k = k->next)
                n += k->state == state;
        return n;
}

static struct smtp_message *queue_pop(struct smtp_client *c) {
        struct smtp_message *m = c->queue;

        if (!m)
                return NULL;
        c->queue = m->next;
        if (!c->queue)
                c->queue_tail = NULL;
        m->next = NULL;
        c->n_queue--;
        return m;
}

/* Unlinks a connection (its message, if any, was ended by the caller) and
 * leaves the freeing to the reaper: this runs inside callbacks of the
 * connection's own sources and of its curl multi handle, which must not be
 * freed under them. */
static void conn_close(struct smtp_conn *k, bool polite) {
        struct smtp_client *c = k->client;

        if (k->state == CONN_DEAD)
                return;
        if (polite && k->fd != CURL_SOCKET_BAD && k->state == CONN_IDLE) {
                size_t n;
                /* Best effort, not waited for: a server that does not take
                 * six bytes at once loses nothing by missing them. */
                (void) curl_easy_send(k->easy, "QUIT\r\n", 6, &n);
        }
        /* A shut-down socket also keeps libcurl from talking to the server
         * when the handle is cleaned up. */
        if (k->fd != CURL_SOCKET_BAD)
                (void) shutdown(k->fd, SHUT_RDWR);
        k->state = CONN_DEAD;
        (void) sd_event_source_set_enabled(k->io, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(k->timer, SD_EVENT_OFF);

        if (k->prev)
                k->prev->next = k->next;
        else
                c->conns = k->next;
        if (k->next)
                k->next->prev = k->prev;
        c->n_conns--;
        k->prev = NULL;
        k->next = c->dead;
        c->dead = k;
        (void) sd_event_source_set_enabled(c->reaper, SD_EVENT_ONESHOT);
}

static void conn_free(struct smtp_conn *k) {
        if (k->easy) {
                curl_multi_remove_handle(curl_event_multi(k->curl), k->easy);
                curl_easy_cleanup(k->easy);
        }
        curl_event_free(k->curl);
        sd_event_source_disable_unref(k->io);
        sd_event_source_disable_unref(k->timer);
        strbuf_done(&k->out);
        free(k);
}

static int on_reap(sd_event_source *s, void *userdata) {
        struct smtp_client *c = userdata;

        while (c->dead) {
                struct smtp_conn *k = c->dead;
                c->dead = k->next;
                conn_free(k);
        }
        return 0;
}

static int on_kick(sd_event_source *s, void *userdata) {
        client_kick(userdata);
        return 0;
}

/* Ends the message under way (if any) with `result`. */
static void conn_finish_message(struct smtp_conn *k, enum result_kind result, const char *detail) {
        struct smtp_message *m = k->msg;

        if (!m)
                return;
        k->msg = NULL;
        k->served++;
        if (result == RESULT_SENT)
                k->client->sent++;
        k->client->ops->done(m, result, detail);
}

/* The connection cannot go on: the message under way is retried later. */
static void conn_broken(struct smtp_conn *k, const char *why) {
        struct smtp_client *c = k->client;
        char detail[DETAIL_MAX];

        if (k->msg && k->next_reply == 0 && k->served > 0 && c->settings) {
                /* A kept connection the server had closed meanwhile: the
                 * message never reached it. It goes first on another. */
                struct smtp_message *m = TAKE_PTR(k->msg);
                m->next = c->queue;
                c->queue = m;
                if (!c->queue_tail)
                        c->queue_tail = m;
                c->n_queue++;
        } else if (k->msg && k->failed != RESULT_NONE)
                /* Already refused (a 421 before hanging up, say): that is
                 * the reason, not the closed connection. */
                conn_finish_message(k, k->failed, k->failure);
        else if (k->msg) {
                snprintf(detail, sizeof detail, "%s%s%s", why, k->reply[0] ? "; last reply: " : "", k->reply);
                conn_finish_message(k, RESULT_RETRY, detail);
        }
        conn_close(k, false);
        /* Others, or a new connection, take the queue. */
        (void) sd_event_source_set_enabled(k->client->kicker, SD_EVENT_ONESHOT);
}

static void conn_arm(struct smtp_conn *k, uint64_t usec) {
        if (sd_event_source_set_time_relative(k->timer, usec) < 0 ||
            sd_event_source_set_enabled(k->timer, SD_EVENT_ONESHOT) < 0)
                log_warning("Failed to arm an SMTP connection timer");
}

static void conn_idle(struct smtp_conn *k) {
        k->state = CONN_IDLE;
        if (k->generation != k->client->generation) {
                /* Opened with settings no longer in force. */
                conn_close(k, true);
                return;
        }
        conn_arm(k, IDLE_USEC);
        (void) sd_event_source_set_enabled(k->client->kicker, SD_EVENT_ONESHOT);
}

static void conn_send_rcpt(struct smtp_conn *k, size_t i) {
        strbuf_printf(&k->out, "RCPT TO:<%s>\r\n", k->msg->rcpt[i]);
        k->pending++;
}

static void conn_set_failed(struct smtp_conn *k, enum result_kind kind, const char *what) {
        if (k->failed != RESULT_NONE)
                return;
        k->failed = kind;
        snprintf(k->failure, sizeof k->failure, "%s: %s", what, k->reply);
}

/* The fate of a message whose every recipient was refused. */
static enum result_kind all_refused(const struct smtp_conn *k) {
        return k->refused_retry ? RESULT_RETRY : RESULT_FAIL;
}

static void conn_start(struct smtp_conn *k, struct smtp_message *m) {
        k->state = CONN_MAIL;
        k->msg = m;
        k->next_reply = k->pending = k->accepted = 0;
        k->refused_retry = false;
        k->failed = RESULT_NONE;
        k->failure[0] = 0;
        k->timeout_usec = (uint64_t) k->client->settings->timeout * 1000000ULL;
        conn_arm(k, k->timeout_usec);

        strbuf_printf(&k->out, "MAIL FROM:<%s>\r\n", m->mail_from);
        k->pending++;
        if (k->pipelining) {
                /* RFC 2920: the envelope and DATA go in one write; the
                 * replies are read in order. */
                for (size_t i = 0; i < m->n_rcpt; i++)
                        conn_send_rcpt(k, i);
                strbuf_puts(&k->out, "DATA\r\n");
                k->pending++;
        }
        conn_flush(k);
}

/* One complete reply during a transaction. */
static void conn_transaction_reply(struct smtp_conn *k, int code) {
        struct smtp_message *m = k->msg;
        size_t n = m->n_rcpt, idx = k->next_reply++;
        bool ok = code >= 200 && code < 300;

        k->pending--;
        if (idx == 0) {
                if (!ok)
                        conn_set_failed(k, smtp_message_result(code), "MAIL FROM refused");
        } else if (idx <= n) {
                if (ok)
                        k->accepted++;
                else if (k->failed == RESULT_NONE) {
                        k->refused_retry = k->refused_retry || smtp_reply_result(code) == RESULT_RETRY;
                        k->client->ops->refused(m, idx - 1, code, k->reply);
                }
        } else if (idx == n + 1) {
                if (code == 354) {
                        if (k->failed == RESULT_NONE && k->accepted == 0)
                                conn_set_failed(k, all_refused(k), "no recipient accepted");
                        /* An empty message ends a DATA phase the message can
                         * no longer use. */
                        smtp_data_append(&k->out, k->failed == RESULT_NONE ? m->data : "",
                                         k->failed == RESULT_NONE ? m->size : 0);
                        k->pending++;
                } else if (k->accepted == 0)
                        conn_set_failed(k, all_refused(k), "no recipient accepted");
                else
                        conn_set_failed(k, smtp_message_result(code), "DATA refused");
        } else if (k->failed == RESULT_NONE && !ok)
                conn_set_failed(k, smtp_message_result(code), "message refused");

        /* Without pipelining, each command waits for the reply before it. */
        if (!k->pipelining && k->pending == 0 && k->failed == RESULT_NONE) {
                if (idx < n)
                        conn_send_rcpt(k, idx);
                else if (idx == n) {
                        if (k->accepted == 0)
                                conn_set_failed(k, all_refused(k), "no recipient accepted");
                        else {
                                strbuf_puts(&k->out, "DATA\r\n");
                                k->pending++;
                        }
                }
        }
        if (k->pending > 0) {
                conn_flush(k);
                return;
        }

        /* The transaction is over. Unless it ended with the reply to the
         * data, the server may still hold some of it: RSET clears it. */
        bool ended = idx == n + 2;
        conn_finish_message(k, k->failed == RESULT_NONE ? RESULT_SENT : k->failed,
                            k->failed == RESULT_NONE ? k->reply : k->failure);
        if (k->state == CONN_DEAD)
                return;
        if (k->closing) {
                conn_close(k, false);
                (void) sd_event_source_set_enabled(k->client->kicker, SD_EVENT_ONESHOT);
                return;
        }
        if (ended) {
                conn_idle(k);
                return;
        }
        k->state = CONN_RSET;
        strbuf_puts(&k->out, "RSET\r\n");
        conn_flush(k);
}

static void conn_reply(struct smtp_conn *k, int code) {
        /* 421: the server is closing the connection (RFC 5321 3.8). */
        if (code == 421)
                k->closing = true;
        switch (k->state) {
        case CONN_MAIL:
                conn_transaction_reply(k, code);
                break;
        case CONN_RSET:
                if (code >= 200 && code < 300 && !k->closing)
                        conn_idle(k);
                else
                        conn_broken(k, "RSET refused");
                break;
        default:
                /* Unasked for: most often a time-out notice before the
                 * server hangs up. */
                conn_close(k, false);
                (void) sd_event_source_set_enabled(k->client->kicker, SD_EVENT_ONESHOT);
                break;
        }
}

/* One reply line: "250-..." continues a reply, "250 ..." ends it. */
static void conn_line(struct smtp_conn *k, const char *line, size_t len) {
        int code;

        if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' || line[2] < '0' ||
            line[2] > '9' || (len > 3 && line[3] != ' ' && line[3] != '-')) {
                smtp_text_clean(k->reply, sizeof k->reply, line, len);
                conn_broken(k, "the server's reply is not SMTP");
                return;
        }
        code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        if (k->reply_code != 0 && code != k->reply_code) {
                conn_broken(k, "the server's reply is not SMTP");
                return;
        }
        smtp_text_clean(k->reply, sizeof k->reply, line, len);
        if (len > 3 && line[3] == '-') {
                k->reply_code = code;
                return;
        }
        k->reply_code = 0;
        conn_reply(k, code);
}

static void conn_parse(struct smtp_conn *k) {
        size_t start = 0;

        for (size_t i = 0; i < k->in_len && k->state != CONN_DEAD; i++) {
                if (k->in[i] != '\n')
                        continue;
                size_t len = i - start;
                if (len > 0 && k->in[start + len - 1] == '\r')
                        len--;
                if (!k->skip_line)
                        conn_line(k, k->in + start, len);
                k->skip_line = false;
                start = i + 1;
        }
        if (k->state == CONN_DEAD)
                return;
        memmove(k->in, k->in + start, k->in_len - start);
        k->in_len -= start;
        if (k->in_len == sizeof k->in) {
                /* An over-long line: what fits is the line. */
                conn_line(k, k->in, k->in_len);
                k->in_len = 0;
                k->skip_line = true;
        }
}

static void conn_read(struct smtp_conn *k) {
        /* TLS may hold more than the socket says: read until curl says
         * there is nothing left. */
        while (k->state != CONN_DEAD) {
                size_t n = 0;
                CURLcode r = curl_easy_recv(k->easy, k->in + k->in_len, sizeof k->in - k->in_len, &n);
                if (r == CURLE_AGAIN)
                        return;
                if (r != CURLE_OK) {
                        conn_broken(k, curl_easy_strerror(r));
                        return;
                }
                if (n == 0) {
                        conn_broken(k, "the server closed the connection");
                        return;
                }
                k->in_len += n;
                conn_parse(k);
        }
}

static void conn_flush(struct smtp_conn *k) {
        if (k->out.error < 0) {
                conn_broken(k, "out of memory");
                return;
        }
        while (k->out_off < k->out.len) {
                size_t n = 0;
                CURLcode r = curl_easy_send(k->easy, k->out.data + k->out_off, k->out.len - k->out_off, &n);
                if (r == CURLE_AGAIN)
                        break;
                if (r != CURLE_OK) {
                        conn_broken(k, curl_easy_strerror(r));
                        return;
                }
                k->out_off += n;
        }
        if (k->out_off == k->out.len) {
                k->out.len = k->out_off = 0;
                if (k->out.data)
                        k->out.data[0] = 0;
        }
        (void) sd_event_source_set_io_events(k->io, EPOLLIN | (k->out.len > 0 ? EPOLLOUT : 0));
}

static int on_conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct smtp_conn *k = userdata;

        if (revents & EPOLLOUT)
                conn_flush(k);
        if (k->state != CONN_DEAD && (revents & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                conn_read(k);
        return 0;
}

static int on_conn_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct smtp_conn *k = userdata;
        char why[96];

        if (k->state == CONN_IDLE) {
                conn_close(k, true);
                return 0;
        }
        snprintf(why, sizeof why, "no answer from the server within %llus",
                 (unsigned long long) (k->timeout_usec / 1000000ULL));
        conn_broken(k, why);
        return 0;
}

/* Defers the waiting messages when no connection is left to take them. */
static void client_defer_queue(struct smtp_client *c, const char *detail) {
        struct smtp_message *m;

        for (const struct smtp_conn *k = c->conns; k; k = k->next)
                if (k->state != CONN_DEAD)
                        return;
        while ((m = queue_pop(c)))
                c->ops->done(m, RESULT_RETRY, detail);
}

/* The connection phase ended (libcurl). */
static void on_connected(struct curl_event *ce, CURL *easy, CURLcode result, void *userdata) {
        struct smtp_conn *k = userdata;
        char detail[DETAIL_MAX];
        bool refused = k->greeting.reply[0] == '4' || k->greeting.reply[0] == '5';
        int r;

        if (result == CURLE_OK && curl_easy_getinfo(easy, CURLINFO_ACTIVESOCKET, &k->fd) != CURLE_OK)
                result = CURLE_COULDNT_CONNECT;
        if (result == CURLE_OK) {
                r = sd_event_add_io(k->client->event, &k->io, k->fd, EPOLLIN, on_conn_io, k);
                if (r >= 0)
                        r = sd_event_add_time_relative(k->client->event, &k->timer, CLOCK_MONOTONIC, IDLE_USEC,
                                                       0, on_conn_timer, k);
                if (r < 0) {
                        log_warning_errno(r, "Failed to watch an SMTP connection: %m");
                        result = CURLE_OUT_OF_MEMORY;
                }
        }
        if (result != CURLE_OK) {
                k->fd = CURL_SOCKET_BAD;
                snprintf(detail, sizeof detail, "%s%s%s",
                         k->greeting.errbuf[0] ? k->greeting.errbuf : curl_easy_strerror(result),
                         refused ? "; server said: " : "", refused ? k->greeting.reply : "");
                log_debug("SMTP connection failed: %s", detail);
                conn_close(k, false);
                client_defer_queue(k->client, detail);
                return;
        }
        (void) sd_event_source_set_description(k->io, "smtp-io");
        (void) sd_event_source_set_description(k->timer, "smtp-timer");
        k->pipelining = k->greeting.pipelining;
        conn_idle(k);
}

static int conn_open(struct smtp_client *c) {
        struct smtp_conn *k = calloc(1, sizeof *k);
        int r;

        if (!k)
                return -ENOMEM;
        *k = (struct smtp_conn) {
                .client = c,
                .state = CONN_CONNECTING,
                .generation = c->generation,
                .fd = CURL_SOCKET_BAD,
                .out = STRBUF_INIT(OUT_MAX),
        };
        /* A multi handle per connection: libcurl believes a CONNECT_ONLY
         * connection idle, and, opening another in the same multi handle,
         * might close it as "dead" when a reply of ours waits unread. */
        r = curl_event_new(c->event, "smtp", on_connected, k, &k->curl);
        if (r >= 0) {
                k->easy = curl_easy_init();
                if (!k->easy)
                        r = -ENOMEM;
        }
        if (r >= 0) {
                smtp_connect_setup(k->easy, c->settings, &k->greeting);
                r = curl_event_add(k->curl, k->easy);
        }
        if (r < 0) {
                conn_free(k);
                return r;
        }
        k->next = c->conns;
        if (c->conns)
                c->conns->prev = k;
        c->conns = k;
        c->n_conns++;
        c->opened++;
        return 0;
}

/* Hands waiting messages to idle connections, and opens connections while
 * more are waiting than are being opened, up to the limit. */
static void client_kick(struct smtp_client *c) {
        if (!c->settings)
                return;
        /* conn_start() may close its connection, which leaves the list. */
        for (struct smtp_conn *k = c->conns, *next; k && c->queue; k = next) {
                next = k->next;
                if (k->state == CONN_IDLE)
                        conn_start(k, queue_pop(c));
        }
        size_t limit = (size_t) MAX(c->settings->max_connections, 1);
        while (c->n_queue > client_count(c, CONN_CONNECTING) && c->n_conns < limit) {
                int r = conn_open(c);
                if (r < 0) {
                        char detail[128];
                        snprintf(detail, sizeof detail, "cannot open a connection: %s", strerror(-r));
                        client_defer_queue(c, detail);
                        return;
                }
        }
}

void smtp_client_submit(struct smtp_client *c, struct smtp_message *m) {
        m->next = NULL;
        if (c->queue_tail)
                c->queue_tail->next = m;
        else
                c->queue = m;
        c->queue_tail = m;
        c->n_queue++;
        /* Started from the loop, so that done() never runs inside submit. */
        (void) sd_event_source_set_enabled(c->kicker, SD_EVENT_ONESHOT);
}

void smtp_client_configure(struct smtp_client *c, const struct smtp *s) {
        struct smtp_message *m;

        if (c->settings)
                c->generation++;
        c->settings = s;
        if (!s)
                while ((m = queue_pop(c)))
                        c->ops->done(m, RESULT_RETRY, "no smtp settings in the configuration");
        for (struct smtp_conn *k = c->conns, *next; k; k = next) {
                next = k->next;
                if (k->state == CONN_IDLE)
                        conn_close(k, true);
        }
        (void) sd_event_source_set_enabled(c->kicker, SD_EVENT_ONESHOT);
}

void smtp_client_cancel_waiting(struct smtp_client *c) {
        struct smtp_message *m;

        while ((m = queue_pop(c)))
                c->ops->done(m, RESULT_UNSENT, "not started");
}

void smtp_client_cancel_all(struct smtp_client *c) {
        struct smtp_message *m;

        while (c->conns) {
                struct smtp_conn *k = c->conns;
                conn_finish_message(k, RESULT_NONE, "cancelled");
                conn_close(k, false);
        }
        while ((m = queue_pop(c)))
                c->ops->done(m, RESULT_UNSENT, "not started");
}

int smtp_client_new(sd_event *event, const struct smtp_client_ops *ops, struct smtp_client **ret) {
        _cleanup_(smtp_client_freep) struct smtp_client *c = calloc(1, sizeof *c);
        int r;

        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(event);
        c->ops = ops;
        r = sd_event_add_defer(event, &c->reaper, on_reap, c);
        if (r >= 0)
                r = sd_event_add_defer(event, &c->kicker, on_kick, c);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(c->reaper, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(c->kicker, SD_EVENT_OFF);
        (void) sd_event_source_set_description(c->reaper, "smtp-reap");
        (void) sd_event_source_set_description(c->kicker, "smtp-kick");
        *ret = TAKE_PTR(c);
        return 0;
}

struct smtp_client *smtp_client_free(struct smtp_client *c) {
        if (!c)
                return NULL;
        while (c->conns)
                conn_close(c->conns, true);
        if (c->reaper)
                (void) on_reap(c->reaper, c);
        if (c->sent > 0 || c->opened > 0)
                log_info("SMTP: %llu messages sent over %llu connections", (unsigned long long) c->sent,
                         (unsigned long long) c->opened);
        sd_event_source_disable_unref(c->reaper);
        sd_event_source_disable_unref(c->kicker);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

uint64_t smtp_client_sent(const struct smtp_client *c) {
        return c->sent;
}

uint64_t smtp_client_connections(const struct smtp_client *c) {
        return c->opened;
}
