/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A message's header section and what its values hold: unfolding, RFC 2047
 * encoded words, parameters (RFC 2231), the From address, message ids, the
 * Date; and the decoders the bodies share (charsets through iconv, base64,
 * quoted-printable). */

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "reply-internal.h"
#include "timeutil.h"
#include "utf8.h"

#define HEADER_VALUE_MAX (64u << 10)

/* ---- UTF-8 and charsets ---- */

void reply_put_codepoint(struct strbuf *out, uint32_t cp) {
        char b[4];

        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                cp = 0xFFFD;
        if (cp < 0x80) {
                strbuf_putc(out, (char) cp);
        } else if (cp < 0x800) {
                b[0] = (char) (0xC0 | (cp >> 6));
                b[1] = (char) (0x80 | (cp & 0x3F));
                strbuf_putn(out, b, 2);
        } else if (cp < 0x10000) {
                b[0] = (char) (0xE0 | (cp >> 12));
                b[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
                b[2] = (char) (0x80 | (cp & 0x3F));
                strbuf_putn(out, b, 3);
        } else {
                b[0] = (char) (0xF0 | (cp >> 18));
                b[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
                b[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
                b[3] = (char) (0x80 | (cp & 0x3F));
                strbuf_putn(out, b, 4);
        }
}

/* Copies valid UTF-8, U+FFFD for what is not, controls dropped. */
static void put_utf8_clean(struct strbuf *out, const char *s, size_t n) {
        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char) s[i];
                size_t k = utf8_char_length((const unsigned char *) s + i, n - i);

                if (k == 0) {
                        reply_put_codepoint(out, 0xFFFD);
                        i++;
                } else {
                        if (k > 1 || c == '\t' || c == '\n' || (c >= 0x20 && c != 0x7F))
                                strbuf_putn(out, s + i, k);
                        i += k;
                }
        }
}

static bool charset_is(const char *cs, const char *name) {
        return strcasecmp(cs, name) == 0;
}

void reply_put_charset(struct strbuf *out, const char *charset, const char *s, size_t n) {
        char buf[4096];
        const char *from;
        iconv_t cd;

        if (!charset || !*charset) {
                if (utf8_is_valid(s, n))
                        return put_utf8_clean(out, s, n);
                from = "WINDOWS-1252";
        } else if (charset_is(charset, "utf-8") || charset_is(charset, "utf8") || charset_is(charset, "us-ascii") ||
                   charset_is(charset, "ascii"))
                return put_utf8_clean(out, s, n);
        else if (charset_is(charset, "cp1258") || charset_is(charset, "windows-1258"))
                from = "WINDOWS-1258";
        /* Latin-1 as declared is windows-1252 as written (HTML5 does the same). */
        else if (charset_is(charset, "iso-8859-1") || charset_is(charset, "latin1") || charset_is(charset, "cp1252") ||
                 charset_is(charset, "windows-1252"))
                from = "WINDOWS-1252";
        else
                from = charset;

        cd = iconv_open("UTF-8", from);
        if (cd == (iconv_t) -1)
                return put_utf8_clean(out, s, n);

        char *in = (char *) s;
        size_t left = n;
        while (left > 0 && out->error == 0) {
                char *o = buf;
                size_t room = sizeof(buf);
                size_t r = iconv(cd, &in, &left, &o, &room);
                int e = r == (size_t) -1 ? errno : 0;

                put_utf8_clean(out, buf, (size_t) (o - buf));
                if (r != (size_t) -1)
                        break;
                if (e == E2BIG)
                        continue;
                /* An invalid or truncated sequence: one byte is lost. */
                reply_put_codepoint(out, 0xFFFD);
                in++, left--;
        }
        /* Flush a pending combining state (windows-1258 holds a base letter). */
        char *o = buf;
        size_t room = sizeof(buf);
        if (iconv(cd, NULL, NULL, &o, &room) != (size_t) -1)
                put_utf8_clean(out, buf, (size_t) (o - buf));
        iconv_close(cd);
}

/* ---- transfer encodings ---- */

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

static int b64val(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+' || c == '-')
                return 62;
        if (c == '/' || c == '_')
                return 63;
        return -1;
}

/* Base64, skipping what is not of the alphabet (line breaks, garbage). */
void reply_decode_base64(struct strbuf *out, const char *s, size_t n) {
        uint32_t acc = 0;
        int bits = 0;

        for (size_t i = 0; i < n && out->error == 0; i++) {
                int v = b64val(s[i]);
                if (s[i] == '=')
                        break;
                if (v < 0)
                        continue;
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        strbuf_putc(out, (char) ((acc >> bits) & 0xFF));
                }
        }
}

