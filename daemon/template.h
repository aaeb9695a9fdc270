/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A small logic-less template language, a subset of Mustache:
 *
 *   {{name}}              the value of a variable (escaped for HTML or JSON
 *                         in templates of those kinds)
 *   {{#name}}…{{/name}}   a section: once if a text variable is non-empty and
 *                         not false, once per item if it is a list
 *   {{^name}}…{{/name}}   an inverted section: once if empty, false or no items
 *   {{! comment }}        nothing
 *
 * A section, inverted-section or comment tag alone on its line takes the
 * whole line with it, so templates can be laid out readably.
 *
 * The variables a template may use are declared up front in scopes; every
 * name is resolved when the template is parsed, so an unknown placeholder is
 * an error at load time (and in check-config), not an empty hole in a
 * message sent months later. Pure: no I/O. */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"
#include "strbuf.h"

#define TEMPLATE_SIZE_MAX (64 * 1024)
#define TEMPLATE_DEPTH_MAX 8

enum tvar_kind {
        TVAR_TEXT,
        TVAR_LIST,
};

struct tscope_def;

struct tvar_def {
        const char *name;
        enum tvar_kind kind;
        const struct tscope_def *items;   /* TVAR_LIST: the scope each item opens */
};

struct tscope_def {
        const struct tvar_def *vars;
        size_t n_vars;
};

struct tscope;

/* A variable's value. Text is shown by {{name}}; `truthy` decides sections
 * (so a count can print "0" and still be false). */
struct tvalue {
        const char *text;                 /* NULL prints nothing */
        bool truthy;
        const struct tscope *items;       /* TVAR_LIST */
        size_t n_items;
};

struct tscope {
        const struct tscope_def *def;
        const struct tvalue *values;      /* parallel to def->vars */
};

struct template;

/* How a value is written into the output: as it is (text/plain), with
 * & < > " ' as entities (HTML), or as the inside of a JSON string ('"',
 * '\\' and control characters escaped), so that no value can end the
 * string it is written in. */
enum template_escape {
        TEMPLATE_ESCAPE_NONE,
        TEMPLATE_ESCAPE_HTML,
        TEMPLATE_ESCAPE_JSON,
};

/* Parses `text`. `roots` are the scopes in force at the top, outermost
 * first: a name resolves to the innermost scope that declares it. `name`
 * only labels errors, which are returned as -EINVAL with *ret_error set to
 * "NAME:LINE: message" (when ret_error is not NULL). */
int template_parse(const char *name, const char *text, enum template_escape escape,
                   const struct tscope_def *const *roots, size_t n_roots,
                   struct template **ret, char **ret_error);
struct template *template_free(struct template *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct template *, template_free);

/* Appends the template's output to `out`, given values for the same roots
 * the template was parsed with. Errors are left in out->error. */
void template_render(const struct template *t, const struct tscope *const *roots, size_t n_roots,
                     struct strbuf *out);
