/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

#include "mail-message.h"
#include "strbuf.h"
#include "timeutil.h"
#include "utf8.h"

#define LINE_MAX_SOFT 78        /* RFC 5322 2.1.1: SHOULD */
#define QP_LINE_MAX 76          /* RFC 2045 6.7 (5) */
#define ENCODED_WORD_MAX 75     /* RFC 2047 2 */
#define MESSAGE_MAX (8 * 1024 * 1024)
/* A plain word longer than this might not fit the Subject's first line. */
#define SUBJECT_WORD_MAX 60

/* A quoted-printable body never contains "=_": every "=" in it is either
 * encoded as "=3D" or ends a line as a soft break. So this boundary cannot
 * occur inside a part, whatever the text. */
#define BOUNDARY "=_deadlined_alternative"
/* No base64 or quoted-printable line can hold "=_", so neither boundary
 * can occur in a part. */
#define BOUNDARY_MIXED "=_deadlined_mixed"
#define BASE64_LINE 76          /* RFC 2045 6.8: at most 76 characters */

/* ---- checks ------------------------------------------------------------- */

static bool is_atext(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static bool dot_atom_valid(const char *s, size_t n, bool (*ok)(char)) {
        if (n == 0 || s[0] == '.' || s[n - 1] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '.') {
                        if (s[i + 1] == '.')
                                return false;
                } else if (!ok(s[i]))
                        return false;
        }
        return true;
}

static bool is_domain_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool mail_address_is_valid(const char *address) {
        const char *at;
        size_t n;

        if (!address)
                return false;
        n = strlen(address);
        at = strchr(address, '@');
        if (n == 0 || n > MAIL_ADDRESS_MAX || !at || strchr(at + 1, '@'))
                return false;
        if (at - address > 64 || !dot_atom_valid(address, at - address, is_atext))
                return false;
        if (!dot_atom_valid(at + 1, strlen(at + 1), is_domain_char))
                return false;
        for (const char *label = at + 1; *label;) {
                size_t k = strcspn(label, ".");
                if (k > 63 || label[0] == '-' || label[k - 1] == '-')
                        return false;
                label += k + (label[k] == '.');
        }
        return true;
}

static bool token_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > MAIL_TOKEN_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || strchr("-_.+=", s[i])))
                        return false;
        return true;
}

/* The length of the valid UTF-8 character at `p`, or 0. */
static size_t utf8_char(const char *p) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate((const uint8_t *) p, -1, &c);
        return k > 0 ? (size_t) k : 0;
}

static bool utf8_valid(const char *s) {
        return utf8_is_valid(s, strlen(s));
}

static bool is_ascii(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s >= 0x80)
                        return false;
        return true;
}

/* Header text from the caller: every control character (CR, LF, TAB, …)
 * becomes a space, runs of spaces become one, and the ends are trimmed. A
 * subject can therefore never break out of its header line. */
static int header_text(const char *s, size_t max, char **ret) {
        size_t n = strlen(s);
        char *t, *w;

        if (n > max)
                return -E2BIG;
        if (!utf8_valid(s))
                return -EILSEQ;
        t = w = malloc(n + 1);
        if (!t)
                return -ENOMEM;
        for (const char *r = s; *r; r++) {
                char c = (unsigned char) *r < 0x20 || *r == 0x7f ? ' ' : *r;
                if (c == ' ' && (w == t || w[-1] == ' '))
                        continue;
                *w++ = c;
        }
        while (w > t && w[-1] == ' ')
                w--;
        *w = 0;
        *ret = t;
        return 0;
}

static const char *address_domain(const char *address) {
        return strrchr(address, '@') + 1;
}

int mail_message_id(const char *token, const char *instance, const char *from_address, char **ret) {
        if (!token_valid(token) || (instance && !token_valid(instance)) || !mail_address_is_valid(from_address))
                return -EINVAL;
        return asprintf(ret, "<deadlined.%s%s%s@%s>", strempty(instance), instance ? "." : "", token,
                        address_domain(from_address)) < 0 ? -ENOMEM : 0;
}

int mail_thread_id(int64_t task_id, const char *instance, const char *from_address, char **ret) {
        if (task_id <= 0 || (instance && !token_valid(instance)) || !mail_address_is_valid(from_address))
                return -EINVAL;
        return asprintf(ret, "<deadlined.%s%stask-%" PRId64 "@%s>", strempty(instance), instance ? "." : "",
                        task_id, address_domain(from_address)) < 0 ? -ENOMEM : 0;
}

static bool agency_id_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
                        return false;
        return true;
}

