/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The message templates a configuration uses: the built-in ones, with any
 * file of the `templates` folder (LANGUAGE/NAME) in place of its built-in
 * twin. They are built and checked when the configuration is loaded, so a
 * bad template is a configuration error that check-config, start-up and
 * reload all report, never a message that fails to go out. */

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-parse.h"
#include "render.h"

#define TEMPLATE_FILE_MAX (256 * 1024)

static int read_small_file(const char *path, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        struct stat st;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADF;
        if (st.st_size > TEMPLATE_FILE_MAX)
                return -EFBIG;
        char *buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        ssize_t n = read(fd, buf, (size_t) st.st_size);
        if (n < 0) {
                free(buf);
                return -errno;
        }
        buf[n] = 0;
        if (strlen(buf) != (size_t) n) {
                free(buf);
                return -EBADMSG;
        }
        *ret = buf;
        return 0;
}

int config_templates_load(struct parser *p, unsigned line, struct config *c) {
        struct render_template_text overrides[32];
        size_t n = 0;
        _cleanup_free_ char *error = NULL;
        int r = 0;

        const char *lang = language_to_string(c->language);
        for (size_t i = 0; c->templates && render_template_names[i] && n < ELEMENTSOF(overrides); i++) {
                char path[4096];
                char *text = NULL;
                snprintf(path, sizeof path, "%s/%s/%s", c->templates, lang, render_template_names[i]);
                r = read_small_file(path, &text);
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        parser_error_at(p, line, "templates", "%s: %s", path,
                                        r == -EBADMSG ? "holds a NUL byte" : strerror(-r));
                        continue;
                }
                overrides[n++] = (struct render_template_text) { render_template_names[i], text };
        }
        if (!parser_failed(p)) {
                r = render_templates_new(c->language, overrides, n, &c->render, &error);
                if (r == -ENOMEM)
                        goto finish;
                if (r < 0)
                        parser_error_at(p, line, "templates", "%s/%s", strempty(c->templates),
                                        error ? error : "invalid template");
                r = 0;
        }
finish:
        for (size_t i = 0; i < n; i++)
                free((char *) overrides[i].text);
        return r;
}

#define WEBHOOK_TEXT_MAX 1000000

static const char *content_type_check(const char *s) {
        for (const char *c = s; *c; c++)
                if ((unsigned char) *c < 0x20 || (unsigned char) *c >= 0x7f)
                        return "is not a media type (printable ASCII, e.g. \"application/json\")";
        return strchr(s, '/') ? NULL : "is not a media type (e.g. \"application/json\")";
}

void config_webhook_body_parse(struct parser *p, const config_setting_t *s, const char *path, struct webhook *w) {
        const config_setting_t *t = config_setting_get_member(s, "template");
        _cleanup_free_ char *text = NULL, *error = NULL;
        char buf[SETTING_PATH_MAX];
        int r, max = 0;

        parser_path_member(buf, path, "template");
        if (parser_get_path(p, s, path, "template", &w->body_file) == 0) {
                parser_error(p, s, buf, "missing (format = \"template\" needs the body's template file, "
                                        "e.g. template = \"/etc/deadlined/webhooks/teams.json\";)");
                return;
        }
        if (!w->body_file)
                return;
        w->body_line = (int) config_setting_source_line(t);
        w->body_setting = strdup(buf);
        if (!w->body_setting)
                p->oom = true;
        r = read_small_file(w->body_file, &text);
        if (r < 0) {
                parser_error(p, t, buf, "%s: %s", w->body_file, r == -EBADMSG ? "holds a NUL byte" : strerror(-r));
                return;
        }
        r = render_body_template_parse(w->body_file, text, &w->body, &error);
        if (r == -ENOMEM)
                p->oom = true;
        else if (r < 0)
                parser_error(p, t, buf, "%s", error ?: "invalid template");

        if (parser_get_string(p, s, path, "content_type", 128, content_type_check, &w->content_type) == 0) {
                w->content_type = strdup("application/json");
                if (!w->content_type)
                        p->oom = true;
        }
        if (parser_get_int(p, s, path, "text_max", 1, WEBHOOK_TEXT_MAX, &max) > 0)
                w->text_max = (size_t) max;
}

void config_webhook_bodies_check(struct parser *p, const struct config *c) {
        for (size_t i = 0; i < c->n_agencies; i++)
                for (size_t k = 0; k < c->agencies[i].n_webhooks; k++) {
                        const struct webhook *w = &c->agencies[i].webhooks[k];
                        _cleanup_(render_output_done) struct render_output out = {};
                        struct render_recipient rec = { .name = c->agencies[i].name, .role = _ROLE_INVALID };
                        struct render_input in = {
                                .kind = RENDER_TEST,
                                .now = 0,
                                .recipients = &rec,
                                .n_recipients = 1,
                                .base_url = c->base_url,
                                .webhook = true,
                                .body = w->body,
                                .body_text_max = w->text_max,
                                .event_id = "msg_check",
                        };
                        json_error_t e;
                        json_t *j;
                        int r;

                        if (!w->body)
                                continue;
                        r = render_message(c->render, &in, &out);
                        if (r == -ENOMEM) {
                                p->oom = true;
                                return;
                        }
                        if (r < 0) {
                                parser_error_at(p, (unsigned) w->body_line, strempty(w->body_setting), "%s: cannot be rendered: %s",
                                                w->body_file, strerror(-r));
                                continue;
                        }
                        j = json_loads(out.body, JSON_REJECT_DUPLICATES, &e);
                        if (!j)
                                parser_error_at(p, (unsigned) w->body_line, strempty(w->body_setting),
                                                "%s does not make JSON (in a test message, line %d, column %d: %s)",
                                                w->body_file, e.line, e.column, e.text);
                        json_decref(j);
                }
}
