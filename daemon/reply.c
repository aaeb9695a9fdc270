/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An e-mail message read as an agency's reply: RFC 5322 headers (unfolded,
 * RFC 2047 encoded words), the Date, the addresses and thread ids, and the
 * MIME tree (multipart nesting, transfer encodings, charsets, attachment
 * names) within the reader's limits. What the words say is reply-text.c's. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "reply-internal.h"
#include "textnorm.h"
#include "timeutil.h"

#define ATTACHMENTS_MAX 64
#define NAME_MAX_BYTES 255

/* ---- MIME ---- */

struct text_part {
        const char *body;
        size_t len;
        char charset[64];
        char encoding[32];
        bool found;
};

struct walk {
        const struct reply_limits *lim;
        unsigned parts;
        struct text_part plain, html;
        char **attachments;
        size_t n_attachments;
};

/* A file name as evidence: its last path component, no controls, at most
 * NAME_MAX_BYTES bytes cut at a character boundary. */
static int add_attachment(struct walk *w, char *name) {
        char *base = name;

        for (char *p = name; *p; p++)
                if (*p == '/' || *p == '\\')
                        base = p + 1;
                else if (*p == '\t' || *p == '\n')
                        *p = ' ';
        base += strspn(base, " ");
        size_t len = MIN(strlen(base), (size_t) NAME_MAX_BYTES);
        while (len > 0 && ((unsigned char) base[len] & 0xC0) == 0x80)
                len--;
        while (len > 0 && (base[len - 1] == ' ' || base[len - 1] == '.'))
                len--;
        if (len == 0 || w->n_attachments >= ATTACHMENTS_MAX)
                return 0;
        char **l = realloc(w->attachments, (w->n_attachments + 2) * sizeof(char *));
        if (!l)
                return -ENOMEM;
        w->attachments = l;
        if (!(l[w->n_attachments] = strndup(base, len)))
                return -ENOMEM;
        l[++w->n_attachments] = NULL;
        return 0;
}

static int walk_entity(struct walk *w, const char *p, size_t n, unsigned depth, bool digest);

/* The parts of a multipart body between "--boundary" lines. */
static int walk_multipart(struct walk *w, const char *p, size_t n, const char *boundary, unsigned depth, bool digest) {
        size_t blen = strlen(boundary);
        const char *part = NULL;

        if (depth + 1 > w->lim->max_depth)
                return -EMSGSIZE;
        for (size_t i = 0; i + 2 + blen <= n;) {
                const char *hit = memmem(p + i, n - i, "--", 2);
                if (!hit)
                        break;
                size_t at = (size_t) (hit - p);
                if ((at > 0 && p[at - 1] != '\n') || at + 2 + blen > n || memcmp(hit + 2, boundary, blen) != 0) {
                        i = at + 1;
                        continue;
                }
                bool close = at + 4 + blen <= n && hit[2 + blen] == '-' && hit[3 + blen] == '-';
                if (part) {
                        /* The line break before the delimiter belongs to it. */
                        size_t end = at;
                        if (end > 0 && p[end - 1] == '\n')
                                end--;
                        if (end > 0 && p[end - 1] == '\r')
                                end--;
                        size_t start = (size_t) (part - p);
                        int r = walk_entity(w, part, end > start ? end - start : 0, depth + 1, digest);
                        if (r < 0)
                                return r;
                        part = NULL;
                }
                if (close)
                        return 0;
                size_t e = reply_line_end(p, n, at);
                if (++w->parts > w->lim->max_parts)
                        return -EMSGSIZE;
                part = p + MIN(e + 1, n);
                i = MIN(e + 1, n);
        }
        /* No closing delimiter: the last part runs to the end. */
        if (part)
                return walk_entity(w, part, n - (size_t) (part - p), depth + 1, digest);
        return 0;
}