int mail_digest_token(const char *agency, int32_t day, int64_t first_delivery, char **ret) {
        char d[11];

        if (!agency_id_valid(agency) || first_delivery <= 0)
                return -EINVAL;
        format_iso_date(day, d);
        return asprintf(ret, "digest.%s.%s.%" PRId64, agency, d, first_delivery) < 0 ? -ENOMEM : 0;
}

int mail_digest_thread_id(const char *agency, int32_t day, const char *instance, const char *from_address,
                          char **ret) {
        char d[11];

        if (!agency_id_valid(agency) || (instance && !token_valid(instance)) || !mail_address_is_valid(from_address))
                return -EINVAL;
        format_iso_date(day, d);
        return asprintf(ret, "<deadlined.%s%sdigest.%s.%s@%s>", strempty(instance), instance ? "." : "", agency, d,
                        address_domain(from_address)) < 0 ? -ENOMEM : 0;
}

bool mail_id_is_valid(const char *id) {
        size_t n = id ? strlen(id) : 0;

        if (n < 3 || n > 250 || id[0] != '<' || id[n - 1] != '>')
                return false;
        for (size_t i = 1; i + 1 < n; i++)
                if (id[i] <= ' ' || id[i] >= 0x7f || id[i] == '<' || id[i] == '>')
                        return false;
        return true;
}

/* A positive decimal task id at the start of s, ending at `end` (one of
 * its characters, or NUL): 0 when there is none. */
static int64_t leading_id(const char *s, const char *end) {
        int64_t v = 0;
        const char *p = s;

        for (; *p >= '0' && *p <= '9'; p++) {
                if (v > (INT64_MAX - 9) / 10)
                        return 0;
                v = v * 10 + (*p - '0');
        }
        if (p == s || *s == '0' || !strchr(end, *p))
                return 0;
        return v;
}

/* The local part of an id of ours after "deadlined.INSTANCE.", up to its
 * "@" (*ret_at); NULL when the id is not ours. */
static const char *our_local_part(const char *id, const char *instance, const char **ret_at) {
        const char *p, *at;
        size_t n;

        if (!id)
                return NULL;
        id += strspn(id, " \t<");
        if (strncmp(id, "deadlined.", 10) != 0)
                return NULL;
        p = id + 10;
        if (instance) {
                n = strlen(instance);
                if (strncmp(p, instance, n) != 0 || p[n] != '.')
                        return NULL;
                p += n + 1;
        }
        at = strchr(p, '@');
        if (!at || at == p)
                return NULL;
        *ret_at = at;
        return p;
}

int mail_reference_digest(const char *id, const char *instance, char **ret_agency, int32_t *ret_day) {
        const char *p, *at, *dot;
        char agency[65], d[11];
        int32_t day;

        p = our_local_part(id, instance, &at);
        if (!p || strncmp(p, "digest.", 7) != 0)
                return -ENOENT;
        p += 7;
        dot = memchr(p, '.', (size_t) (at - p));
        if (!dot || dot == p || (size_t) (dot - p) >= sizeof agency || at - dot < 11)
                return -ENOENT;
        memcpy(agency, p, (size_t) (dot - p));
        agency[dot - p] = 0;
        memcpy(d, dot + 1, 10);
        d[10] = 0;
        /* The day, then the end of the thread root or ".ROW". */
        if (!agency_id_valid(agency) || parse_iso_date(d, &day) < 0 || !(dot[11] == '@' || dot[11] == '.'))
                return -ENOENT;
        if (dot[11] == '.' && leading_id(dot + 12, "@") <= 0)
                return -ENOENT;
        char *a = strdup(agency);
        if (!a)
                return -ENOMEM;
        *ret_agency = a;
        *ret_day = day;
        return 0;
}

enum mail_reference mail_reference_parse(const char *id, const char *instance, int64_t *ret_task) {
        const char *p, *at;
        int64_t task;

        p = our_local_part(id, instance, &at);
        if (!p)
                return MAIL_REFERENCE_FOREIGN;
        if (strncmp(p, "digest.", 7) == 0) {
                _cleanup_free_ char *agency = NULL;
                int32_t day;
                if (mail_reference_digest(id, instance, &agency, &day) == 0)
                        return MAIL_REFERENCE_DIGEST;
                return MAIL_REFERENCE_OTHER;
        }
        if (strncmp(p, "task-", 5) == 0 && (task = leading_id(p + 5, "@")) > 0) {
                *ret_task = task;
                return MAIL_REFERENCE_TASK;
        }
        if (leading_id(p, "@") > 0)
                return MAIL_REFERENCE_DIGEST;
        task = leading_id(p, "-");
        if (task > 0) {
                *ret_task = task;
                return MAIL_REFERENCE_TASK;
        }
        return MAIL_REFERENCE_OTHER;
}

