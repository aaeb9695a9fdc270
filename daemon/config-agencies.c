/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-parse.h"
#include "config.h"
#include "template.h"
#include "url.h"
#include "webhook-secret.h"

#define GROUPS_MAX 1000
#define ALIASES_MAX 100
#define WEBHOOKS_MAX 16
#define HEADERS_MAX 32

static void webhook_done(struct webhook *w) {
        free(w->url);
        free(w->host);
        free(w->ca_file);
        free(w->api_url);
        free(w->chat_id);
        template_free(w->body);
        free(w->body_file);
        free(w->body_setting);
        free(w->content_type);
        if (w->token) {
                explicit_bzero(w->token, strlen(w->token));
                free(w->token);
        }
        webhook_key_free(w->key);
        if (w->secret) {
                explicit_bzero(w->secret, strlen(w->secret));
                free(w->secret);
        }
        for (size_t i = 0; i < w->n_headers; i++) {
                free(w->headers[i].name);
                /* Header values are often tokens ("Authorization: Bearer …"). */
                if (w->headers[i].value) {
                        explicit_bzero(w->headers[i].value, strlen(w->headers[i].value));
                        free(w->headers[i].value);
                }
        }
        free(w->headers);
}

void agency_done(struct agency *a) {
        free(a->id);
        free(a->name);
        strv_free(a->aliases);
        strv_free(a->email);
        strv_free(a->cc);
        for (size_t i = 0; i < a->n_webhooks; i++)
                webhook_done(&a->webhooks[i]);
        free(a->webhooks);
}

void group_done(struct group *g) {
        free(g->id);
        free(g->name);
        strv_free(g->aliases);
        strv_free(g->members);
}

/* Lists that were not set are empty, never NULL, so that callers can walk
 * them without checking. */
static void strv_ensure(struct parser *p, char ***l) {
        if (!*l && !(*l = calloc(1, sizeof **l)))
                p->oom = true;
}

static const char *format_check(const char *s) {
        return webhook_format_from_string(s) >= 0 ? NULL : "is not a webhook format (use json, slack, ntfy, telegram or template)";
}

/* Headers the sender sets itself: a second copy would make the request
 * ambiguous or forge its signature. */
static bool header_reserved(const char *name) {
        static const char *const reserved[] = { "host", "content-length", "content-type", "transfer-encoding",
                                                "connection", "expect", "upgrade", "te", "trailer",
                                                "webhook-id", "webhook-timestamp", "webhook-signature" };
        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                if (strcasecmp(name, reserved[i]) == 0)
                        return true;
        return false;
}

static bool header_name_valid(const char *name) {
        if (!*name || strlen(name) > 64)
                return false;
        for (const char *c = name; *c; c++)
                if (!isalnum((unsigned char) *c) && !strchr("!#$%&'*+-.^_`|~", *c))
                        return false;
        return true;
}

/* A header that carries a secret (Authorization: Bearer …) takes its
 * value from a file or a systemd credential rather than from this file,
 * which group deadlined may read: { file = "PATH"; } or
 * { credential = "NAME"; }. The file is read like secret_file. A
 * credential this user cannot see outside the service leaves the value
 * unset, and the header is then not sent. */
static int parse_header_secret(struct parser *p, const config_setting_t *e, const char *path, char **ret) {
        static const char *const keys[] = { "file", "credential", NULL };
        _cleanup_free_ char *value = NULL;
        char buf[SETTING_PATH_MAX];
        int r;

        if (!parser_check_keys(p, e, path, keys))
                return -EINVAL;
        if (config_setting_get_member(e, "file") && config_setting_get_member(e, "credential")) {
                parser_error(p, e, path, "has both file and credential; set one");
                return -EINVAL;
        }
        if (config_setting_get_member(e, "file"))
                r = parser_get_secret_file(p, e, path, "file", &value);
        else if (config_setting_get_member(e, "credential"))
                r = parser_get_credential(p, e, path, "credential", &value);
        else {
                parser_error(p, e, path, "must be a string, { file = \"PATH\"; } or { credential = \"NAME\"; }");
                return -EINVAL;
        }
        if (r <= 0)
                return r;
        /* The file's text is not shown: it is the secret. */
        for (const unsigned char *c = (const unsigned char *) value; *c; c++)
                if ((*c < 0x20 && *c != '\t') || *c == 0x7f) {
                        parser_error(p, e, parser_path_member(buf, path, config_setting_get_member(e, "file") ? "file"
                                                                                                  : "credential"),
                                     "holds a control character, which a header value cannot");
                        explicit_bzero(value, strlen(value));
                        return -EINVAL;
                }
        *ret = TAKE_PTR(value);
        return 1;
}