static int walk_entity(struct walk *w, const char *p, size_t n, unsigned depth, bool digest) {
        struct reply_headers *hs;
        size_t body = 0;
        char type[128] = "", disp[64] = "";
        _cleanup_free_ char *boundary = NULL, *fname = NULL, *cs = NULL;
        int r;

        hs = calloc(1, sizeof(*hs));
        if (!hs)
                return -ENOMEM;
        r = reply_headers_parse(p, n, hs, &body);
        if (r < 0)
                goto finish;

        const char *ct = reply_header_get(hs, "Content-Type");
        const char *cd = reply_header_get(hs, "Content-Disposition");
        const char *cte = reply_header_get(hs, "Content-Transfer-Encoding");
        if (ct)
                reply_value_type(ct, type, sizeof(type));
        if (!strchr(type, '/'))
                strcpy(type, digest ? "message/rfc822" : "text/plain");
        if (cd)
                reply_value_type(cd, disp, sizeof(disp));

        if (strncmp(type, "multipart/", 10) == 0) {
                boundary = reply_value_param(ct, "boundary");
                if (boundary && *boundary && strlen(boundary) <= 200) {
                        r = walk_multipart(w, p + body, n - body, boundary, depth,
                                           strcmp(type, "multipart/digest") == 0);
                        goto finish;
                }
                strcpy(type, "text/plain");
        }

        fname = cd ? reply_value_param(cd, "filename") : NULL;
        if (!fname && ct)
                fname = reply_value_param(ct, "name");
        bool is_text = strcmp(type, "text/plain") == 0 || strcmp(type, "text/html") == 0;
        bool attachment = strcmp(disp, "attachment") == 0 || (fname && strcmp(disp, "inline") != 0 && !is_text) ||
                          (fname && is_text && strcmp(disp, "inline") != 0);

        if (attachment) {
                if (fname)
                        r = add_attachment(w, fname);
                goto finish;
        }
        if (is_text) {
                struct text_part *t = type[5] == 'p' ? &w->plain : &w->html;
                if (!t->found) {
                        t->found = true;
                        t->body = p + body;
                        t->len = n - body;
                        cs = ct ? reply_value_param(ct, "charset") : NULL;
                        snprintf(t->charset, sizeof(t->charset), "%s", cs ? cs : "");
                        reply_value_type(cte ? cte : "7bit", t->encoding, sizeof(t->encoding));
                }
        }
        /* A message/rfc822 part (a forwarded message) is not the reply's own
         * words and its attachments are not its evidence: not read. */
finish:
        reply_headers_done(hs);
        free(hs);
        return r;
}

/* The chosen text part decoded to UTF-8 (HTML turned into text), at most
 * max_text bytes. */
static int part_text(const struct text_part *t, bool html, size_t max_text, char **ret) {
        struct strbuf raw = STRBUF_INIT(SIZE_MAX), utf8 = STRBUF_INIT(SIZE_MAX), out = STRBUF_INIT(SIZE_MAX);
        int r;

        if (strcmp(t->encoding, "base64") == 0)
                reply_decode_base64(&raw, t->body, t->len);
        else if (strcmp(t->encoding, "quoted-printable") == 0)
                reply_decode_qp(&raw, t->body, t->len, false);
        else
                strbuf_putn(&raw, t->body, t->len);
        if (raw.error < 0) {
                r = raw.error;
                goto finish;
        }
        reply_put_charset(&utf8, t->charset[0] ? t->charset : NULL, raw.data ? raw.data : "", raw.len);
        if (utf8.error < 0) {
                r = utf8.error;
                goto finish;
        }
        if (html)
                reply_html_to_text(utf8.data ? utf8.data : "", utf8.len, &out);
        else
                strbuf_putn(&out, utf8.data ? utf8.data : "", utf8.len);
        if (out.error == 0 && out.len >= max_text) {
                /* Too long to read whole: the beginning is the reply. */
                size_t keep = max_text > 0 ? max_text - 1 : 0;
                while (keep > 0 && ((unsigned char) out.data[keep] & 0xC0) == 0x80)
                        keep--;
                out.len = keep;
        }
        strbuf_putc(&out, 0);
        r = strbuf_steal(&out, ret, NULL);
finish:
        strbuf_done(&raw);
        strbuf_done(&utf8);
        strbuf_done(&out);
        return r;
}

