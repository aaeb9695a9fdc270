/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The message templates a configuration uses: the built-in ones, with any
 * file of the `templates` folder (LANGUAGE/NAME) in place of its built-in
 * twin. They are built and checked when the configuration is loaded, so a
 * bad template is a configuration error that check-config, start-up and
 * reload all report, never a message that fails to go out. */

#include <fcntl.h>
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