enum mail_reference mail_references_task(char *const *ids, const char *instance, int64_t *ret_task) {
        bool digest = false;

        for (char *const *i = ids; i && *i; i++) {
                enum mail_reference k = mail_reference_parse(*i, instance, ret_task);
                if (k == MAIL_REFERENCE_TASK)
                        return k;
                if (k == MAIL_REFERENCE_DIGEST)
                        digest = true;
        }
        return digest ? MAIL_REFERENCE_DIGEST : MAIL_REFERENCE_FOREIGN;
}

int mail_address_parse(const char *s, char **ret_name, char **ret_address) {
        _cleanup_free_ char *name = NULL, *address = NULL;
        size_t n;
        const char *lt;

        if (!s)
                return -EINVAL;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        return -EINVAL;
        s += strspn(s, " ");
        n = strlen(s);
        while (n > 0 && s[n - 1] == ' ')
                n--;

        if (n > 0 && s[n - 1] == '>') {
                lt = memrchr(s, '<', n);
                if (!lt)
                        return -EINVAL;
                address = strndup(lt + 1, s + n - 1 - (lt + 1));
                size_t k = lt - s;
                while (k > 0 && s[k - 1] == ' ')
                        k--;
                if (k >= 2 && s[0] == '"' && s[k - 1] == '"') {
                        /* A quoted display name: drop the quotes and the
                         * backslashes that escape. */
                        char *w = name = malloc(k);
                        if (!name)
                                return -ENOMEM;
                        for (size_t i = 1; i + 1 < k; i++) {
                                if (s[i] == '\\' && i + 2 < k)
                                        i++;
                                *w++ = s[i];
                        }
                        *w = 0;
                } else if (k > 0)
                        name = strndup(s, k);
                if (k > 0 && !name)
                        return -ENOMEM;
        } else
                address = strndup(s, n);
        if (!address)
                return -ENOMEM;
        if (!mail_address_is_valid(address) || (name && strlen(name) > MAIL_NAME_MAX))
                return -EINVAL;
        if (name && !*name)
                name = mfree(name);

        *ret_name = TAKE_PTR(name);
        *ret_address = TAKE_PTR(address);
        return 0;
}

/* ---- header writing ----------------------------------------------------- */

/* One header field being written: words are appended with a space before
 * them, and the space becomes a fold (CRLF SP) when the word would pass 78
 * columns. A word alone on a line is never split, so limits on the inputs
 * keep every line under 998. */
struct header {
        struct strbuf *b;
        size_t col;
        bool has_word;  /* a word follows the field name on this line */
};

static void header_begin(struct header *h, const char *name) {
        strbuf_puts(h->b, name);
        strbuf_putc(h->b, ':');
        h->col = strlen(name) + 1;
        h->has_word = false;
}

static void header_fold(struct header *h) {
        strbuf_puts(h->b, "\r\n");
        h->col = 0;
        h->has_word = false;
}

static size_t header_room(const struct header *h) {
        return h->col + 1 < LINE_MAX_SOFT ? LINE_MAX_SOFT - h->col - 1 : 0;
}

static void header_word(struct header *h, const char *w, size_t n) {
        if (h->has_word && n > header_room(h))
                header_fold(h);
        strbuf_putc(h->b, ' ');
        strbuf_putn(h->b, w, n);
        h->col += 1 + n;
        h->has_word = true;
}

static void header_end(struct header *h) {
        strbuf_puts(h->b, "\r\n");
}

/* Input bytes of one line of base64. */
#define BASE64_CHUNK (BASE64_LINE / 4 * 3)

/* The base64 digit of x (0 to 63), and every pair of digits that 12 bits
 * make, built by the compiler: three bytes are two lookups. */
#define B64_DIGIT(x) \
        ((x) < 26 ? 'A' + (x) : (x) < 52 ? 'a' + (x) - 26 : (x) < 62 ? '0' + (x) - 52 : (x) == 62 ? '+' : '/')
#define B64_PAIR(i) { (char) B64_DIGIT((i) >> 6), (char) B64_DIGIT((i) & 63) }
#define B64_PAIRS4(i) B64_PAIR(i), B64_PAIR((i) + 1), B64_PAIR((i) + 2), B64_PAIR((i) + 3)
#define B64_PAIRS16(i) B64_PAIRS4(i), B64_PAIRS4((i) + 4), B64_PAIRS4((i) + 8), B64_PAIRS4((i) + 12)
#define B64_PAIRS64(i) B64_PAIRS16(i), B64_PAIRS16((i) + 16), B64_PAIRS16((i) + 32), B64_PAIRS16((i) + 48)
#define B64_PAIRS256(i) B64_PAIRS64(i), B64_PAIRS64((i) + 64), B64_PAIRS64((i) + 128), B64_PAIRS64((i) + 192)
#define B64_PAIRS1024(i) \
        B64_PAIRS256(i), B64_PAIRS256((i) + 256), B64_PAIRS256((i) + 512), B64_PAIRS256((i) + 768)
