/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <utf8proc.h>

#include "config-parse.h"
#include "timeutil.h"
#include "url.h"
#include "utf8.h"

static void parser_verror(struct parser *p, unsigned line, const char *path, const char *format, va_list ap) {
        _cleanup_free_ char *msg = NULL;
        char *text = NULL;
        bool has_path = path && *path;
        struct parse_error *e;
        int r;

        if (p->n_errors >= CONFIG_ERRORS_MAX) {
                p->n_dropped++;
                return;
        }
        r = vasprintf(&msg, format, ap);
        if (r < 0) {
                msg = NULL;
                p->oom = true;
                return;
        }
        if (line > 0)
                r = asprintf(&text, "%s:%u: %s%s%s", p->file, line, has_path ? path : "", has_path ? ": " : "",
                             msg);
        else
                r = asprintf(&text, "%s: %s%s%s", p->file, has_path ? path : "", has_path ? ": " : "", msg);
        if (r < 0) {
                p->oom = true;
                return;
        }
        e = reallocarray(p->errors, p->n_errors + 1, sizeof *e);
        if (!e) {
                free(text);
                p->oom = true;
                return;
        }
        p->errors = e;
        p->errors[p->n_errors] = (struct parse_error) { .line = line, .seq = p->n_errors, .text = text };
        p->n_errors++;
}

void parser_error(struct parser *p, const config_setting_t *s, const char *path, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        parser_verror(p, s ? config_setting_source_line(s) : 0, path, format, ap);
        va_end(ap);
}

void parser_error_at(struct parser *p, unsigned line, const char *path, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        parser_verror(p, line, path, format, ap);
        va_end(ap);
}

static int parse_error_cmp(const void *a, const void *b) {
        const struct parse_error *x = a, *y = b;

        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int parser_join_errors(struct parser *p, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        if (p->oom)
                return -ENOMEM;
        /* Errors are found setting by setting, cross-checks last; people
         * read them best in the order of the file. */
        qsort(p->errors, p->n_errors, sizeof *p->errors, parse_error_cmp);
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_errors; i++)
                fprintf(f, "%s\n", p->errors[i].text);
        if (p->n_dropped > 0)
                fprintf(f, "%s: %zu more errors not shown\n", p->file, p->n_dropped);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

void parser_done(struct parser *p) {
        for (size_t i = 0; i < p->n_errors; i++)
                free(p->errors[i].text);
        free(p->errors);
        p->errors = NULL;
        p->n_errors = 0;
}

/* Paths only appear in messages: a long one is cut and marked, not an error. */
static const char *path_truncated(char buf[static SETTING_PATH_MAX], int r) {
        if (r >= SETTING_PATH_MAX)
                memcpy(buf + SETTING_PATH_MAX - 4, "...", 4);
        return buf;
}

const char *parser_path_member(char buf[static SETTING_PATH_MAX], const char *parent, const char *name) {
        if (parent && *parent)
                return path_truncated(buf, snprintf(buf, SETTING_PATH_MAX, "%s.%s", parent, name));
        return path_truncated(buf, snprintf(buf, SETTING_PATH_MAX, "%s", name));
}

const char *parser_path_elem(char buf[static SETTING_PATH_MAX], const char *parent, size_t i) {
        return path_truncated(buf, snprintf(buf, SETTING_PATH_MAX, "%s[%zu]", parent, i));
}

static bool utf8_valid(const char *s) {
        return utf8_is_valid(s, strlen(s));
}

const char *parser_quote(const char *s, char *buf, size_t size) {
        /* Bytes that are not UTF-8 are shown escaped, so that the message
         * itself stays valid text. */
        bool raw_high = utf8_valid(s);
        size_t n = 0;

        buf[n++] = '"';
        for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
                /* Cut only between characters, keeping room for one escape
                 * (4 bytes), the ellipsis (3), '"' and NUL. */
                if ((!raw_high || (*c & 0xc0) != 0x80) && n + 10 > size) {
                        memcpy(buf + n, "\xe2\x80\xa6", 3);
                        n += 3;
                        break;
                }
                if (*c == '"' || *c == '\\') {
                        buf[n++] = '\\';
                        buf[n++] = (char) *c;
                } else if (*c == '\n') {
                        buf[n++] = '\\';
                        buf[n++] = 'n';
                } else if (*c == '\r') {
                        buf[n++] = '\\';
                        buf[n++] = 'r';
                } else if (*c < 0x20 || *c == 0x7f || (*c >= 0x80 && !raw_high))
                        n += (size_t) snprintf(buf + n, size - n, "\\x%02x", *c);
                else
                        buf[n++] = (char) *c;
        }
        buf[n++] = '"';
        buf[n] = 0;
        return buf;
}

