/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

#define NAME_MAX_LEN 64
#define NODES_MAX 4096

enum tnode_type {
        TN_TEXT,
        TN_VAR,
        TN_SECTION,
        TN_INVERTED,
};

/* Templates are kept as a flat list of nodes; a section's body is the nodes
 * up to its `end`. Variables are resolved at parse time to a position in the
 * scope stack and an index in that scope, because the stack's shape at any
 * point of a template is known statically: only list sections push. */
struct tnode {
        enum tnode_type type;
        size_t off, len;        /* TN_TEXT: a slice of the template's text */
        size_t depth, index;    /* TN_VAR, TN_SECTION, TN_INVERTED */
        size_t end;             /* sections: the first node after the body */
        bool push;              /* sections over a list open the item's scope */
};

struct template {
        char *text;
        enum template_escape escape;
        struct tnode *nodes;
        size_t n_nodes;
};

struct parser {
        const char *name;
        const char *text;
        struct template *t;
        const struct tscope_def *scopes[TEMPLATE_DEPTH_MAX * 2 + 4];
        size_t n_scopes;
        struct {
                size_t node;
                char name[NAME_MAX_LEN + 1];
        } open[TEMPLATE_DEPTH_MAX];
        size_t n_open;
        char **error;
};

struct template *template_free(struct template *t) {
        if (!t)
                return NULL;
        free(t->text);
        free(t->nodes);
        return mfree(t);
}

static unsigned line_of(const char *text, size_t off) {
        unsigned line = 1;
        for (size_t i = 0; i < off; i++)
                if (text[i] == '\n')
                        line++;
        return line;
}