static const char base64_pairs[4096][2] = {
        B64_PAIRS1024(0), B64_PAIRS1024(1024), B64_PAIRS1024(2048), B64_PAIRS1024(3072),
};

/* The base64 of n bytes into `out`, which has room for 4 * ceil(n / 3)
 * characters; returns how many it wrote. */
static size_t base64_encode(char *out, const uint8_t *p, size_t n) {
        char *o = out;
        size_t i = 0;

        for (; i + 3 <= n; i += 3) {
                uint32_t v = (uint32_t) p[i] << 16 | (uint32_t) p[i + 1] << 8 | p[i + 2];
                memcpy(o, base64_pairs[v >> 12], 2);
                memcpy(o + 2, base64_pairs[v & 4095], 2);
                o += 4;
        }
        if (i < n) {
                uint32_t v = (uint32_t) p[i] << 16 | (i + 1 < n ? (uint32_t) p[i + 1] << 8 : 0);
                memcpy(o, base64_pairs[v >> 12], 2);
                o[2] = i + 1 < n ? (char) B64_DIGIT(v >> 6 & 63) : '=';
                o[3] = '=';
                o += 4;
        }
        return (size_t) (o - out);
}

static void base64(struct strbuf *b, const uint8_t *p, size_t n) {
        char out[BASE64_LINE];

        for (size_t i = 0; i < n; i += BASE64_CHUNK)
                strbuf_putn(b, out, base64_encode(out, p + i, MIN(BASE64_CHUNK, n - i)));
}

/* Writes `s` as RFC 2047 encoded-words, each holding whole characters and
 * fitting the line it starts on (a new line when less than a third of one
 * is left). Adjacent encoded-words decode to one text: the folds between
 * them vanish. */
static void header_encoded(struct header *h, const char *s) {
        static const size_t overhead = 12;  /* "=?UTF-8?B?" and "?=" */

        while (*s && h->b->error >= 0) {
                struct strbuf word = STRBUF_INIT(ENCODED_WORD_MAX);
                size_t room = MIN(header_room(h), (size_t) ENCODED_WORD_MAX), max_raw, n = 0;

                if (h->has_word && room < ENCODED_WORD_MAX / 3) {
                        header_fold(h);
                        room = ENCODED_WORD_MAX;
                }
                max_raw = room > overhead + 8 ? (room - overhead) / 4 * 3 : 6;
                while (s[n]) {
                        size_t k = utf8_char(s + n);
                        if (k == 0 || n + k > max_raw)
                                break;
                        n += k;
                }
                if (n == 0)
                        n = 1;  /* not UTF-8, which callers have ruled out */

                strbuf_puts(&word, "=?UTF-8?B?");
                base64(&word, (const uint8_t *) s, n);
                strbuf_puts(&word, "?=");
                if (word.error < 0)
                        h->b->error = word.error;
                else
                        header_word(h, word.data, word.len);
                strbuf_done(&word);
                s += n;
        }
}

/* Unstructured text (the subject). Plain ASCII words go as they are; text
 * with anything else, with a word too long to fold, or with something that
 * looks like an encoded-word goes encoded, so that it reads back exactly. */
static void header_unstructured(struct header *h, const char *s) {
        bool plain = is_ascii(s) && !strstr(s, "=?");

        for (const char *p = s; plain && *p;) {
                size_t k = strcspn(p, " ");
                plain = k <= SUBJECT_WORD_MAX;
                p += k + strspn(p + k, " ");
        }
        if (!plain) {
                header_encoded(h, s);
                return;
        }
        for (const char *p = s; *p;) {
                size_t k = strcspn(p, " ");
                header_word(h, p, k);
                p += k + strspn(p + k, " ");
        }
}

/* Whether an ASCII display name can go as plain words (atoms). */
static bool is_phrase(const char *s) {
        for (; *s; s++)
                if (!is_atext(*s) && *s != ' ')
                        return false;
        return true;
}

/* Writes one mailbox; `suffix` ("," between addresses) sticks to its last
 * word so that it never starts a line or passes the fold column. */