const char *parser_quote_url(const char *url, char *buf, size_t size) {
        char redacted[CONFIG_URL_MAX + 1];

        return parser_quote(url_redact(url, redacted, sizeof redacted), buf, size);
}

static const char *type_name(const config_setting_t *s) {
        switch (config_setting_type(s)) {
        case CONFIG_TYPE_GROUP:  return "a group { … }";
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64:  return "a number";
        case CONFIG_TYPE_FLOAT:  return "a decimal number";
        case CONFIG_TYPE_STRING: return "a string";
        case CONFIG_TYPE_BOOL:   return "true or false";
        case CONFIG_TYPE_ARRAY:  return "an array [ … ]";
        case CONFIG_TYPE_LIST:   return "a list ( … )";
        default:                 return "nothing";
        }
}

/* Edit distance, for "did you mean" hints on misspelt setting names. */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b), row[65];

        if (la > 64 || lb > 64)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), diag + (a[i - 1] != b[j - 1]));
                        diag = up;
                }
        }
        return row[lb];
}

bool parser_check_keys(struct parser *p, const config_setting_t *group, const char *path,
                       const char *const *known) {
        bool ok = true;

        for (int i = 0; i < config_setting_length(group); i++) {
                const config_setting_t *s = config_setting_get_elem(group, (unsigned) i);
                const char *name = config_setting_name(s), *best = NULL;
                size_t best_d = 3;
                char buf[SETTING_PATH_MAX];
                bool found = false;

                for (const char *const *k = known; *k; k++) {
                        size_t d;
                        if (streq(*k, name)) {
                                found = true;
                                break;
                        }
                        d = edit_distance(name, *k);
                        if (d < best_d) {
                                best_d = d;
                                best = *k;
                        }
                }
                if (found)
                        continue;
                ok = false;
                if (best)
                        parser_error(p, s, parser_path_member(buf, path, name), "unknown setting (did you mean %s?)",
                                     best);
                else
                        parser_error(p, s, parser_path_member(buf, path, name), "unknown setting");
        }
        return ok;
}

int parser_get_group(struct parser *p, const config_setting_t *g, const char *path, const char *key,
                     config_setting_t **ret) {
        config_setting_t *s = config_setting_get_member(g, key);
        char buf[SETTING_PATH_MAX];

        if (!s)
                return 0;
        if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
                parser_error(p, s, parser_path_member(buf, path, key), "must be a group { … }, not %s", type_name(s));
                return -EINVAL;
        }
        *ret = s;
        return 1;
}

/* The checks every string value gets. Control characters are refused
 * everywhere: no setting has a use for them, and in names, addresses and
 * header values a line break would let text become a header of its own. */
static int check_string(struct parser *p, const config_setting_t *s, const char *path, const char *v, size_t max,
                        string_check_fn check, bool is_url) {
        const char *(*show)(const char *, char *, size_t) = is_url ? parser_quote_url : parser_quote;
        char q[QUOTE_MAX];
        const char *problem;

        if (!*v) {
                parser_error(p, s, path, "must not be empty");
                return -EINVAL;
        }
        if (strlen(v) > max) {
                parser_error(p, s, path, "is longer than %zu bytes", max);
                return -EINVAL;
        }
        if (!utf8_valid(v)) {
                parser_error(p, s, path, "%s is not valid UTF-8", show(v, q, sizeof q));
                return -EINVAL;
        }
        if (strpbrk(v, "\r\n")) {
                parser_error(p, s, path, "%s contains a line break", show(v, q, sizeof q));
                return -EINVAL;
        }
        for (const unsigned char *c = (const unsigned char *) v; *c; c++)
                if (*c < 0x20 || *c == 0x7f) {
                        parser_error(p, s, path, "%s contains a control character", show(v, q, sizeof q));
                        return -EINVAL;
                }
        if (check && (problem = check(v))) {
                parser_error(p, s, path, "%s %s", show(v, q, sizeof q), problem);
                return -EINVAL;
        }
        return 0;
}

