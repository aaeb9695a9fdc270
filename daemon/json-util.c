/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "json-util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "render-text.h"
#include "store.h"
#include "timeutil.h"
#include "utf8.h"

json_t *json_time(int64_t t) {
        char buf[26];

        if (t == NO_TIME)
                return json_null();
        format_rfc3339(t, buf);
        return json_string(buf);
}

json_t *json_text(const char *s) {
        _cleanup_free_ char *clean = NULL;
        json_t *j;

        if (!s)
                return json_null();
        j = json_string(s);
        if (j || text_clean(s, false, &clean) < 0)
                return j;
        return json_string(clean);
}

/* The compact serialiser and the writer share a growable buffer with a
 * sticky failure (struct json_writer). */
#define jbuf json_writer

static bool jbuf_reserve(struct jbuf *b, size_t n) {
        if (b->failed)
                return false;
        if (b->len + n + 1 > b->cap) {
                size_t cap = MAX(b->cap * 2, b->len + n + 1);
                char *p = realloc(b->data, cap);
                if (!p) {
                        b->failed = true;
                        return false;
                }
                b->data = p;
                b->cap = cap;
        }
        return true;
}

static void jbuf_putn(struct jbuf *b, const char *s, size_t n) {
        if (!jbuf_reserve(b, n))
                return;
        memcpy(b->data + b->len, s, n);
        b->len += n;
}

static void jbuf_putc(struct jbuf *b, char c) {
        if (!jbuf_reserve(b, 1))
                return;
        b->data[b->len++] = c;
}

/* A string as jansson writes it without JSON_ENSURE_ASCII or
 * JSON_ESCAPE_SLASH: UTF-8 as it is; '"', '\\' and the controls below
 * 0x20 escaped, with \uXXXX in capitals for those without a short form. */
static void dump_string(struct jbuf *b, const char *s, size_t n) {
        static const char hex[] = "0123456789ABCDEF";
        size_t run = 0;

        jbuf_putc(b, '"');
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                char esc[6];
                size_t k = 2;

                if (c >= 0x20 && c != '"' && c != '\\')
                        continue;
                jbuf_putn(b, s + run, i - run);
                run = i + 1;
                esc[0] = '\\';
                switch (c) {
                case '"':  esc[1] = '"'; break;
                case '\\': esc[1] = '\\'; break;
                case '\b': esc[1] = 'b'; break;
                case '\f': esc[1] = 'f'; break;
                case '\n': esc[1] = 'n'; break;
                case '\r': esc[1] = 'r'; break;
                case '\t': esc[1] = 't'; break;
                default:
                        memcpy(esc + 1, "u00", 3);
                        esc[4] = hex[c >> 4];
                        esc[5] = hex[c & 15];
                        k = 6;
                }
                jbuf_putn(b, esc, k);
        }
        jbuf_putn(b, s + run, n - run);
        jbuf_putc(b, '"');
}

static void dump_value(struct jbuf *b, const json_t *j) {
        switch (json_typeof(j)) {
        case JSON_OBJECT: {
                const char *key;
                json_t *v;
                bool first = true;

                jbuf_putc(b, '{');
                /* jansson keeps an object's keys in the order they were
                 * set, and json_dumps() writes them so. */
                json_object_foreach ((json_t *) j, key, v) {
                        if (!first)
                                jbuf_putc(b, ',');
                        first = false;
                        dump_string(b, key, strlen(key));
                        jbuf_putc(b, ':');
                        dump_value(b, v);
                }
                jbuf_putc(b, '}');
                break;
        }
        case JSON_ARRAY:
                jbuf_putc(b, '[');
                for (size_t i = 0; i < json_array_size(j); i++) {
                        if (i > 0)
                                jbuf_putc(b, ',');
                        dump_value(b, json_array_get(j, i));
                }
                jbuf_putc(b, ']');
                break;
        case JSON_STRING:
                dump_string(b, json_string_value(j), json_string_length(j));
                break;
        case JSON_INTEGER: {
                char buf[24];
                int n = snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
                jbuf_putn(b, buf, (size_t) n);
                break;
        }
        case JSON_REAL: {
                /* Rare here: jansson's own shortest form, to the byte. */
                char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
                if (!s) {
                        b->failed = true;
                        return;
                }
                jbuf_putn(b, s, strlen(s));
                free(s);
                break;
        }
        case JSON_TRUE:
                jbuf_putn(b, "true", 4);
                break;
        case JSON_FALSE:
                jbuf_putn(b, "false", 5);
                break;
        case JSON_NULL:
                jbuf_putn(b, "null", 4);
                break;
        }
}