static int header_mailbox(struct header *h, const struct mail_address *a, const char *suffix) {
        _cleanup_free_ char *name = NULL;
        char last[MAIL_ADDRESS_MAX + 4];
        int r, n;

        if (!mail_address_is_valid(a->address))
                return -EINVAL;
        if (a->name) {
                r = header_text(a->name, MAIL_NAME_MAX, &name);
                if (r < 0)
                        return r;
        }

        if (!name || !*name) {
                n = snprintf(last, sizeof last, "%s%s", a->address, suffix);
                header_word(h, last, (size_t) n);
                return 0;
        }

        if (!is_ascii(name) || strstr(name, "=?"))
                header_encoded(h, name);
        else if (is_phrase(name))
                for (const char *p = name; *p;) {
                        size_t k = strcspn(p, " ");
                        header_word(h, p, k);
                        p += k + strspn(p + k, " ");
                }
        else {
                /* Specials such as "." or "(" need a quoted string. */
                struct strbuf q = STRBUF_INIT(MAIL_NAME_MAX * 2 + 2);
                strbuf_putc(&q, '"');
                for (const char *p = name; *p; p++) {
                        if (*p == '"' || *p == '\\')
                                strbuf_putc(&q, '\\');
                        strbuf_putc(&q, *p);
                }
                strbuf_putc(&q, '"');
                if (q.error < 0)
                        h->b->error = q.error;
                else
                        header_word(h, q.data, q.len);
                strbuf_done(&q);
        }

        n = snprintf(last, sizeof last, "<%s>%s", a->address, suffix);
        header_word(h, last, (size_t) n);
        return 0;
}

static int header_address_list(struct strbuf *b, const char *field, const struct mail_address *list, size_t n) {
        struct header h = { .b = b };
        int r;

        header_begin(&h, field);
        for (size_t i = 0; i < n; i++) {
                r = header_mailbox(&h, &list[i], i + 1 < n ? "," : "");
                if (r < 0)
                        return r;
        }
        header_end(&h);
        return 0;
}

static void header_simple(struct strbuf *b, const char *field, const char *value) {
        struct header h = { .b = b };

        header_begin(&h, field);
        header_word(&h, value, strlen(value));
        header_end(&h);
}

static void format_date(int64_t t, char buf[static 40]) {
        static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
        static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
        time_t tt = (time_t) t;
        struct tm tm;
        int off;

        /* Names by hand: strftime's %a and %b follow the locale, and RFC
         * 5322 wants English. */
        if (!localtime_r(&tt, &tm))
                gmtime_r(&(time_t) { 0 }, &tm);
        off = (int) (labs(tm.tm_gmtoff) / 60 % (24 * 60));
        snprintf(buf, 40, "%s, %d %s %04d %02d:%02d:%02d %c%02d%02d",
                 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_gmtoff < 0 ? '-' : '+', off / 60, off % 60);
}

/* ---- bodies ------------------------------------------------------------- */

static bool line_start_needs_escape(const char *p) {
        /* SMTP ends the data at a line holding only "."; mbox readers take
         * a line starting "From " for a new message. */
        return *p == '.' || strncmp(p, "From ", 5) == 0;
}

/* What quoted-printable does with a byte: written as it is, encoded, a
 * blank (encoded only at the end of a line), or a line end. */
enum { QP_PLAIN, QP_ENCODE, QP_BLANK, QP_EOL };

static const uint8_t qp_class[256] = {
        [0 ... 8] = QP_ENCODE,    ['\t'] = QP_BLANK,     ['\n'] = QP_EOL,      [11 ... 12] = QP_ENCODE,
        ['\r'] = QP_EOL,          [14 ... 31] = QP_ENCODE, [' '] = QP_BLANK,     [33 ... 60] = QP_PLAIN,
        ['='] = QP_ENCODE,        [62 ... 126] = QP_PLAIN, [127 ... 255] = QP_ENCODE,
};

static bool qp_ends_line(const char *p) {
        return !*p || *p == '\n' || *p == '\r';
}

