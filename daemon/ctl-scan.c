/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl import's scans (ctl-import.h): a PDF or an image is read by
 * the OCR helper, deadlined-ocr, in a process of its own. deadlinectl
 * itself never loads poppler or tesseract (doc/architecture.md). The
 * helper's text comes back through a memfd, its progress and its one-line
 * error through a pipe on its descriptor 3; what it prints on stderr
 * (poppler's complaints about a damaged file) is kept aside and shown only
 * when it dies. */

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl-import.h"
#include "fileio.h"
#include "paths.h"

#define HELPER_NAME "deadlined-ocr"
#define HELPER_PACKAGE "deadlined-ocr"
/* The helper's text: pages of a directive, far below this. */
#define SCAN_MAX_TEXT (16 * 1024 * 1024)

/* The helper: $DEADLINECTL_OCR_HELPER, else beside this program (a build
 * tree), else where the package installs it. */
static int find_helper(char *buf, size_t size) {
        const char *env = getenv("DEADLINECTL_OCR_HELPER");
        char self[PATH_MAX];
        ssize_t n;

        if (env && *env) {
                snprintf(buf, size, "%s", env);
                return access(buf, X_OK) == 0 ? 0 : -errno;
        }
        n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
                char *slash;
                self[n] = 0;
                if ((slash = strrchr(self, '/'))) {
                        *slash = 0;
                        if ((size_t) snprintf(buf, size, "%s/%s", self, HELPER_NAME) < size && access(buf, X_OK) == 0)
                                return 0;
                }
        }
        snprintf(buf, size, "%s", LIBEXECDIR "/deadlined/" HELPER_NAME);
        return access(buf, X_OK) == 0 ? 0 : -errno;
}

struct progress {
        bool tty;
        bool shown;
        enum language language;
        unsigned pages, done;
        unsigned memory_mib;    /* the helper's address space, when it limits it */
};

static void progress_show(struct progress *p) {
        if (!p->tty || p->pages == 0)
                return;
        fprintf(stderr, "\r%s %u/%u …", p->language == LANGUAGE_VI ? "trang" : "page", MIN(p->done + 1, p->pages),
                p->pages);
        fflush(stderr);
        p->shown = true;
}

static void progress_clear(struct progress *p) {
        if (p->shown)
                fputs("\r\033[K", stderr);
        p->shown = false;
}

/* Reads the helper's status lines until it closes them; keeps its error. */
static void read_status(int fd, struct progress *p, char *error, size_t error_size) {
        FILE *f = fdopen(fd, "r");
        char line[1024];

        if (!f) {
                close(fd);
                return;
        }
        while (fgets(line, sizeof line, f)) {
                unsigned n;
                line[strcspn(line, "\n")] = 0;
                if (sscanf(line, "pages %u", &n) == 1)
                        p->pages = n;
                else if (sscanf(line, "page %u", &n) == 1)
                        p->done = n;
                else if (sscanf(line, "memory %u", &n) == 1)
                        p->memory_mib = n;
                else if (strncmp(line, "error ", 6) == 0)
                        snprintf(error, error_size, "%s", line + 6);
                progress_show(p);
        }
        fclose(f);
}

/* The last line the helper wrote on stderr, for a crash report. */
static void last_line(int fd, char *buf, size_t size) {
        char tail[1024];
        off_t end = lseek(fd, 0, SEEK_END);
        off_t start = end > (off_t) sizeof tail - 1 ? end - (off_t) sizeof tail + 1 : 0;
        ssize_t n = end > 0 ? pread(fd, tail, (size_t) (end - start), start) : 0;
        char *nl;

        buf[0] = 0;
        if (n <= 0)
                return;
        tail[n] = 0;
        while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
                tail[--n] = 0;
        nl = strrchr(tail, '\n');
        snprintf(buf, size, "%s", nl ? nl + 1 : tail);
}

static _noreturn_ void exec_helper(const char *helper, char **args, int in_fd, int out_fd, int err_fd,
                                   int status_fd) {
        /* Descriptors 0-3 as the helper expects them, nothing else open. */
        if ((in_fd >= 0 && dup2(in_fd, STDIN_FILENO) < 0) || dup2(out_fd, STDOUT_FILENO) < 0 ||
            dup2(err_fd, STDERR_FILENO) < 0 || dup2(status_fd, 3) < 0)
                _exit(EX_OSERR);
        close_range(4, ~0u, 0);
        setenv("OMP_THREAD_LIMIT", "1", 1);
        signal(SIGPIPE, SIG_DFL);
        execv(helper, args);
        _exit(errno == ENOENT ? EX_UNAVAILABLE : EX_OSERR);
}