static int get_string_full(struct parser *p, const config_setting_t *g, const char *path, const char *key,
                           size_t max, string_check_fn check, bool is_url, char **ret) {
        config_setting_t *s = config_setting_get_member(g, key);
        char buf[SETTING_PATH_MAX];
        char *copy;

        if (!s)
                return 0;
        parser_path_member(buf, path, key);
        if (config_setting_type(s) != CONFIG_TYPE_STRING) {
                parser_error(p, s, buf, "must be a string, not %s", type_name(s));
                return -EINVAL;
        }
        if (check_string(p, s, buf, config_setting_get_string(s), max, check, is_url) < 0)
                return -EINVAL;
        copy = strdup(config_setting_get_string(s));
        if (!copy) {
                p->oom = true;
                return -ENOMEM;
        }
        *ret = copy;
        return 1;
}

int parser_get_string(struct parser *p, const config_setting_t *g, const char *path, const char *key, size_t max,
                      string_check_fn check, char **ret) {
        return get_string_full(p, g, path, key, max, check, false, ret);
}

int parser_get_url(struct parser *p, const config_setting_t *g, const char *path, const char *key,
                   const char *const *schemes, bool *ret_loopback, char **ret) {
        _cleanup_free_ char *url = NULL;
        char buf[SETTING_PATH_MAX], q[QUOTE_MAX];
        const char *problem;
        int r;

        r = get_string_full(p, g, path, key, CONFIG_URL_MAX, NULL, true, &url);
        if (r <= 0)
                return r;
        problem = parser_check_url(url, schemes, ret_loopback);
        if (problem) {
                parser_error(p, config_setting_get_member(g, key), parser_path_member(buf, path, key), "%s %s",
                             parser_quote_url(url, q, sizeof q), problem);
                return -EINVAL;
        }
        *ret = TAKE_PTR(url);
        return 1;
}

int parser_get_bool(struct parser *p, const config_setting_t *g, const char *path, const char *key, bool *ret) {
        config_setting_t *s = config_setting_get_member(g, key);
        char buf[SETTING_PATH_MAX];

        if (!s)
                return 0;
        if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
                parser_error(p, s, parser_path_member(buf, path, key), "must be true or false, not %s", type_name(s));
                return -EINVAL;
        }
        *ret = config_setting_get_bool(s);
        return 1;
}

int parser_get_int(struct parser *p, const config_setting_t *g, const char *path, const char *key, int min, int max,
                   int *ret) {
        config_setting_t *s = config_setting_get_member(g, key);
        char buf[SETTING_PATH_MAX];
        long long v;

        if (!s)
                return 0;
        parser_path_member(buf, path, key);
        if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
                parser_error(p, s, buf, "must be a whole number, not %s", type_name(s));
                return -EINVAL;
        }
        v = config_setting_get_int64(s);
        if (v < min || v > max) {
                parser_error(p, s, buf, "%lld is out of range (%d to %d)", v, min, max);
                return -EINVAL;
        }
        *ret = (int) v;
        return 1;
}

int parser_get_duration(struct parser *p, const config_setting_t *g, const char *path, const char *key, int64_t min,
                        int64_t max, int64_t *ret) {
        _cleanup_free_ char *v = NULL;
        char buf[SETTING_PATH_MAX], limit[32], q[QUOTE_MAX];
        int64_t d;
        int r;

        r = parser_get_string(p, g, path, key, 32, parser_check_duration, &v);
        if (r <= 0)
                return r;
        if (parse_duration(v, &d) < 0)
                return -EINVAL; /* parser_check_duration() let it through: cannot happen */
        if (d < min || d > max) {
                format_duration(d < min ? min : max, limit, sizeof limit);
                parser_error(p, config_setting_get_member(g, key), parser_path_member(buf, path, key),
                             "%s is too %s (at %s %s)", parser_quote(v, q, sizeof q), d < min ? "short" : "long",
                             d < min ? "least" : "most", limit);
                return -EINVAL;
        }
        *ret = d;
        return 1;
}