static void quoted_printable(struct strbuf *b, const char *s) {
        static const char hex[] = "0123456789ABCDEF";
        char line[QP_LINE_MAX + 3];  /* one output line, then its line end */
        size_t col = 0;

        for (const char *p = s; *p; p++) {
                unsigned char c = *p;
                unsigned k = qp_class[c];
                bool enc;
                size_t w;

                /* Most bytes: away from a line's start (where "." and
                 * "From " are escaped) and with room before a soft break. */
                if (k == QP_PLAIN && col != 0 && col < QP_LINE_MAX - 1) {
                        line[col++] = (char) c;
                        continue;
                }
                if (k == QP_ENCODE && col + 3 <= QP_LINE_MAX - 1) {
                        line[col] = '=';
                        line[col + 1] = hex[c >> 4];
                        line[col + 2] = hex[c & 15];
                        col += 3;
                        continue;
                }
                if (k == QP_EOL) {
                        if (c == '\r' && p[1] == '\n')
                                continue;
                        memcpy(line + col, "\r\n", 2);
                        strbuf_putn(b, line, col + 2);
                        col = 0;
                        continue;
                }
                /* Trailing blanks would be lost in transit. */
                enc = k == QP_ENCODE || (k == QP_BLANK && qp_ends_line(p + 1));
                if (col == 0 && !enc && line_start_needs_escape(p))
                        enc = true;
                w = enc ? 3 : 1;

                /* A soft break "=" needs a column of its own unless this
                 * character ends the line. */
                if (col + w > QP_LINE_MAX - 1 && (col + w > QP_LINE_MAX || !qp_ends_line(p + 1))) {
                        memcpy(line + col, "=\r\n", 3);
                        strbuf_putn(b, line, col + 3);
                        col = 0;
                        if (line_start_needs_escape(p))
                                enc = true, w = 3;
                }
                if (enc) {
                        line[col] = '=';
                        line[col + 1] = hex[c >> 4];
                        line[col + 2] = hex[c & 15];
                } else
                        line[col] = (char) c;
                col += w;
        }
        strbuf_putn(b, line, col);
}

static bool ends_with_newline(const char *s) {
        size_t n = strlen(s);
        return n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r');
}

/* Checks a body (its size, UTF-8) and says whether it goes as base64
 * rather than quoted-printable: when that is shorter, which it is once
 * more than one byte in six needs an "=XX" (about 1.37 bytes written per
 * byte against 1 + 2 per encoded one). Most of a Vietnamese text's letters
 * do, hardly any of an English one's; a text that is mostly plain ASCII
 * stays quoted-printable and readable. One pass, a character at a time
 * (a word at a time gains nothing on text where most words hold a
 * Vietnamese letter): the check and the count together. */
static int check_body(const char *s, bool *ret_base64) {
        const uint8_t *p = (const uint8_t *) s;
        size_t n = strlen(s), encoded = 0, i = 0;

        if (n > MAIL_BODY_MAX)
                return -E2BIG;
        while (i < n) {
                uint8_t c = p[i];
                if (c < 0x80) {
                        encoded += qp_class[c] == QP_ENCODE;
                        i++;
                        continue;
                }
                /* A character of several bytes, every one of them encoded. */
                size_t k = utf8_char_length_quick(p + i, n - i);
                if (k == 0)
                        return -EILSEQ;
                encoded += k;
                i += k;
        }
        *ret_base64 = encoded * 6 > n;
        return 0;
}

static void body_part(struct strbuf *b, const char *type, bool base64) {
        strbuf_printf(b, "Content-Type: %s; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: %s\r\n", type, base64 ? "base64" : "quoted-printable");
}

/* A text body as base64 of its canonical form, its line breaks (LF, CR or
 * CRLF) made CRLF (RFC 2045 6.8), in lines of BASE64_LINE characters
 * (every one but the last from a whole BASE64_CHUNK bytes, so padding
 * comes only at the end) joined by CRLF; no line break after the last. */
struct base64_writer {
        struct strbuf *b;
        uint8_t in[BASE64_CHUNK];
        size_t n;
        bool started;
};

/* One line of the base64 of n bytes (at most BASE64_CHUNK), after a line
 * break unless it is the first. */
static void base64_writer_line(struct base64_writer *w, const uint8_t *p, size_t n) {
        char out[2 + BASE64_LINE];
        size_t len = 0;

        if (w->started) {
                out[0] = '\r';
                out[1] = '\n';
                len = 2;
        }
        len += base64_encode(out + len, p, n);
        strbuf_putn(w->b, out, len);
        w->started = true;
}

static void base64_writer_flush(struct base64_writer *w) {
        base64_writer_line(w, w->in, w->n);
        w->n = 0;
}

static void base64_writer_put(struct base64_writer *w, uint8_t c) {
        w->in[w->n++] = c;
        if (w->n == BASE64_CHUNK)
                base64_writer_flush(w);
}

static void base64_text(struct strbuf *b, const char *s) {
        struct base64_writer w = { .b = b };

        for (const char *p = s; *p;) {
                /* A run without line breaks, a line's worth at a time. */
                size_t run = strcspn(p, "\r\n");
                /* Whole lines straight from the text, when none is begun. */
                while (w.n == 0 && run >= BASE64_CHUNK) {
                        base64_writer_line(&w, (const uint8_t *) p, BASE64_CHUNK);
                        p += BASE64_CHUNK;
                        run -= BASE64_CHUNK;
                }
                while (run > 0) {
                        size_t k = MIN(run, BASE64_CHUNK - w.n);
                        memcpy(w.in + w.n, p, k);
                        w.n += k;
                        p += k;
                        run -= k;
                        if (w.n == BASE64_CHUNK)
                                base64_writer_flush(&w);
                }
                if (!*p)
                        break;
                if (*p == '\r' && p[1] == '\n')
                        p++;
                p++;
                base64_writer_put(&w, '\r');
                base64_writer_put(&w, '\n');
        }
        if (w.n > 0)
                base64_writer_flush(&w);
}