/* Quoted-printable; `q` for RFC 2047's Q encoding ("_" is a space). */
void reply_decode_qp(struct strbuf *out, const char *s, size_t n, bool q) {
        for (size_t i = 0; i < n && out->error == 0; i++) {
                if (s[i] == '=') {
                        if (i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
                                strbuf_putc(out, (char) (hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
                                i += 2;
                                continue;
                        }
                        /* A soft line break: "=" then optional blanks, then CRLF. */
                        size_t j = i + 1;
                        while (j < n && (s[j] == ' ' || s[j] == '\t'))
                                j++;
                        if (j < n && s[j] == '\r')
                                j++;
                        if (j < n && s[j] == '\n') {
                                i = j;
                                continue;
                        }
                        if (j >= n)
                                break;
                        strbuf_putc(out, '=');
                } else if (q && s[i] == '_')
                        strbuf_putc(out, ' ');
                else
                        strbuf_putc(out, s[i]);
        }
}

/* ---- headers ---- */

void reply_headers_done(struct reply_headers *hs) {
        for (size_t i = 0; i < hs->n; i++)
                free(hs->h[i].value);
        hs->n = 0;
}

const char *reply_header_get(const struct reply_headers *hs, const char *name) {
        size_t len = strlen(name);
        for (size_t i = 0; i < hs->n; i++)
                if (hs->h[i].name_len == len && strncasecmp(hs->h[i].name, name, len) == 0)
                        return hs->h[i].value;
        return NULL;
}

/* The end of the line at i (the index of '\n', or n). */
size_t reply_line_end(const char *p, size_t n, size_t i) {
        const char *e = memchr(p + i, '\n', n - i);
        return e ? (size_t) (e - p) : n;
}

/* Reads the header section; *ret_body is where the body begins. A section
 * that does not look like headers at all leaves hs empty and the body at 0. */
int reply_headers_parse(const char *p, size_t n, struct reply_headers *hs, size_t *ret_body) {
        size_t i = 0;

        hs->n = 0;
        while (i < n) {
                size_t e = reply_line_end(p, n, i), le = e;
                if (le > i && p[le - 1] == '\r')
                        le--;
                if (le == i) {          /* the blank line */
                        *ret_body = MIN(e + 1, n);
                        return 0;
                }
                const char *colon = memchr(p + i, ':', le - i);
                if (!colon || p[i] == ' ' || p[i] == '\t') {
                        if (hs->n == 0 && i == 0) {
                                *ret_body = 0;  /* no headers: all body */
                                return 0;
                        }
                        i = e + 1;      /* a stray line: skipped */
                        continue;
                }
                const char *name = p + i;
                size_t name_len = (size_t) (colon - name);
                while (name_len > 0 && (p[i + name_len - 1] == ' ' || p[i + name_len - 1] == '\t'))
                        name_len--;

                /* The value with its continuation lines, CRLFs dropped. */
                struct strbuf v = STRBUF_INIT(HEADER_VALUE_MAX);
                strbuf_putn(&v, colon + 1, le - (size_t) (colon + 1 - p));
                i = e + 1;
                while (i < n && (p[i] == ' ' || p[i] == '\t')) {
                        e = reply_line_end(p, n, i);
                        le = e;
                        if (le > i && p[le - 1] == '\r')
                                le--;
                        strbuf_putn(&v, p + i, le - i);
                        i = e + 1;
                }
                if (v.error == -ENOMEM)
                        return strbuf_done(&v), -ENOMEM;
                if (hs->n >= HEADERS_MAX || name_len == 0 || v.error < 0) {
                        strbuf_done(&v);
                        continue;
                }
                strbuf_putc(&v, 0);     /* makes an empty value "" */
                char *s = NULL;
                if (strbuf_steal(&v, &s, NULL) < 0)
                        return -ENOMEM;
                size_t a = strspn(s, " \t"), b = strlen(s);
                while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
                        b--;
                memmove(s, s + a, b - a);
                s[b - a] = 0;
                hs->h[hs->n++] = (struct reply_header) { .name = name, .name_len = name_len, .value = s };
        }
        *ret_body = n;
        return 0;
}

/* RFC 2047: "=?charset?B?...?=" and "=?charset?Q?...?=" words decoded;
 * blanks between two encoded words dropped; the rest as raw 8-bit text. */
static void decode_words(struct strbuf *out, const char *s) {
        size_t n = strlen(s);
        bool last_encoded = false;
        size_t pending_blank = 0, pending_at = 0;

        for (size_t i = 0; i < n;) {
                if (s[i] == '=' && i + 1 < n && s[i + 1] == '?') {
                        const char *cs = s + i + 2;
                        const char *q1 = memchr(cs, '?', n - (size_t) (cs - s));
                        if (q1 && q1 + 2 < s + n && q1[2] == '?' && strchr("BbQq", q1[1])) {
                                const char *text = q1 + 3;
                                const char *end = strstr(text, "?=");
                                if (end && q1 - cs < 64) {
                                        char charset[64];
                                        memcpy(charset, cs, (size_t) (q1 - cs));
                                        charset[q1 - cs] = 0;
                                        char *star = strchr(charset, '*');      /* RFC 2231 language */
                                        if (star)
                                                *star = 0;
                                        if (!last_encoded && pending_blank)
                                                strbuf_putn(out, s + pending_at, pending_blank);
                                        struct strbuf raw = STRBUF_INIT(HEADER_VALUE_MAX);
                                        if (q1[1] == 'B' || q1[1] == 'b')
                                                reply_decode_base64(&raw, text, (size_t) (end - text));
                                        else
                                                reply_decode_qp(&raw, text, (size_t) (end - text), true);
                                        reply_put_charset(out, charset, raw.data ? raw.data : "", raw.len);
                                        strbuf_done(&raw);
                                        i = (size_t) (end + 2 - s);
                                        last_encoded = true;
                                        pending_blank = 0;
                                        continue;
                                }
                        }
                }
                if (s[i] == ' ' || s[i] == '\t') {
                        size_t j = i;
                        while (j < n && (s[j] == ' ' || s[j] == '\t'))
                                j++;
                        pending_at = i;
                        pending_blank = j - i;
                        i = j;
                        continue;
                }
                size_t j = i + 1;
                while (j < n && s[j] != ' ' && s[j] != '\t' && !(s[j] == '=' && j + 1 < n && s[j + 1] == '?'))
                        j++;
                if (pending_blank)
                        strbuf_putn(out, s + pending_at, pending_blank);
                pending_blank = 0;
                reply_put_charset(out, NULL, s + i, j - i);
                last_encoded = false;
                i = j;
        }
        if (pending_blank && !last_encoded)
                strbuf_putn(out, s + pending_at, pending_blank);
}

char *reply_decode_header(const char *s) {
        struct strbuf b = STRBUF_INIT(HEADER_VALUE_MAX);
        char *ret = NULL;

        decode_words(&b, s);
        strbuf_putc(&b, 0);
        if (strbuf_steal(&b, &ret, NULL) < 0)
                return NULL;
        return ret;
}

/* ---- header values: parameters, addresses, ids, dates ---- */

/* The lower-case "type/subtype" of a Content-Type (or the disposition's
 * first word) into buf. */
void reply_value_type(const char *v, char *buf, size_t size) {
        size_t k = 0;
        v += strspn(v, " \t");
        for (; *v && *v != ';' && *v != ' ' && *v != '\t' && k + 1 < size; v++)
                buf[k++] = (char) (*v >= 'A' && *v <= 'Z' ? *v + 32 : *v);
        buf[k] = 0;
}

static void pct_decode(struct strbuf *out, const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
                        strbuf_putc(out, (char) (hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
                        i += 2;
                } else
                        strbuf_putc(out, s[i]);
}

#define SEGMENTS_MAX 32

/* A parameter of a structured header, decoded to UTF-8: RFC 2231
 * (name*=charset'lang'%xx, name*0*=, name*1=) over the plain form, and
 * RFC 2047 words inside a plain value as mailers write them. NULL when
 * absent. */
char *reply_value_param(const char *v, const char *name) {
        size_t name_len = strlen(name);
        struct strbuf seg[SEGMENTS_MAX] = {};
        bool seg_ext[SEGMENTS_MAX] = {};
        char charset[64] = "";
        char *plain = NULL, *ret = NULL;
        bool any_seg = false;

        const char *p = strchr(v, ';');
        while (p && *p) {
                p++;
                p += strspn(p, " \t;");
                const char *a = p;
                while (*p && *p != '=' && *p != ';')
                        p++;
                if (*p != '=')
                        continue;
                size_t alen = (size_t) (p - a);
                while (alen > 0 && (a[alen - 1] == ' ' || a[alen - 1] == '\t'))
                        alen--;
                p++;
                p += strspn(p, " \t");

                struct strbuf val = STRBUF_INIT(HEADER_VALUE_MAX);
                if (*p == '"') {
                        p++;
                        while (*p && *p != '"') {
                                if (*p == '\\' && p[1])
                                        p++;
                                strbuf_putc(&val, *p++);
                        }
                        if (*p == '"')
                                p++;
                } else {
                        const char *b = p;
                        while (*p && *p != ';')
                                p++;
                        size_t blen = (size_t) (p - b);
                        while (blen > 0 && (b[blen - 1] == ' ' || b[blen - 1] == '\t'))
                                blen--;
                        strbuf_putn(&val, b, blen);
                }
                strbuf_putc(&val, 0);
                const char *text = val.data ? val.data : "";

                if (alen == name_len && strncasecmp(a, name, name_len) == 0) {
                        if (!plain)
                                plain = strdup(text);
                } else if (alen > name_len && strncasecmp(a, name, name_len) == 0 && a[name_len] == '*') {
                        const char *rest = a + name_len + 1;
                        size_t rlen = alen - name_len - 1;
                        bool ext = rlen > 0 && rest[rlen - 1] == '*';
                        unsigned idx = 0;
                        if (ext)
                                rlen--;
                        if (rlen == 0)
                                ext = true;     /* name*=: one extended value */
                        bool ok = true;
                        for (size_t k = 0; k < rlen; k++) {
                                if (rest[k] < '0' || rest[k] > '9' || idx > SEGMENTS_MAX) {
                                        ok = false;
                                        break;
                                }
                                idx = idx * 10 + (unsigned) (rest[k] - '0');
                        }
                        if (ok && idx < SEGMENTS_MAX && seg[idx].len == 0) {
                                const char *t = text;
                                if (ext && idx == 0) {
                                        const char *q1 = strchr(t, '\'');
                                        const char *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
                                        if (q2) {
                                                size_t cl = MIN((size_t) (q1 - t), sizeof(charset) - 1);
                                                memcpy(charset, t, cl);
                                                charset[cl] = 0;
                                                t = q2 + 1;
                                        }
                                }
                                seg[idx] = STRBUF_INIT(HEADER_VALUE_MAX);
                                strbuf_puts(&seg[idx], t);
                                seg_ext[idx] = ext;
                                any_seg = true;
                        }
                }
                strbuf_done(&val);
        }

        if (any_seg) {
                struct strbuf raw = STRBUF_INIT(HEADER_VALUE_MAX), out = STRBUF_INIT(HEADER_VALUE_MAX);
                for (size_t k = 0; k < SEGMENTS_MAX && seg[k].len > 0; k++) {
                        if (seg_ext[k])
                                pct_decode(&raw, seg[k].data, seg[k].len);
                        else
                                strbuf_putn(&raw, seg[k].data, seg[k].len);
                }
                reply_put_charset(&out, charset[0] ? charset : NULL, raw.data ? raw.data : "", raw.len);
                strbuf_putc(&out, 0);
                strbuf_done(&raw);
                if (strbuf_steal(&out, &ret, NULL) < 0)
                        ret = NULL;
                if (ret && !*ret)
                        ret = mfree(ret);
        }
        for (size_t k = 0; k < SEGMENTS_MAX; k++)
                strbuf_done(&seg[k]);
        if (!ret && plain)
                ret = reply_decode_header(plain);
        free(plain);
        return ret;
}

/* The first address of a From header, lower case: the angle address if
 * there is one, else the first word with an "@", quoted strings and
 * comments skipped. */
char *reply_parse_from(const char *v) {
        const char *best = NULL;
        size_t best_len = 0;
        int depth = 0;
        bool quoted = false;

        for (const char *p = v; *p; p++) {
                if (quoted) {
                        if (*p == '\\' && p[1])
                                p++;
                        else if (*p == '"')
                                quoted = false;
                        continue;
                }
                if (depth > 0) {
                        if (*p == '(')
                                depth++;
                        else if (*p == ')')
                                depth--;
                        continue;
                }
                if (*p == '"')
                        quoted = true;
                else if (*p == '(')
                        depth = 1;
                else if (*p == ',')
                        break;
                else if (*p == '<') {
                        const char *e = strchr(p + 1, '>');
                        if (!e)
                                break;
                        best = p + 1;
                        best_len = (size_t) (e - best);
                        break;
                } else if (!best && *p != ' ' && *p != '\t') {
                        const char *e = p;
                        while (*e && !strchr(" \t,<(\"", *e))
                                e++;
                        if (memchr(p, '@', (size_t) (e - p))) {
                                best = p;
                                best_len = (size_t) (e - p);
                        }
                        p = e - 1;
                }
        }
        if (!best)
                return NULL;
        while (best_len > 0 && (*best == ' ' || *best == '\t'))
                best++, best_len--;
        while (best_len > 0 && (best[best_len - 1] == ' ' || best[best_len - 1] == '\t'))
                best_len--;
        if (best_len == 0 || best_len > 320 || !memchr(best, '@', best_len))
                return NULL;
        char *s = strndup(best, best_len);
        if (!s)
                return NULL;
        for (char *q = s; *q; q++) {
                if ((unsigned char) *q <= ' ' || *q == 0x7F) {
                        free(s);
                        return NULL;
                }
                if (*q >= 'A' && *q <= 'Z')
                        *q += 32;
        }
        return s;
}

/* Message ids in a header value: "<id>" each, or bare words with an "@". */
int reply_add_ids(char ***list, size_t *n, const char *v) {
        for (const char *p = v; p && *p && *n < REFERENCES_MAX;) {
                const char *a, *e;
                if (*p == '<') {
                        a = p + 1;
                        e = strchr(a, '>');
                        if (!e)
                                break;
                        p = e + 1;
                } else if (*p == ' ' || *p == '\t' || *p == ',') {
                        p++;
                        continue;
                } else {
                        a = p;
                        e = a + strcspn(a, " \t,<>");
                        p = *e == '>' ? e + 1 : e;
                        if (!memchr(a, '@', (size_t) (e - a)))
                                continue;
                }
                size_t len = (size_t) (e - a);
                bool printable = len > 0 && len <= 998;
                for (size_t k = 0; k < len && printable; k++)
                        printable = (unsigned char) a[k] > ' ' && (unsigned char) a[k] < 0x7F && a[k] != '<';
                if (!printable)
                        continue;
                bool dup = false;
                for (size_t k = 0; k < *n && !dup; k++)
                        dup = strlen((*list)[k]) == len && memcmp((*list)[k], a, len) == 0;
                if (dup)
                        continue;
                char **l = realloc(*list, (*n + 2) * sizeof(char *));
                if (!l)
                        return -ENOMEM;
                *list = l;
                if (!(l[*n] = strndup(a, len)))
                        return -ENOMEM;
                l[++*n] = NULL;
        }
        return 0;
}

static int month_from_name(const char *s) {
        static const char *const m[] = { "jan", "feb", "mar", "apr", "may", "jun",
                                         "jul", "aug", "sep", "oct", "nov", "dec" };
        for (int i = 0; i < 12; i++)
                if (strncasecmp(s, m[i], 3) == 0)
                        return i + 1;
        return 0;
}

/* The Date header (RFC 5322 3.3 with the obsolete forms of 4.3: two- and
 * three-digit years, named zones, military letters as -0000, comments). */
int64_t reply_parse_date(const char *v) {
        char buf[256];
        size_t k = 0;
        int depth = 0;

        /* Comments out, commas to blanks. */
        for (const char *p = v; *p && k + 1 < sizeof(buf); p++) {
                if (*p == '(')
                        depth++;
                else if (*p == ')' && depth > 0)
                        depth--;
                else if (depth == 0)
                        buf[k++] = *p == ',' ? ' ' : *p;
        }
        buf[k] = 0;

        char *tok[8];
        size_t nt = 0;
        char *save = NULL;
        for (char *t = strtok_r(buf, " \t", &save); t && nt < ELEMENTSOF(tok); t = strtok_r(NULL, " \t", &save))
                tok[nt++] = t;
        size_t i = 0;
        if (nt > 0 && ((tok[0][0] >= 'A' && tok[0][0] <= 'Z') || (tok[0][0] >= 'a' && tok[0][0] <= 'z')))
                i++;    /* the day of the week */
        if (nt < i + 4)
                return INT64_MIN;

        char *end;
        long d = strtol(tok[i], &end, 10);
        if (*end || d < 1 || d > 31)
                return INT64_MIN;
        int mo = month_from_name(tok[i + 1]);
        if (mo == 0 || strlen(tok[i + 1]) < 3)
                return INT64_MIN;
        long y = strtol(tok[i + 2], &end, 10);
        size_t ylen = (size_t) (end - tok[i + 2]);
        if (*end || y < 0 || ylen < 2 || ylen > 4)
                return INT64_MIN;
        if (ylen == 2)
                y += y < 50 ? 2000 : 1900;
        else if (ylen == 3)
                y += 1900;
        if (y < 1900 || y > 9999 || !civil_valid((int) y, mo, (int) d))
                return INT64_MIN;

        int hh, mm, ss = 0, used = 0;
        if (sscanf(tok[i + 3], "%2d:%2d%n", &hh, &mm, &used) != 2)
                return INT64_MIN;
        if (tok[i + 3][used] == ':') {
                int u2 = 0;
                if (sscanf(tok[i + 3] + used + 1, "%2d%n", &ss, &u2) != 1)
                        return INT64_MIN;
                used += 1 + u2;
        }
        if (tok[i + 3][used] || hh > 23 || mm > 59 || ss > 60 || hh < 0 || mm < 0 || ss < 0)
                return INT64_MIN;

        long zone = 0;  /* minutes east of UTC */
        if (nt > i + 4) {
                const char *z = tok[i + 4];
                static const struct {
                        const char *name;
                        int minutes;
                } named[] = {
                        { "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
                        { "EST", -300 }, { "EDT", -240 }, { "CST", -360 }, { "CDT", -300 },
                        { "MST", -420 }, { "MDT", -360 }, { "PST", -480 }, { "PDT", -420 },
                };
                if ((z[0] == '+' || z[0] == '-') && strlen(z) == 5 && strspn(z + 1, "0123456789") == 4) {
                        int hz = (z[1] - '0') * 10 + (z[2] - '0'), mz = (z[3] - '0') * 10 + (z[4] - '0');
                        if (mz > 59)
                                return INT64_MIN;
                        zone = (hz * 60 + mz) * (z[0] == '-' ? -1 : 1);
                } else {
                        for (size_t q = 0; q < ELEMENTSOF(named); q++)
                                if (strcasecmp(z, named[q].name) == 0)
                                        zone = named[q].minutes;
                        /* Military letters and unknown names: -0000, the time in UTC
                         * with no zone information (RFC 5322 4.3). */
                }
        }
        return (int64_t) days_from_civil((int) y, mo, (int) d) * SEC_PER_DAY + hh * SEC_PER_HOUR + mm * SEC_PER_MIN + ss -
               (int64_t) zone * SEC_PER_MIN;
}