int scan_read(struct ctl *c, const char *path, enum scan_format format, const struct scan_options *o,
              const char *data, size_t data_size, char **ret_text, size_t *ret_size) {
        char helper[PATH_MAX], pages[32], pixels[32], jobs[32], error[1024] = "", said[1024];
        _cleanup_close_ int out = -EBADF, err = -EBADF, in = -EBADF;
        int status_pipe[2], wstatus = 0, r;
        struct progress p = { .tty = isatty(STDERR_FILENO) == 1, .language = c->config->language };
        const char *args[20];
        size_t n = 0;
        pid_t pid;

        if (find_helper(helper, sizeof helper) < 0)
                return ctl_fail(c, EX_UNAVAILABLE, "%s: reading a scanned %s needs the OCR helper %s, which is not "
                                "installed (install the package %s)", path, scan_format_to_string(format), helper,
                                HELPER_PACKAGE);
        out = memfd_create("deadlinectl-ocr-text", MFD_CLOEXEC);
        err = memfd_create("deadlinectl-ocr-stderr", MFD_CLOEXEC);
        if (out < 0 || err < 0)
                return ctl_fail(c, EX_OSERR, "memfd_create: %s", strerror(errno));
        /* Standard input already read: the helper gets the same bytes. */
        if (data) {
                in = memfd_create("deadlinectl-ocr-input", MFD_CLOEXEC);
                if (in < 0)
                        return ctl_fail(c, EX_OSERR, "memfd_create: %s", strerror(errno));
                if ((r = write_all(in, data, data_size)) < 0)
                        return ctl_fail(c, EX_OSERR, "%s: %s", path, strerror(-r));
                if (lseek(in, 0, SEEK_SET) < 0)
                        return ctl_fail(c, EX_OSERR, "%s: %s", path, strerror(errno));
        }
        if (pipe2(status_pipe, O_CLOEXEC) < 0)
                return ctl_fail(c, EX_OSERR, "pipe: %s", strerror(errno));

        snprintf(pages, sizeof pages, "%u", o->max_pages);
        snprintf(pixels, sizeof pixels, "%" PRIu64, o->max_pixels);
        args[n++] = HELPER_NAME;
        args[n++] = "--status-fd=3";
        args[n++] = "--language";
        args[n++] = o->language;
        args[n++] = "--max-pages";
        args[n++] = pages;
        args[n++] = "--max-pixels";
        args[n++] = pixels;
        if (o->jobs > 0) {
                snprintf(jobs, sizeof jobs, "%u", o->jobs);
                args[n++] = "--jobs";
                args[n++] = jobs;
        }
        args[n++] = "--";
        args[n++] = data ? "-" : path;
        args[n] = NULL;

        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0) {
                close(status_pipe[0]);
                close(status_pipe[1]);
                return ctl_fail(c, EX_OSERR, "fork: %s", strerror(errno));
        }
        if (pid == 0)
                exec_helper(helper, (char **) args, in, out, err, status_pipe[1]);
        close(status_pipe[1]);
        progress_show(&p);
        read_status(status_pipe[0], &p, error, sizeof error);
        while (waitpid(pid, &wstatus, 0) < 0)
                if (errno != EINTR)
                        return ctl_fail(c, EX_OSERR, "waitpid: %s", strerror(errno));
        progress_clear(&p);

        if (WIFSIGNALED(wstatus)) {
                char memory[96] = "";
                last_line(err, said, sizeof said);
                if (p.memory_mib > 0)
                        snprintf(memory, sizeof memory, " (within its memory limit of %u MiB)", p.memory_mib);
                return ctl_fail(c, EX_SOFTWARE, "%s: the OCR helper died of signal %d (%s) reading the %s%s%s%s", path,
                                WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)), scan_format_to_string(format),
                                memory, *said ? "; it said: " : "", said);
        }
        if (WEXITSTATUS(wstatus) != 0) {
                int code = WEXITSTATUS(wstatus);
                if (*error)
                        return ctl_fail(c, code, "%s: %s", path, error);
                last_line(err, said, sizeof said);
                return ctl_fail(c, code, "%s: the OCR helper %s failed (exit status %d)%s%s", path, helper, code,
                                *said ? ": " : "", said);
        }
        /* The helper wrote through the same open file: its offset is at the end. */
        r = lseek(out, 0, SEEK_SET) < 0 ? -errno : read_full(out, SCAN_MAX_TEXT, 0, ret_text, ret_size);
        if (r == -EFBIG)
                return ctl_fail(c, EX_DATAERR, "%s: more text than a directive has (%d MiB)", path,
                                SCAN_MAX_TEXT / 1024 / 1024);
        if (r < 0)
                return ctl_fail(c, EX_OSERR, "%s: reading the recognised text: %s", path, strerror(-r));
        return 0;
}