int json_dump_compact(const json_t *j, size_t size_hint, char **ret, size_t *ret_size) {
        struct jbuf b = {};

        if (!j || (!json_is_object(j) && !json_is_array(j)))
                return -EINVAL;
        if (size_hint > 0)
                (void) jbuf_reserve(&b, size_hint);
        dump_value(&b, j);
        if (!jbuf_reserve(&b, 0)) {
                free(b.data);
                return -ENOMEM;
        }
        b.data[b.len] = 0;
        *ret = b.data;
        *ret_size = b.len;
        return 0;
}

void json_writer_init(struct json_writer *w, size_t size_hint) {
        *w = (struct json_writer) {};
        if (size_hint > 0)
                (void) jbuf_reserve(w, size_hint);
}

void json_writer_done(struct json_writer *w) {
        free(w->data);
        *w = (struct json_writer) {};
}

/* The comma before a value or key, unless it is the first of its object
 * or array, or the value of the key just written. */
static void json_write_separator(struct json_writer *w) {
        uint64_t bit = UINT64_C(1) << w->depth;

        if (w->keyed) {
                w->keyed = false;
                return;
        }
        if (w->written & bit)
                jbuf_putc(w, ',');
        w->written |= bit;
}

void json_write_open(struct json_writer *w, char brace) {
        json_write_separator(w);
        jbuf_putc(w, brace);
        if (w->depth >= 63) {
                w->failed = true;
                return;
        }
        w->depth++;
        w->written &= ~(UINT64_C(1) << w->depth);
}

void json_write_close(struct json_writer *w, char brace) {
        jbuf_putc(w, brace);
        if (w->depth > 0)
                w->depth--;
}

void json_write_key(struct json_writer *w, const char *key) {
        json_write_separator(w);
        dump_string(w, key, strlen(key));
        jbuf_putc(w, ':');
        w->keyed = true;
}

void json_write_text(struct json_writer *w, const char *s) {
        _cleanup_free_ char *clean = NULL;
        size_t n;

        if (!s) {
                json_write_null(w);
                return;
        }
        n = strlen(s);
        if (!utf8_is_valid(s, n)) {
                if (text_clean(s, false, &clean) < 0) {
                        w->failed = true;
                        return;
                }
                s = clean;
                n = strlen(s);
        }
        json_write_separator(w);
        dump_string(w, s, n);
}

void json_write_int(struct json_writer *w, int64_t v) {
        char buf[24];
        int n = snprintf(buf, sizeof buf, "%" PRId64, v);

        json_write_separator(w);
        jbuf_putn(w, buf, (size_t) n);
}

void json_write_bool(struct json_writer *w, bool v) {
        json_write_separator(w);
        if (v)
                jbuf_putn(w, "true", 4);
        else
                jbuf_putn(w, "false", 5);
}

void json_write_null(struct json_writer *w) {
        json_write_separator(w);
        jbuf_putn(w, "null", 4);
}

void json_write_time(struct json_writer *w, int64_t t) {
        char buf[26];

        if (t == NO_TIME) {
                json_write_null(w);
                return;
        }
        format_rfc3339(t, buf);
        json_write_text(w, buf);
}

int json_writer_finish(struct json_writer *w, char **ret, size_t *ret_size) {
        if (w->depth != 0 || !jbuf_reserve(w, 0)) {
                int r = w->failed ? -ENOMEM : -EINVAL;
                json_writer_done(w);
                return r;
        }
        w->data[w->len] = 0;
        *ret = w->data;
        *ret_size = w->len;
        *w = (struct json_writer) {};
        return 0;
}