/* A text body in the encoding check_body() chose for it. */
static void body_text(struct strbuf *b, const char *s, bool base64) {
        if (base64)
                base64_text(b, s);
        else
                quoted_printable(b, s);
}

/* Base64 in lines of BASE64_LINE characters (57 input bytes each), each
 * ended by CRLF. */
static void base64_lines(struct strbuf *b, const uint8_t *p, size_t n) {
        struct base64_writer w = { .b = b };

        for (size_t i = 0; i < n; i += BASE64_CHUNK)
                base64_writer_line(&w, p + i, MIN(BASE64_CHUNK, n - i));
        if (n > 0)
                strbuf_puts(b, "\r\n");
}

static bool filename_is_plain(const char *s) {
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > MAIL_FILENAME_MAX || s[0] == '.')
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == n;
}

/* "type/subtype" and parameters in printable ASCII without quotes or
 * backslashes: nothing that could end the header or need escaping. */
static bool content_type_is_plain(const char *s) {
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > 200 || !strchr(s, '/'))
                return false;
        for (const char *p = s; *p; p++)
                if (*p < 32 || *p > 126 || *p == '"' || *p == '\\')
                        return false;
        return true;
}

static int check_attachments(const struct mail_message *m) {
        if (m->n_attachments > 0 && !m->attachments)
                return -EINVAL;
        if (m->n_attachments > MAIL_ATTACHMENTS_MAX)
                return -E2BIG;
        for (size_t i = 0; i < m->n_attachments; i++) {
                const struct mail_attachment *a = &m->attachments[i];
                if (!filename_is_plain(a->filename) || !content_type_is_plain(a->content_type) ||
                    (a->size > 0 && !a->data))
                        return -EINVAL;
                if (a->size > MAIL_ATTACHMENT_MAX)
                        return -E2BIG;
        }
        return 0;
}

static void attachment_part(struct strbuf *b, const struct mail_attachment *a) {
        strbuf_printf(b, "Content-Type: %s; name=\"%s\"\r\n"
                      "Content-Disposition: attachment; filename=\"%s\"\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\n",
                      a->content_type, a->filename, a->filename);
        base64_lines(b, a->data, a->size);
}

/* ---- the message -------------------------------------------------------- */