int parser_get_offset(struct parser *p, const config_setting_t *g, const char *path, const char *key, int64_t max,
                      int64_t *ret) {
        _cleanup_free_ char *v = NULL;
        char buf[SETTING_PATH_MAX], limit[32], q[QUOTE_MAX];
        int64_t d;
        int r;

        r = parser_get_string(p, g, path, key, 32, parser_check_offset, &v);
        if (r <= 0)
                return r;
        if (parse_offset(v, &d) < 0)
                return -EINVAL; /* parser_check_offset() let it through: cannot happen */
        if (!duration_is_workdays(d) && d > max) {
                format_duration(max, limit, sizeof limit);
                parser_error(p, config_setting_get_member(g, key), parser_path_member(buf, path, key),
                             "%s is too long (at most %s)", parser_quote(v, q, sizeof q), limit);
                return -EINVAL;
        }
        *ret = d;
        return 1;
}

int parser_get_path(struct parser *p, const config_setting_t *g, const char *path, const char *key, char **ret) {
        _cleanup_free_ char *v = NULL;
        char *abs;
        int r;

        r = parser_get_string(p, g, path, key, PATH_MAX - 1, NULL, &v);
        if (r <= 0)
                return r;
        if (v[0] == '/') {
                *ret = TAKE_PTR(v);
                return 1;
        }
        if (asprintf(&abs, "%s/%s", p->dir, v) < 0) {
                p->oom = true;
                return -ENOMEM;
        }
        *ret = abs;
        return 1;
}

const config_setting_t *parser_setting_elem(const config_setting_t *list, size_t i) {
        if (config_setting_type(list) == CONFIG_TYPE_STRING)
                return list;
        return config_setting_get_elem(list, (unsigned) i);
}

int parser_get_strv(struct parser *p, const config_setting_t *g, const char *path, const char *key, size_t max_items,
                    size_t max_len, string_check_fn check, char ***ret, config_setting_t **ret_setting) {
        config_setting_t *s = config_setting_get_member(g, key);
        _cleanup_strv_free_ char **l = NULL;
        char buf[SETTING_PATH_MAX], ebuf[SETTING_PATH_MAX];
        size_t n, k = 0;
        bool ok = true;

        if (!s)
                return 0;
        parser_path_member(buf, path, key);
        if (config_setting_type(s) == CONFIG_TYPE_STRING)
                n = 1;
        else if (config_setting_type(s) == CONFIG_TYPE_ARRAY || config_setting_type(s) == CONFIG_TYPE_LIST)
                n = (size_t) config_setting_length(s);
        else {
                parser_error(p, s, buf, "must be a list of strings [\"…\", \"…\"], not %s", type_name(s));
                return -EINVAL;
        }
        if (n > max_items) {
                parser_error(p, s, buf, "has %zu entries, more than the %zu allowed", n, max_items);
                return -EINVAL;
        }
        l = calloc(n + 1, sizeof *l);
        if (!l) {
                p->oom = true;
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                const config_setting_t *e = parser_setting_elem(s, i);
                const char *epath = config_setting_type(s) == CONFIG_TYPE_STRING ? buf : parser_path_elem(ebuf, buf, i);

                if (config_setting_type(e) != CONFIG_TYPE_STRING) {
                        parser_error(p, e, epath, "must be a string, not %s", type_name(e));
                        ok = false;
                        continue;
                }
                if (check_string(p, e, epath, config_setting_get_string(e), max_len, check, false) < 0) {
                        ok = false;
                        continue;
                }
                /* Valid entries are packed, so that the list stays
                 * NULL-terminated and freeable even when some are wrong. */
                l[k] = strdup(config_setting_get_string(e));
                if (!l[k++]) {
                        p->oom = true;
                        return -ENOMEM;
                }
        }
        if (!ok)
                return -EINVAL;
        *ret = TAKE_PTR(l);
        if (ret_setting)
                *ret_setting = s;
        return 1;
}

int parser_read_all(int fd, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = malloc(max + 2);
        size_t n = 0;

        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf + n, max + 1 - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > max)
                        return -EFBIG;
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