/* NFC, with "\r\n" as "\n". */
static int normalise_text(char *s, char **ret) {
        size_t k = 0;
        for (size_t i = 0; s[i]; i++)
                if (!(s[i] == '\r'))
                        s[k++] = s[i];
        s[k] = 0;
        if (k > TEXTNORM_MAX_INPUT)
                s[k = TEXTNORM_MAX_INPUT] = 0;
        while (k > 0 && ((unsigned char) s[k] & 0xC0) == 0x80)
                s[--k] = 0;
        int r = textnorm_nfc(s, k, ret);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

void reply_done(struct reply *r) {
        if (!r)
                return;
        free(r->from);
        free(r->subject);
        free(r->message_id);
        strv_free(r->references);
        free(r->text);
        strv_free(r->attachments);
        free(r->task_ref);
        *r = (struct reply) { .date = INT64_MIN, .asked_day = INT32_MIN };
}

int reply_parse(const char *raw, size_t n, const struct reply_limits *limits, struct reply *ret) {
        static const struct reply_limits defaults = REPLY_LIMITS_DEFAULT;
        const struct reply_limits *lim = limits ? limits : &defaults;
        struct reply r = { .date = INT64_MIN, .asked_day = INT32_MIN };
        struct walk w = { .lim = lim };
        struct reply_headers *hs = NULL;
        _cleanup_free_ char *text = NULL;
        size_t body = 0, nrefs = 0;
        int k;

        *ret = (struct reply) { .date = INT64_MIN, .asked_day = INT32_MIN };
        if (n > lim->max_bytes)
                return -EMSGSIZE;
        if (!raw || n == 0)
                return -EBADMSG;

        hs = calloc(1, sizeof(*hs));
        if (!hs)
                return -ENOMEM;
        k = reply_headers_parse(raw, n, hs, &body);
        if (k < 0)
                goto fail;
        if (hs->n == 0 || (!reply_header_get(hs, "From") && !reply_header_get(hs, "Subject") && !reply_header_get(hs, "Message-ID"))) {
                k = -EBADMSG;
                goto fail;
        }

        const char *v;
        if ((v = reply_header_get(hs, "From")))
                r.from = reply_parse_from(v);
        if ((v = reply_header_get(hs, "Subject")) && !(r.subject = reply_decode_header(v))) {
                k = -ENOMEM;
                goto fail;
        }
        if ((v = reply_header_get(hs, "Message-ID"))) {
                char **ids = NULL;
                size_t nid = 0;
                if ((k = reply_add_ids(&ids, &nid, v)) < 0) {
                        strv_free(ids);
                        goto fail;
                }
                if (nid > 0)
                        r.message_id = TAKE_PTR(ids[0]);
                for (size_t q = 1; q < nid; q++)
                        free(ids[q]);
                free(ids);
        }
        if ((v = reply_header_get(hs, "In-Reply-To")) && (k = reply_add_ids(&r.references, &nrefs, v)) < 0)
                goto fail;
        if ((v = reply_header_get(hs, "References")) && (k = reply_add_ids(&r.references, &nrefs, v)) < 0)
                goto fail;
        if ((v = reply_header_get(hs, "Date")))
                r.date = reply_parse_date(v);

        /* The MIME tree, from the top entity (its headers read again by the walk). */
        w.parts = 1;
        k = walk_entity(&w, raw, n, 0, false);
        if (k < 0)
                goto fail;
        r.attachments = TAKE_PTR(w.attachments);

        const struct text_part *t = w.plain.found ? &w.plain : w.html.found ? &w.html : NULL;
        if (t && (k = part_text(t, t == &w.html, lim->max_text, &text)) < 0)
                goto fail;
        if ((k = normalise_text(text ? text : (char[]) { 0 }, &r.text)) < 0)
                goto fail;
        {
                char *cut = reply_cut_quotes(r.text);
                if (!cut) {
                        k = -ENOMEM;
                        goto fail;
                }
                free(r.text);
                r.text = cut;
                /* NFC may lengthen a text a little: kept within max_text still. */
                size_t len = strlen(r.text);
                if (len >= lim->max_text) {
                        len = lim->max_text > 0 ? lim->max_text - 1 : 0;
                        while (len > 0 && ((unsigned char) r.text[len] & 0xC0) == 0x80)
                                len--;
                        r.text[len] = 0;
                }
        }
        if ((k = reply_understand(&r)) < 0)
                goto fail;

        reply_headers_done(hs);
        free(hs);
        *ret = r;
        return 0;
fail:
        strv_free(w.attachments);
        reply_headers_done(hs);
        free(hs);
        reply_done(&r);
        return k;
}

const char *reply_intent_to_string(enum reply_intent i) {
        switch (i) {
        case REPLY_DONE:
                return "done";
        case REPLY_EXTENSION:
                return "extension";
        default:
                return "unknown";
        }
}