int mail_message_format(const struct mail_message *m, char **ret, size_t *ret_size) {
        _cleanup_free_ char *subject = NULL, *message_id = NULL, *thread = NULL;
        struct strbuf b = STRBUF_INIT(MESSAGE_MAX);
        struct header h = { .b = &b };
        char date[40];
        int r;

        if (!m->subject || !m->text || !mail_address_is_valid(m->from.address))
                return -EINVAL;
        if ((m->n_to > 0 && !m->to) || (m->n_cc > 0 && !m->cc) || (m->n_tasks > 0 && !m->tasks) ||
            m->n_to + m->n_cc == 0)
                return -EINVAL;
        if (m->n_to > MAIL_RECIPIENTS_MAX || m->n_cc > MAIL_RECIPIENTS_MAX - m->n_to ||
            m->n_tasks > MAIL_TASKS_MAX)
                return -E2BIG;
        for (size_t i = 0; i < m->n_tasks; i++)
                if (m->tasks[i] <= 0)
                        return -EINVAL;
        r = mail_message_id(m->delivery, m->instance, m->from.address, &message_id);
        if (r < 0)
                return r;
        if (m->thread) {
                if (!mail_id_is_valid(m->thread))
                        return -EINVAL;
                thread = strdup(m->thread);
                if (!thread)
                        return -ENOMEM;
        } else if (m->n_tasks == 1) {
                r = mail_thread_id(m->tasks[0], m->instance, m->from.address, &thread);
                if (r < 0)
                        return r;
        }
        r = header_text(m->subject, MAIL_SUBJECT_MAX, &subject);
        if (r < 0)
                return r;
        bool text_base64 = false, html_base64 = false;
        r = check_body(m->text, &text_base64);
        if (r < 0)
                return r;
        if (m->html) {
                r = check_body(m->html, &html_base64);
                if (r < 0)
                        return r;
        }
        r = check_attachments(m);
        if (r < 0)
                return r;

        format_date(m->date, date);
        strbuf_printf(&b, "Date: %s\r\n", date);
        r = header_address_list(&b, "From", &m->from, 1);
        if (r >= 0 && m->reply_to)
                r = header_address_list(&b, "Reply-To", m->reply_to, 1);
        if (r >= 0 && m->n_to > 0)
                r = header_address_list(&b, "To", m->to, m->n_to);
        if (r >= 0 && m->n_cc > 0)
                r = header_address_list(&b, "Cc", m->cc, m->n_cc);
        if (r < 0) {
                strbuf_done(&b);
                return r;
        }

        header_begin(&h, "Subject");
        header_unstructured(&h, subject);
        header_end(&h);

        header_simple(&b, "Message-ID", message_id);
        if (thread) {
                header_simple(&b, "In-Reply-To", thread);
                header_simple(&b, "References", thread);
        }
        strbuf_puts(&b, "MIME-Version: 1.0\r\n");
        if (m->n_attachments > 0)
                strbuf_puts(&b, "Content-Type: multipart/mixed; boundary=\"" BOUNDARY_MIXED "\"\r\n");
        else if (m->html)
                strbuf_puts(&b, "Content-Type: multipart/alternative; boundary=\"" BOUNDARY "\"\r\n");
        else
                body_part(&b, "text/plain", text_base64);
        strbuf_puts(&b, "Auto-Submitted: auto-generated\r\n"
                    "X-Auto-Response-Suppress: All\r\n");
        if (m->n_tasks > 0) {
                header_begin(&h, "X-Deadlined-Task");
                for (size_t i = 0; i < m->n_tasks; i++) {
                        char id[24];
                        int n = snprintf(id, sizeof id, "%" PRId64 "%s", m->tasks[i], i + 1 < m->n_tasks ? "," : "");
                        header_word(&h, id, (size_t) n);
                }
                header_end(&h);
        }
        header_simple(&b, "X-Deadlined-Delivery", m->delivery);
        strbuf_puts(&b, "\r\n");

        if (m->n_attachments > 0) {
                /* The body is the first part of the mixed message, with
                 * its own content headers. */
                strbuf_puts(&b, "--" BOUNDARY_MIXED "\r\n");
                if (m->html)
                        strbuf_puts(&b, "Content-Type: multipart/alternative; boundary=\"" BOUNDARY "\"\r\n");
                else
                        body_part(&b, "text/plain", text_base64);
                strbuf_puts(&b, "\r\n");
        }
        if (!m->html) {
                body_text(&b, m->text, text_base64);
                if (text_base64 || !ends_with_newline(m->text))
                        strbuf_puts(&b, "\r\n");
        } else {
                /* The CRLF before each delimiter belongs to the delimiter,
                 * so a body keeps its own final line break, or its lack. */
                strbuf_puts(&b, "--" BOUNDARY "\r\n");
                body_part(&b, "text/plain", text_base64);
                strbuf_puts(&b, "\r\n");
                body_text(&b, m->text, text_base64);
                strbuf_puts(&b, "\r\n--" BOUNDARY "\r\n");
                body_part(&b, "text/html", html_base64);
                strbuf_puts(&b, "\r\n");
                body_text(&b, m->html, html_base64);
                strbuf_puts(&b, "\r\n--" BOUNDARY "--\r\n");
        }
        for (size_t i = 0; i < m->n_attachments; i++) {
                strbuf_puts(&b, "\r\n--" BOUNDARY_MIXED "\r\n");
                attachment_part(&b, &m->attachments[i]);
        }
        if (m->n_attachments > 0)
                strbuf_puts(&b, "\r\n--" BOUNDARY_MIXED "--\r\n");

        return strbuf_steal(&b, ret, ret_size);
}

int mail_message_recipients(const struct mail_message *m, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;

        if (m->n_to > MAIL_RECIPIENTS_MAX || m->n_cc > MAIL_RECIPIENTS_MAX - m->n_to)
                return -E2BIG;
        if ((m->n_to > 0 && !m->to) || (m->n_cc > 0 && !m->cc))
                return -EINVAL;
        l = calloc(m->n_to + m->n_cc + 1, sizeof *l);
        if (!l)
                return -ENOMEM;

        for (size_t i = 0; i < m->n_to + m->n_cc; i++) {
                const char *a = i < m->n_to ? m->to[i].address : m->cc[i - m->n_to].address;
                bool dup = false;

                if (!mail_address_is_valid(a))
                        return -EINVAL;
                for (size_t k = 0; k < n && !dup; k++)
                        dup = strcasecmp(l[k], a) == 0;
                if (dup)
                        continue;
                l[n] = strdup(a);
                if (!l[n])
                        return -ENOMEM;
                n++;
        }
        if (n == 0)
                return -EINVAL;
        *ret = TAKE_PTR(l);
        return 0;
}