int parser_read_secret(struct parser *p, const config_setting_t *s, const char *path, const char *file,
                       bool check_mode, char **ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t n;
        int r;

        /* O_NONBLOCK: a FIFO in place of the file must not hang start-up. */
        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                parser_error(p, s, path, "%s: %s", file, strerror(errno));
                return -EINVAL;
        }
        if (fstat(fd, &st) < 0) {
                parser_error(p, s, path, "%s: %s", file, strerror(errno));
                return -EINVAL;
        }
        if (!S_ISREG(st.st_mode)) {
                parser_error(p, s, path, "%s is not a regular file", file);
                return -EINVAL;
        }
        /* A secret that others can read is no longer a secret, and a file
         * others can write lets them choose our password: refuse both,
         * before reading a byte of it. */
        if (check_mode && (st.st_mode & 0077)) {
                parser_error(p, s, path, "%s is %s by group or others (mode %04o); chmod 600 it", file,
                             st.st_mode & 0044 ? "readable" : "writable",
                             (unsigned) (st.st_mode & 07777));
                return -EINVAL;
        }
        r = parser_read_all(fd, CONFIG_SECRET_MAX, &buf, &n);
        if (r == -EFBIG) {
                parser_error(p, s, path, "%s is larger than %d bytes", file, CONFIG_SECRET_MAX);
                return -EINVAL;
        }
        if (r == -ENOMEM) {
                p->oom = true;
                return r;
        }
        if (r < 0) {
                parser_error(p, s, path, "%s: %s", file, strerror(-r));
                return -EINVAL;
        }
        /* Editors end files with a newline; it is not part of the secret. */
        if (n > 0 && buf[n - 1] == '\n')
                buf[--n] = 0;
        if (n > 0 && buf[n - 1] == '\r')
                buf[--n] = 0;
        if (n == 0) {
                parser_error(p, s, path, "%s is empty", file);
                return -EINVAL;
        }
        if (memchr(buf, 0, n) || memchr(buf, '\n', n) || memchr(buf, '\r', n)) {
                parser_error(p, s, path, "%s must hold one line, without NUL bytes", file);
                return -EINVAL;
        }
        *ret = TAKE_PTR(buf);
        return 1;
}

int parser_get_secret_file(struct parser *p, const config_setting_t *g, const char *path, const char *key,
                           char **ret) {
        _cleanup_free_ char *file = NULL;
        char buf[SETTING_PATH_MAX];
        int r;

        r = parser_get_path(p, g, path, key, &file);
        if (r <= 0)
                return r;
        return parser_read_secret(p, config_setting_get_member(g, key), parser_path_member(buf, path, key), file, true,
                                  ret);
}

static const char *credential_name_check(const char *s) {
        if (strlen(s) > 64 || streq(s, ".") || streq(s, ".."))
                return "is not a credential name (at most 64 letters, digits, '-', '_' and '.')";
        for (const char *c = s; *c; c++)
                if (!isalnum((unsigned char) *c) && !strchr("-_.", *c))
                        return "is not a credential name (at most 64 letters, digits, '-', '_' and '.')";
        return NULL;
}

int parser_get_credential(struct parser *p, const config_setting_t *g, const char *path, const char *key, char **ret) {
        static const char *const stores[] = { "/run/credstore", "/etc/credstore" };
        const char *creds = getenv("CREDENTIALS_DIRECTORY");
        _cleanup_free_ char *name = NULL, *file = NULL;
        const config_setting_t *s = config_setting_get_member(g, key);
        char buf[SETTING_PATH_MAX];
        int r;

        r = parser_get_string(p, g, path, key, 64, credential_name_check, &name);
        if (r <= 0)
                return r;
        parser_path_member(buf, path, key);
        /* In the service, systemd's LoadCredential= has put the secret
         * where only this service can read it, so its mode is not checked;
         * a missing one is a unit without the LoadCredential= line. */
        if (creds && *creds) {
                if (asprintf(&file, "%s/%s", creds, name) < 0) {
                        p->oom = true;
                        return -ENOMEM;
                }
                if (access(file, F_OK) < 0) {
                        parser_error(p, s, buf, "credential %s was not passed to the service (LoadCredential=%s)",
                                     name, name);
                        return -EINVAL;
                }
                return parser_read_secret(p, s, buf, file, false, ret);
        }
        /* Outside the service (deadlinectl, check-config) the credential is
         * read from systemd's credential store if this user may; if not, it
         * is left unset: it may still be there for the service. */
        for (size_t i = 0; i < ELEMENTSOF(stores); i++) {
                free(file);
                if (asprintf(&file, "%s/%s", stores[i], name) < 0) {
                        file = NULL;
                        p->oom = true;
                        return -ENOMEM;
                }
                if (access(file, R_OK) >= 0)
                        return parser_read_secret(p, s, buf, file, false, ret);
        }
        return 0;
}