static void parse_headers(struct parser *p, const config_setting_t *h, const char *path, struct webhook *w) {
        size_t n = (size_t) config_setting_length(h);
        char hpath[SETTING_PATH_MAX];

        if (n > HEADERS_MAX) {
                parser_error(p, h, path, "has %zu headers, more than the %d allowed", n, HEADERS_MAX);
                return;
        }
        if (n == 0)
                return;
        w->headers = calloc(n, sizeof *w->headers);
        if (!w->headers) {
                p->oom = true;
                return;
        }
        w->n_headers = n;
        for (size_t i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(h, (unsigned) i);
                const char *name = config_setting_name(e);

                parser_path_member(hpath, path, name);
                if (!header_name_valid(name)) {
                        parser_error(p, e, hpath, "is not a valid HTTP header name");
                        continue;
                }
                if (header_reserved(name)) {
                        parser_error(p, e, hpath, "is set by deadlined itself and cannot be configured");
                        continue;
                }
                for (size_t j = 0; j < i; j++)
                        if (w->headers[j].name && strcasecmp(w->headers[j].name, name) == 0) {
                                parser_error(p, e, hpath, "is the same header as %s", w->headers[j].name);
                                break;
                        }
                if (config_setting_type(e) == CONFIG_TYPE_GROUP) {
                        if (parse_header_secret(p, e, hpath, &w->headers[i].value) < 0)
                                continue;
                } else if (parser_get_string(p, h, path, name, CONFIG_STRING_MAX, NULL, &w->headers[i].value) <= 0)
                        continue;
                w->headers[i].name = strdup(name);
                if (!w->headers[i].name)
                        p->oom = true;
        }
}

/* Telegram's chat ids: a number (negative for groups and channels) or a
 * public channel's "@username". */