_printf_(3, 4)
static int parse_error(struct parser *p, size_t off, const char *format, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        if (!p->error)
                return -EINVAL;
        va_start(ap, format);
        r = vasprintf(&msg, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if (asprintf(p->error, "%s:%u: %s", p->name, line_of(p->text, off), msg) < 0) {
                *p->error = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

static int add_node(struct parser *p, size_t off, const struct tnode *n) {
        struct tnode *nodes;

        if (p->t->n_nodes >= NODES_MAX)
                return parse_error(p, off, "template has too many parts");
        nodes = reallocarray(p->t->nodes, p->t->n_nodes + 1, sizeof *nodes);
        if (!nodes)
                return -ENOMEM;
        p->t->nodes = nodes;
        nodes[p->t->n_nodes++] = *n;
        return 0;
}

static int add_text(struct parser *p, size_t off, size_t len) {
        if (len == 0)
                return 0;
        return add_node(p, off, &(struct tnode) { .type = TN_TEXT, .off = off, .len = len });
}

static const struct tvar_def *resolve(struct parser *p, const char *name, size_t *ret_depth, size_t *ret_index) {
        for (size_t d = p->n_scopes; d > 0; d--) {
                const struct tscope_def *s = p->scopes[d - 1];
                for (size_t i = 0; i < s->n_vars; i++)
                        if (streq(s->vars[i].name, name)) {
                                *ret_depth = d - 1;
                                *ret_index = i;
                                return &s->vars[i];
                        }
        }
        return NULL;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static bool valid_name(const char *s, size_t n) {
        if (n == 0 || n > NAME_MAX_LEN)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                        return false;
        return true;
}

static int parse_tag(struct parser *p, size_t off, char sigil, const char *name) {
        const struct tvar_def *v;
        struct tnode n = {};
        int r;

        if (sigil == '!')
                return 0;

        if (sigil == '/') {
                if (p->n_open == 0)
                        return parse_error(p, off, "{{/%s}} closes no section", name);
                if (!streq(p->open[p->n_open - 1].name, name))
                        return parse_error(p, off, "{{/%s}} closes {{#%s}}", name, p->open[p->n_open - 1].name);
                p->n_open--;
                size_t i = p->open[p->n_open].node;
                p->t->nodes[i].end = p->t->n_nodes;
                if (p->t->nodes[i].push)
                        p->n_scopes--;
                return 0;
        }

        n.off = off;
        v = resolve(p, name, &n.depth, &n.index);
        if (!v)
                return parse_error(p, off, "unknown placeholder {{%s}}", name);

        if (sigil == 0) {
                if (v->kind == TVAR_LIST)
                        return parse_error(p, off, "{{%s}} is a list: use it as a section, {{#%s}}…{{/%s}}",
                                           name, name, name);
                n.type = TN_VAR;
                return add_node(p, off, &n);
        }

        if (p->n_open >= TEMPLATE_DEPTH_MAX)
                return parse_error(p, off, "sections nested deeper than %d", TEMPLATE_DEPTH_MAX);
        n.type = sigil == '#' ? TN_SECTION : TN_INVERTED;
        n.push = sigil == '#' && v->kind == TVAR_LIST;
        r = add_node(p, off, &n);
        if (r < 0)
                return r;
        p->open[p->n_open].node = p->t->n_nodes - 1;
        strcpy(p->open[p->n_open].name, name);
        p->n_open++;
        if (n.push)
                p->scopes[p->n_scopes++] = v->items;
        return 0;
}

static int parse(struct parser *p) {
        const char *s = p->text;
        size_t pos = 0, text_start = 0;
        int r;

        for (;;) {
                const char *open = strstr(s + pos, "{{"), *close;
                size_t tag, inner, inner_end, tag_end, cut, name_len;
                char sigil = 0, name[NAME_MAX_LEN + 1];

                if (!open)
                        break;
                tag = open - s;
                close = strstr(open + 2, "}}");
                if (!close)
                        return parse_error(p, tag, "unterminated {{");
                inner = tag + 2;
                inner_end = close - s;
                tag_end = inner_end + 2;
                if (s[inner] == '{' || s[inner] == '&')
                        return parse_error(p, tag, "unescaped output ({{{…}}} or {{&…}}) is not supported");
                if (memchr(s + inner, '\n', inner_end - inner))
                        return parse_error(p, tag, "a tag must not span lines");
                if (s[inner] && strchr("#^/!", s[inner]))
                        sigil = s[inner++];

                if (sigil != '!') {
                        while (inner < inner_end && is_blank(s[inner]))
                                inner++;
                        while (inner_end > inner && is_blank(s[inner_end - 1]))
                                inner_end--;
                        name_len = inner_end - inner;
                        if (!valid_name(s + inner, name_len))
                                return parse_error(p, tag, "bad placeholder {{%.*s}}: names are a-z, 0-9 and _",
                                                   (int) MIN(name_len, (size_t) 80), s + inner);
                        memcpy(name, s + inner, name_len);
                        name[name_len] = 0;
                } else
                        name[0] = 0;

                /* A tag that produces no output and stands alone on its line
                 * removes the line: its leading blanks and its newline. */
                cut = tag;
                if (sigil) {
                        size_t ls = tag, le = tag_end;
                        while (ls > 0 && is_blank(s[ls - 1]))
                                ls--;
                        while (is_blank(s[le]))
                                le++;
                        if ((ls == 0 || s[ls - 1] == '\n') && ls >= text_start && (s[le] == '\n' || s[le] == 0)) {
                                cut = ls;
                                tag_end = s[le] == '\n' ? le + 1 : le;
                        }
                }

                r = add_text(p, text_start, cut - text_start);
                if (r < 0)
                        return r;
                r = parse_tag(p, tag, sigil, name);
                if (r < 0)
                        return r;
                pos = text_start = tag_end;
        }

        if (p->n_open > 0)
                return parse_error(p, p->t->nodes[p->open[p->n_open - 1].node].off,
                                   "{{#%s}} is never closed", p->open[p->n_open - 1].name);
        return add_text(p, text_start, strlen(s) - text_start);
}

int template_parse(const char *name, const char *text, enum template_escape escape,
                   const struct tscope_def *const *roots, size_t n_roots,
                   struct template **ret, char **ret_error) {
        _cleanup_(template_freep) struct template *t = NULL;
        struct parser p = { .name = name, .error = ret_error };
        size_t size = strlen(text);
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (n_roots > TEMPLATE_DEPTH_MAX)
                return -EINVAL;
        if (size > TEMPLATE_SIZE_MAX)
                return parse_error(&p, 0, "template larger than %d bytes", TEMPLATE_SIZE_MAX);

        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->text = strdup(text);
        if (!t->text)
                return -ENOMEM;
        t->escape = escape;

        p.text = t->text;
        p.t = t;
        for (size_t i = 0; i < n_roots; i++)
                p.scopes[p.n_scopes++] = roots[i];

        r = parse(&p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

/* Appends `s` with & < > " ' replaced by entities. */
static void html_escape(struct strbuf *out, const char *s) {
        const char *run = s;

        for (; *s; s++) {
                const char *e;
                switch (*s) {
                case '&':  e = "&amp;";  break;
                case '<':  e = "&lt;";   break;
                case '>':  e = "&gt;";   break;
                case '"':  e = "&quot;"; break;
                case '\'': e = "&#39;";  break;
                default:   continue;
                }
                strbuf_putn(out, run, s - run);
                strbuf_puts(out, e);
                run = s + 1;
        }
        strbuf_putn(out, run, s - run);
}

/* Appends `s` as the inside of a JSON string (RFC 8259, 7): '"' and '\\'
 * escaped, control characters as \n, \t, \r or \u00XX; the rest, valid
 * UTF-8, as it is. */
static void json_escape(struct strbuf *out, const char *s) {
        const char *run = s;

        for (; *s; s++) {
                unsigned char ch = (unsigned char) *s;
                char e[8];

                if (ch == '"' || ch == '\\')
                        snprintf(e, sizeof e, "\\%c", ch);
                else if (ch == '\n')
                        strcpy(e, "\\n");
                else if (ch == '\t')
                        strcpy(e, "\\t");
                else if (ch == '\r')
                        strcpy(e, "\\r");
                else if (ch < 0x20 || ch == 0x7f)
                        snprintf(e, sizeof e, "\\u%04x", ch);
                else
                        continue;
                strbuf_putn(out, run, s - run);
                strbuf_puts(out, e);
                run = s + 1;
        }
        strbuf_putn(out, run, s - run);
}

struct render_state {
        const struct template *t;
        const struct tscope *stack[TEMPLATE_DEPTH_MAX * 2 + 4];
        struct strbuf *out;
};

static const struct tvalue *value_at(const struct render_state *st, const struct tnode *n) {
        return &st->stack[n->depth]->values[n->index];
}

static void render_range(struct render_state *st, size_t depth, size_t from, size_t to) {
        for (size_t i = from; i < to && st->out->error >= 0; i++) {
                const struct tnode *n = &st->t->nodes[i];
                const struct tvalue *v;

                switch (n->type) {
                case TN_TEXT:
                        strbuf_putn(st->out, st->t->text + n->off, n->len);
                        break;
                case TN_VAR:
                        v = value_at(st, n);
                        if (!v->text)
                                break;
                        switch (st->t->escape) {
                        case TEMPLATE_ESCAPE_HTML:
                                html_escape(st->out, v->text);
                                break;
                        case TEMPLATE_ESCAPE_JSON:
                                json_escape(st->out, v->text);
                                break;
                        default:
                                strbuf_puts(st->out, v->text);
                        }
                        break;
                case TN_SECTION:
                        v = value_at(st, n);
                        if (n->push)
                                for (size_t k = 0; k < v->n_items; k++) {
                                        st->stack[depth] = &v->items[k];
                                        render_range(st, depth + 1, i + 1, n->end);
                                }
                        else if (v->truthy)
                                render_range(st, depth, i + 1, n->end);
                        i = n->end - 1;
                        break;
                case TN_INVERTED:
                        v = value_at(st, n);
                        if (!v->truthy && v->n_items == 0)
                                render_range(st, depth, i + 1, n->end);
                        i = n->end - 1;
                        break;
                }
        }
}

void template_render(const struct template *t, const struct tscope *const *roots, size_t n_roots,
                     struct strbuf *out) {
        struct render_state st = { .t = t, .out = out };

        for (size_t i = 0; i < n_roots; i++)
                st.stack[i] = roots[i];
        render_range(&st, n_roots, 0, t->n_nodes);
}