static bool host_is_loopback(const char *host) {
        struct in_addr a4;
        struct in6_addr a6;
        char inner[INET6_ADDRSTRLEN + 2];
        size_t n = strlen(host);

        if (strcasecmp(host, "localhost") == 0)
                return true;
        if (inet_pton(AF_INET, host, &a4) == 1)
                return (ntohl(a4.s_addr) >> 24) == 127;
        if (n > 2 && n < sizeof inner && host[0] == '[' && host[n - 1] == ']') {
                memcpy(inner, host + 1, n - 2);
                inner[n - 2] = 0;
                return inet_pton(AF_INET6, inner, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
        }
        return false;
}

const char *parser_check_url(const char *url, const char *const *schemes, bool *ret_loopback) {
        CURLU *u = NULL;
        char *user = NULL, *password = NULL, *host = NULL;
        const char *problem = NULL;
        bool scheme_ok = false;

        for (const char *const *s = schemes; *s; s++) {
                size_t l = strlen(*s);
                if (strncasecmp(url, *s, l) == 0 && strncmp(url + l, "://", 3) == 0)
                        scheme_ok = true;
        }
        if (!scheme_ok)
                return schemes[1] ? (streq(schemes[0], "http") ? "must start with http:// or https://" :
                                     streq(schemes[0], "imap") ? "must start with imaps:// or imap://"
                                                               : "must start with smtp:// or smtps://")
                                  : "has an unsupported scheme";
        for (const unsigned char *c = (const unsigned char *) url; *c; c++)
                if (*c <= 0x20 || *c >= 0x7f)
                        return "contains a space or a non-ASCII character (percent-encode it)";

        /* The URL is judged by the parser that will later connect to it,
         * so the host we check is the host curl talks to. */
        u = curl_url();
        if (!u)
                return "could not be parsed (out of memory)";
        if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
                problem = "is not a valid URL";
        else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
                 curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK)
                problem = "must not contain a user name or password";
        else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host)
                problem = "has no host";
        else if (ret_loopback)
                *ret_loopback = host_is_loopback(host);
        curl_free(user);
        curl_free(password);
        curl_free(host);
        curl_url_cleanup(u);
        return problem;
}

const char *parser_check_id(const char *s) {
        size_t n = strlen(s);

        if (n > 64 || !(islower((unsigned char) s[0]) || isdigit((unsigned char) s[0])))
                goto bad;
        for (size_t i = 1; i < n; i++)
                if (!(islower((unsigned char) s[i]) || isdigit((unsigned char) s[i]) || s[i] == '-' || s[i] == '_'))
                        goto bad;
        return NULL;
bad:
        return "is not a valid id (lower-case letters a-z, digits, '-' and '_', starting with a letter or digit, "
               "at most 64)";
}

static bool atext(char c) {
        return isalnum((unsigned char) c) || strchr("!#$%&'*+-/=?^_`{|}~", c);
}