static const char *chat_id_check(const char *s) {
        const char *d = s + (*s == '-');

        if (*s == '@') {
                if (strlen(s) < 6 || strlen(s) > 33 || strspn(s + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(s + 1))
                        return "is not a Telegram chat: a number (e.g. -1001234567890) or \"@channelname\"";
                return NULL;
        }
        if (!*d || strlen(d) > 20 || strspn(d, "0123456789") != strlen(d))
                return "is not a Telegram chat: a number (e.g. -1001234567890) or \"@channelname\"";
        return NULL;
}

/* A bot token ("123456789:AA…") goes into the request's path: it may
 * hold nothing that would change the URL. */
static bool telegram_token_valid(const char *t) {
        const char *colon = strchr(t, ':');

        return colon && colon > t && strspn(t, "0123456789") == (size_t) (colon - t) && colon[1] &&
               strspn(colon + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                       strlen(colon + 1) &&
               strlen(t) <= 128;
}

/* format = "telegram": the Bot API's sendMessage at api_url (by default
 * Telegram's own), to chat_id, with the bot token from token_file or the
 * systemd credential token_credential. The token is part of the request's
 * URL, so w->url, which is shown and logged, carries "***" in its place. */
static void parse_telegram(struct parser *p, const config_setting_t *s, const char *path, struct webhook *w,
                           bool *loopback) {
        static const char *const schemes[] = { "http", "https", NULL };
        bool has_file = config_setting_get_member(s, "token_file"), has_cred = config_setting_get_member(s, "token_credential");
        char buf[SETTING_PATH_MAX];
        int r;

        if (config_setting_get_member(s, "url"))
                parser_error(p, config_setting_get_member(s, "url"), parser_path_member(buf, path, "url"),
                             "is not used with format = \"telegram\" (set api_url to reach another Bot API server)");
        if (parser_get_url(p, s, path, "api_url", schemes, loopback, &w->api_url) == 0) {
                w->api_url = strdup("https://api.telegram.org");
                *loopback = false;
                if (!w->api_url)
                        p->oom = true;
        }
        if (w->api_url) {
                size_t n = strlen(w->api_url);
                while (n > 0 && w->api_url[n - 1] == '/')
                        w->api_url[--n] = 0;
                if (asprintf(&w->url, "%s/bot***/sendMessage", w->api_url) < 0) {
                        w->url = NULL;
                        p->oom = true;
                }
        }
        if (parser_get_string(p, s, path, "chat_id", 64, chat_id_check, &w->chat_id) == 0)
                parser_error(p, s, parser_path_member(buf, path, "chat_id"),
                             "missing (e.g. chat_id = \"-1001234567890\";)");
        if (has_file && has_cred) {
                parser_error(p, s, parser_path_member(buf, path, "token_file"),
                             "and token_credential are both set; set one");
                return;
        }
        if (!has_file && !has_cred) {
                parser_error(p, s, parser_path_member(buf, path, "token_file"),
                             "missing: the bot token comes from token_file = \"PATH\" or token_credential = \"NAME\"");
                return;
        }
        if (has_file)
                r = parser_get_secret_file(p, s, path, "token_file", &w->token);
        else
                r = parser_get_credential(p, s, path, "token_credential", &w->token);
        /* The file's text is not shown: it is the secret. */
        if (r > 0 && !telegram_token_valid(w->token)) {
                const char *key = has_file ? "token_file" : "token_credential";
                const char *where = config_setting_get_string(config_setting_get_member(s, key));
                parser_error(p, config_setting_get_member(s, key), parser_path_member(buf, path, key),
                             "%s does not hold a bot token (digits, \":\" and letters, digits, \"_\" or \"-\", as "
                             "@BotFather gives it)",
                             strempty(where));
                explicit_bzero(w->token, strlen(w->token));
                w->token = mfree(w->token);
        }
}

static void parse_webhook(struct parser *p, const config_setting_t *s, const char *path, struct webhook *w) {
        static const char *const keys[] = { "url",       "format",     "secret_file",      "headers",
                                            "allow_plaintext_remote", "ca_file", "api_url", "chat_id",
                                            "token_file", "token_credential", "template", "content_type",
                                            "text_max", NULL };
        static const char *const telegram_only[] = { "api_url", "chat_id", "token_file", "token_credential" };
        static const char *const template_only[] = { "template", "content_type", "text_max" };
        static const char *const schemes[] = { "http", "https", NULL };
        _cleanup_free_ char *format = NULL;
        config_setting_t *h;
        char buf[SETTING_PATH_MAX], q[QUOTE_MAX];
        uint8_t key[WEBHOOK_SECRET_MAX];
        bool loopback = false;
        struct stat st;
        size_t n;

        w->line = (int) config_setting_source_line(s);
        parser_check_keys(p, s, path, keys);
        (void) parser_get_bool(p, s, path, "allow_plaintext_remote", &w->allow_plaintext_remote);
        if (parser_get_string(p, s, path, "format", 16, format_check, &format) > 0)
                w->format = webhook_format_from_string(format);

        parser_path_member(buf, path, w->format == WEBHOOK_TELEGRAM ? "api_url" : "url");
        if (w->format == WEBHOOK_TELEGRAM)
                parse_telegram(p, s, path, w, &loopback);
        else {
                for (size_t i = 0; i < ELEMENTSOF(telegram_only); i++)
                        if (config_setting_get_member(s, telegram_only[i])) {
                                char tpath[SETTING_PATH_MAX];
                                parser_error(p, config_setting_get_member(s, telegram_only[i]),
                                             parser_path_member(tpath, path, telegram_only[i]),
                                             "is only used with format = \"telegram\"");
                        }
                if (parser_get_url(p, s, path, "url", schemes, &loopback, &w->url) == 0)
                        parser_error(p, s, buf, "missing (e.g. url = \"https://chat.example.gov.vn/hooks/…\";)");
        }
        /* Plain http:// is fine to a relay on this machine; anywhere else
         * the payload and its signature would cross the network in clear. */
        if (w->format == WEBHOOK_TEMPLATE)
                config_webhook_body_parse(p, s, path, w);
        else
                for (size_t i = 0; i < ELEMENTSOF(template_only); i++)
                        if (config_setting_get_member(s, template_only[i])) {
                                char tpath[SETTING_PATH_MAX];
                                parser_error(p, config_setting_get_member(s, template_only[i]),
                                             parser_path_member(tpath, path, template_only[i]),
                                             "is only used with format = \"template\"");
                        }
        if (w->url && strncasecmp(w->url, "http:", 5) == 0 && !loopback && !w->allow_plaintext_remote)
                parser_error(p, config_setting_get_member(s, w->format == WEBHOOK_TELEGRAM ? "api_url" : "url"), buf,
                             "%s uses http:// to another host; use https:// (or set allow_plaintext_remote = true)",
                             parser_quote_url(w->url, q, sizeof q));
        if (w->url) {
                char host[URL_HOST_KEY_MAX];
                url_host_key(w->url, host);
                w->host = strdup(host);
                if (!w->host)
                        parser_error(p, s, buf, "out of memory");
        }

        /* The Standard Webhooks form: "whsec_" and the base64 of 24 to 64
         * random bytes. A secret that does not decode would sign nothing a
         * receiver could check; better to say so now than at the first
         * reminder. */
        if (parser_get_secret_file(p, s, path, "secret_file", &w->secret) > 0 &&
            webhook_secret_decode(w->secret, key, &n) < 0)
                parser_error(p, config_setting_get_member(s, "secret_file"),
                             parser_path_member(buf, path, "secret_file"),
                             "does not hold a webhook secret: \"whsec_\" and the base64 of %d to %d random bytes "
                             "(e.g. from: echo whsec_$(head -c 32 /dev/urandom | base64))",
                             WEBHOOK_SECRET_MIN, WEBHOOK_SECRET_MAX);
        else if (w->secret && webhook_key_new(w->secret, &w->key) < 0)
                parser_error(p, config_setting_get_member(s, "secret_file"),
                             parser_path_member(buf, path, "secret_file"), "cannot make an HMAC key: out of memory");
        explicit_bzero(key, sizeof key);
        if (parser_get_path(p, s, path, "ca_file", &w->ca_file) > 0) {
                parser_path_member(buf, path, "ca_file");
                if (stat(w->ca_file, &st) < 0 || access(w->ca_file, R_OK) < 0)
                        parser_error(p, config_setting_get_member(s, "ca_file"), buf, "%s: %s", w->ca_file,
                                     strerror(errno));
                else if (!S_ISREG(st.st_mode))
                        parser_error(p, config_setting_get_member(s, "ca_file"), buf, "%s is not a regular file",
                                     w->ca_file);
        }
        if (parser_get_group(p, s, path, "headers", &h) > 0)
                parse_headers(p, h, parser_path_member(buf, path, "headers"), w);
}

/* `webhook = { … };` for one, `webhook = ( { … }, { … } );` for several. */
static void parse_webhooks(struct parser *p, const config_setting_t *agency, const char *path, struct agency *a) {
        config_setting_t *s = config_setting_get_member(agency, "webhook");
        char wpath[SETTING_PATH_MAX], epath[SETTING_PATH_MAX];
        size_t n;

        if (!s)
                return;
        parser_path_member(wpath, path, "webhook");
        if (config_setting_type(s) == CONFIG_TYPE_GROUP)
                n = 1;
        else if (config_setting_type(s) == CONFIG_TYPE_LIST)
                n = (size_t) config_setting_length(s);
        else {
                parser_error(p, s, wpath, "must be a group { url = \"…\"; } or a list of them ( { … }, { … } )");
                return;
        }
        if (n > WEBHOOKS_MAX) {
                parser_error(p, s, wpath, "has %zu webhooks, more than the %d allowed", n, WEBHOOKS_MAX);
                return;
        }
        if (n == 0)
                return;
        a->webhooks = calloc(n, sizeof *a->webhooks);
        if (!a->webhooks) {
                p->oom = true;
                return;
        }
        a->n_webhooks = n;
        if (config_setting_type(s) == CONFIG_TYPE_GROUP) {
                parse_webhook(p, s, wpath, &a->webhooks[0]);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                parser_path_elem(epath, wpath, i);
                if (config_setting_type(e) != CONFIG_TYPE_GROUP)
                        parser_error(p, e, epath, "must be a group { url = \"…\"; }");
                else
                        parse_webhook(p, e, epath, &a->webhooks[i]);
        }
}

/* Where `addr` first appears in `l` before index `end`, or -1. */
static ssize_t find_address(char *const *l, size_t end, const char *addr) {
        for (size_t j = 0; l && l[j] && j < end; j++)
                if (strcasecmp(l[j], addr) == 0)
                        return (ssize_t) j;
        return -1;
}

/* The same address twice, in email or cc or across them, would be sent
 * the same message twice. */
static void check_duplicate_addresses(struct parser *p, const config_setting_t *agency, const char *path,
                                      const struct agency *a) {
        char *const *lists[2] = { a->email, a->cc };
        static const char *const names[2] = { "email", "cc" };
        char buf[SETTING_PATH_MAX], epath[SETTING_PATH_MAX], q[QUOTE_MAX];

        for (size_t l = 0; l < 2; l++)
                for (size_t i = 0; lists[l] && lists[l][i]; i++)
                        for (size_t m = 0; m <= l; m++) {
                                ssize_t j = find_address(lists[m], m == l ? i : SIZE_MAX, lists[l][i]);
                                if (j < 0)
                                        continue;
                                parser_error(p, parser_setting_elem(config_setting_get_member(agency, names[l]), i),
                                             parser_path_elem(epath, parser_path_member(buf, path, names[l]), i),
                                             "%s is already listed in %s[%zd]", parser_quote(lists[l][i], q, sizeof q),
                                             names[m], j);
                                break;
                        }
}

static void parse_agency(struct parser *p, const config_setting_t *s, const char *path, struct agency *a) {
        static const char *const keys[] = { "id", "name", "aliases", "email", "cc", "webhook", NULL };
        char buf[SETTING_PATH_MAX];
        bool ok = true;

        a->line = (int) config_setting_source_line(s);
        parser_check_keys(p, s, path, keys);
        if (parser_get_string(p, s, path, "id", 64, parser_check_id, &a->id) == 0)
                parser_error(p, s, parser_path_member(buf, path, "id"), "missing (e.g. id = \"stc\";)");
        if (parser_get_string(p, s, path, "name", CONFIG_STRING_MAX, NULL, &a->name) == 0)
                parser_error(p, s, parser_path_member(buf, path, "name"), "missing (e.g. name = \"Sở Tài chính\";)");
        (void) parser_get_strv(p, s, path, "aliases", ALIASES_MAX, CONFIG_STRING_MAX, NULL, &a->aliases, NULL);
        ok = parser_get_strv(p, s, path, "email", CONFIG_ADDRESSES_MAX, 254, parser_check_email, &a->email, NULL) >= 0;
        ok = parser_get_strv(p, s, path, "cc", CONFIG_ADDRESSES_MAX, 254, parser_check_email, &a->cc, NULL) >= 0 && ok;
        if (ok)
                check_duplicate_addresses(p, s, path, a);
        parse_webhooks(p, s, path, a);
        strv_ensure(p, &a->aliases);
        strv_ensure(p, &a->email);
        strv_ensure(p, &a->cc);
}

static void parse_group(struct parser *p, const config_setting_t *s, const char *path, struct group *g) {
        static const char *const keys[] = { "id", "name", "aliases", "members", NULL };
        config_setting_t *members;
        char buf[SETTING_PATH_MAX];
        int r;

        g->line = (int) config_setting_source_line(s);
        parser_check_keys(p, s, path, keys);
        if (parser_get_string(p, s, path, "id", 64, parser_check_id, &g->id) == 0)
                parser_error(p, s, parser_path_member(buf, path, "id"), "missing (e.g. id = \"cacso\";)");
        /* A group without a name of its own is called by its id. */
        if (parser_get_string(p, s, path, "name", CONFIG_STRING_MAX, NULL, &g->name) == 0 && g->id &&
            !(g->name = strdup(g->id)))
                p->oom = true;
        (void) parser_get_strv(p, s, path, "aliases", ALIASES_MAX, CONFIG_STRING_MAX, NULL, &g->aliases, NULL);
        r = parser_get_strv(p, s, path, "members", CONFIG_AGENCIES_MAX, 64, parser_check_id, &g->members, &members);
        if (r == 0)
                parser_error(p, s, parser_path_member(buf, path, "members"),
                             "missing (e.g. members = [\"stc\", \"syt\"];)");
        else if (r > 0 && !g->members[0])
                parser_error(p, members, parser_path_member(buf, path, "members"), "must list at least one agency");
        strv_ensure(p, &g->aliases);
        strv_ensure(p, &g->members);
}

/* Fills `*ret_array` with one zeroed element per entry of the list
 * `name`; returns the list setting, or NULL when it is absent or wrong. */
static const config_setting_t *get_list(struct parser *p, const config_setting_t *root, const char *name,
                                        size_t max, size_t size, void **ret_array, size_t *ret_n) {
        config_setting_t *s = config_setting_get_member(root, name);
        size_t n;

        if (!s)
                return NULL;
        if (config_setting_type(s) != CONFIG_TYPE_LIST &&
            !(config_setting_type(s) == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0)) {
                parser_error(p, s, name, "must be a list ( { id = \"…\"; … }, … )");
                return NULL;
        }
        n = (size_t) config_setting_length(s);
        if (n > max) {
                parser_error(p, s, name, "has %zu entries, more than the %zu allowed", n, max);
                return NULL;
        }
        if (n > 0 && !(*ret_array = calloc(n, size))) {
                p->oom = true;
                return NULL;
        }
        *ret_n = n;
        return s;
}

void config_parse_agencies(struct parser *p, const config_setting_t *root, struct config *c) {
        const config_setting_t *list;
        char path[SETTING_PATH_MAX];

        list = get_list(p, root, "agencies", CONFIG_AGENCIES_MAX, sizeof *c->agencies, (void **) &c->agencies,
                        &c->n_agencies);
        for (size_t i = 0; list && i < c->n_agencies; i++) {
                const config_setting_t *e = config_setting_get_elem(list, (unsigned) i);
                parser_path_elem(path, "agencies", i);
                if (config_setting_type(e) != CONFIG_TYPE_GROUP)
                        parser_error(p, e, path, "must be a group { id = \"…\"; name = \"…\"; … }");
                else
                        parse_agency(p, e, path, &c->agencies[i]);
        }
}

void config_parse_groups(struct parser *p, const config_setting_t *root, struct config *c) {
        const config_setting_t *list;
        char path[SETTING_PATH_MAX];

        list = get_list(p, root, "groups", GROUPS_MAX, sizeof *c->groups, (void **) &c->groups, &c->n_groups);
        for (size_t i = 0; list && i < c->n_groups; i++) {
                const config_setting_t *e = config_setting_get_elem(list, (unsigned) i);
                parser_path_elem(path, "groups", i);
                if (config_setting_type(e) != CONFIG_TYPE_GROUP)
                        parser_error(p, e, path, "must be a group { id = \"…\"; members = [ … ]; }");
                else
                        parse_group(p, e, path, &c->groups[i]);
        }
}

static int config_id_cmp(const void *a, const void *b) {
        const struct config_id *x = a, *y = b;
        int r = strcmp(x->id, y->id);
        int lx = x->agency ? x->agency->line : x->group->line, ly = y->agency ? y->agency->line : y->group->line;

        return r != 0 ? r : (lx > ly) - (lx < ly);
}

static int config_id_key_cmp(const void *key, const void *elem) {
        return strcmp(key, ((const struct config_id *) elem)->id);
}

static const struct config_id *config_lookup_id(const struct config *c, const char *id) {
        if (!c || !id || c->n_ids == 0)
                return NULL;
        return bsearch(id, c->ids, c->n_ids, sizeof *c->ids, config_id_key_cmp);
}

/* "agencies[3]" or "groups[1]", the path of the entry that owns an id. */
static const char *id_owner(const struct config *c, const struct config_id *e, char buf[static SETTING_PATH_MAX]) {
        return e->agency ? parser_path_elem(buf, "agencies", (size_t) (e->agency - c->agencies))
                         : parser_path_elem(buf, "groups", (size_t) (e->group - c->groups));
}

static void check_members(struct parser *p, const config_setting_t *root, const struct config *c) {
        const config_setting_t *list = config_setting_get_member(root, "groups");
        char gpath[SETTING_PATH_MAX], path[SETTING_PATH_MAX], epath[SETTING_PATH_MAX], q[QUOTE_MAX];
        /* Which agencies this group already lists: groups can hold every
         * agency, so no pairwise comparison. */
        _cleanup_free_ size_t *seen_in = calloc(c->n_agencies + 1, sizeof *seen_in);

        if (!seen_in) {
                p->oom = true;
                return;
        }
        for (size_t i = 0; i < c->n_groups; i++) {
                const struct group *g = &c->groups[i];
                const config_setting_t *members =
                        config_setting_get_member(config_setting_get_elem(list, (unsigned) i), "members");

                for (size_t j = 0; g->members && g->members[j]; j++) {
                        const struct config_id *e = config_lookup_id(c, g->members[j]);
                        const config_setting_t *s = parser_setting_elem(members, j);
                        size_t a;

                        parser_path_elem(epath,
                                         parser_path_member(path, parser_path_elem(gpath, "groups", i), "members"), j);
                        if (!e) {
                                parser_error(p, s, epath, "%s is not an agency id",
                                             parser_quote(g->members[j], q, sizeof q));
                                continue;
                        }
                        if (e->group) {
                                parser_error(p, s, epath, "%s is a group; members must be agencies",
                                             parser_quote(g->members[j], q, sizeof q));
                                continue;
                        }
                        a = (size_t) (e->agency - c->agencies);
                        if (seen_in[a] == i + 1)
                                parser_error(p, s, epath, "%s is listed twice",
                                             parser_quote(g->members[j], q, sizeof q));
                        seen_in[a] = i + 1;
                }
        }
}

int config_build_index(struct parser *p, const config_setting_t *root, struct config *c) {
        char owner[SETTING_PATH_MAX], path[SETTING_PATH_MAX], q[QUOTE_MAX];
        size_t n = 0, k;

        c->ids = calloc(c->n_agencies + c->n_groups + 1, sizeof *c->ids);
        if (!c->ids) {
                p->oom = true;
                return -ENOMEM;
        }
        for (size_t i = 0; i < c->n_agencies; i++)
                if (c->agencies[i].id)
                        c->ids[n++] = (struct config_id) { .id = c->agencies[i].id, .agency = &c->agencies[i] };
        for (size_t i = 0; i < c->n_groups; i++)
                if (c->groups[i].id)
                        c->ids[n++] = (struct config_id) { .id = c->groups[i].id, .group = &c->groups[i] };
        /* Sorted by id, then by position in the file: of two equal ids, the
         * later one is the duplicate. */
        qsort(c->ids, n, sizeof *c->ids, config_id_cmp);
        c->n_ids = n;

        for (size_t i = 1; i < n; i++) {
                const struct config_id *e = &c->ids[i], *first = &c->ids[i - 1];
                char first_owner[SETTING_PATH_MAX];

                if (!streq(e->id, first->id))
                        continue;
                while (first > c->ids && streq(first[-1].id, e->id))
                        first--;
                parser_error_at(p, (unsigned) (e->agency ? e->agency->line : e->group->line),
                                parser_path_member(path, id_owner(c, e, owner), "id"),
                                "%s is already the id of %s (line %d)",
                                parser_quote(e->id, q, sizeof q), id_owner(c, first, first_owner),
                                first->agency ? first->agency->line : first->group->line);
        }
        /* Only the first of equal ids stays in the index, so that the
         * checks that follow see what the file meant first. */
        k = 0;
        for (size_t i = 0; i < n; i++)
                if (k == 0 || !streq(c->ids[i].id, c->ids[k - 1].id))
                        c->ids[k++] = c->ids[i];
        c->n_ids = k;
        check_members(p, root, c);
        return 0;
}

const struct agency *config_find_agency(const struct config *c, const char *id) {
        const struct config_id *e = config_lookup_id(c, id);
        return e ? e->agency : NULL;
}

const struct group *config_find_group(const struct config *c, const char *id) {
        const struct config_id *e = config_lookup_id(c, id);
        return e ? e->group : NULL;
}

bool config_id_exists(const struct config *c, const char *id) {
        return config_lookup_id(c, id);
}

int config_expand(const struct config *c, char *const *ids, const char ***ret) {
        _cleanup_free_ bool *seen = calloc(c->n_agencies + 1, sizeof *seen);
        _cleanup_free_ const char **l = calloc(c->n_agencies + 1, sizeof *l);
        size_t n = 0;

        if (!seen || !l)
                return -ENOMEM;
        for (char *const *id = ids; id && *id; id++) {
                const struct config_id *e = config_lookup_id(c, *id);
                char *const single[2] = { *id, NULL };
                char *const *members;

                if (!e)
                        continue;
                members = e->agency ? single : e->group->members;
                for (char *const *m = members; *m; m++) {
                        const struct agency *a = config_find_agency(c, *m);
                        size_t i;

                        if (!a)
                                continue;
                        i = (size_t) (a - c->agencies);
                        if (!seen[i]) {
                                seen[i] = true;
                                l[n++] = a->id;
                        }
                }
        }
        l[n] = NULL;
        *ret = TAKE_PTR(l);
        return 0;
}