const char *parser_check_email(const char *s) {
        const char *at;
        size_t local;

        if (strlen(s) > 254)
                return "is longer than 254 bytes";
        for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
                if (*c < 0x20 || *c == 0x7f)
                        return "contains a control character";
                if (*c == ' ')
                        return "contains a space";
                if (strchr("<>,;\"", *c))
                        return "must be a bare address, without a name, quotes, <>, ',' or ';'";
                if (*c >= 0x80)
                        return "contains non-ASCII characters (internationalized addresses are not supported)";
        }
        at = strchr(s, '@');
        if (!at)
                return "is not an e-mail address (no \"@\")";
        if (strchr(at + 1, '@'))
                return "has more than one \"@\"";
        local = (size_t) (at - s);
        if (local == 0)
                return "has an empty local part (before \"@\")";
        if (!at[1])
                return "has an empty domain (after \"@\")";
        if (local > 64)
                return "has a local part longer than 64 bytes";
        if (s[0] == '.' || at[-1] == '.')
                return "has a local part that starts or ends with '.'";
        for (size_t i = 0; i < local; i++)
                if (!(atext(s[i]) || (s[i] == '.' && s[i + 1] != '.')))
                        return "has an invalid local part";
        for (const char *label = at + 1;;) {
                size_t n = strcspn(label, ".");
                if (n == 0 || n > 63 || label[0] == '-' || label[n - 1] == '-')
                        return "has an invalid domain";
                for (size_t i = 0; i < n; i++)
                        if (!isalnum((unsigned char) label[i]) && label[i] != '-')
                                return "has an invalid domain";
                if (!label[n])
                        break;
                label += n + 1;
        }
        return NULL;
}

bool config_email_address_valid(const char *s) {
        return s && !parser_check_email(s);
}

/* "Name <addr>" or "addr", as spans of `s` (the name possibly empty), or
 * what is wrong with it. */
static const char *mailbox_split(const char *s, const char **ret_name, size_t *ret_name_len,
                                 const char **ret_addr, size_t *ret_addr_len) {
        const char *lt = strchr(s, '<'), *name = s, *name_end;
        size_t n = strlen(s), addr_len;
        char addr[256];

        if (!lt) {
                *ret_name = s, *ret_name_len = 0;
                *ret_addr = s, *ret_addr_len = n;
                return parser_check_email(s);
        }
        if (s[n - 1] != '>' || strchr(lt + 1, '<') || strchr(lt + 1, '>') != s + n - 1)
                return "is not \"Name <address>\" or a bare address";
        name_end = lt;
        while (name_end > name && name_end[-1] == ' ')
                name_end--;
        while (name < name_end && *name == ' ')
                name++;
        for (const char *c = name; c < name_end; c++)
                if (strchr("\"\\<>", *c))
                        return "has a display name with quotes, backslashes or angle brackets";
        addr_len = (size_t) (s + n - 1 - (lt + 1));
        if (addr_len >= sizeof addr)
                return "has an address longer than 254 bytes";
        memcpy(addr, lt + 1, addr_len);
        addr[addr_len] = 0;
        *ret_name = name, *ret_name_len = (size_t) (name_end - name);
        *ret_addr = lt + 1, *ret_addr_len = addr_len;
        return parser_check_email(addr);
}

const char *parser_check_mailbox(const char *s) {
        const char *name, *addr;
        size_t name_len, addr_len;

        return mailbox_split(s, &name, &name_len, &addr, &addr_len);
}

const char *parser_check_duration(const char *s) {
        int64_t d;
        int r = parse_duration(s, &d);

        if (r == -ERANGE)
                return "is too long";
        if (r < 0)
                return "is not a duration (use 90s, 15m, 12h, 7d or 2w)";
        return NULL;
}

const char *parser_check_offset(const char *s) {
        int64_t d;
        int r = parse_offset(s, &d);

        if (r == -EDOM)
                return "counts no working day (use 0d for the deadline's own day)";
        if (r == -ERANGE)
                return "is too long (at most " STRINGIFY(WORKDAYS_MAX) "wd or 3660d)";
        if (r < 0)
                return "is not a duration (use 90s, 15m, 12h, 7d, 2w, or 5wd for working days)";
        return NULL;
}

const char *parser_check_date(const char *s) {
        int32_t day;

        if (parse_iso_date(s, &day) < 0)
                return "is not a date (use YYYY-MM-DD, years " STRINGIFY(YEAR_MIN) "-" STRINGIFY(YEAR_MAX) ")";
        return NULL;
}

const char *parser_check_weekday(const char *s) {
        if (parse_weekday(s) < 0)
                return "is not a weekday (use mon, tue, wed, thu, fri, sat or sun)";
        return NULL;
}
