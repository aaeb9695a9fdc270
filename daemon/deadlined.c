/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlined: reminds agencies of their deadlines. */

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "config.h"
#include "lockfile.h"
#include "log.h"
#include "manager.h"
#include "store.h"
#include "timeutil.h"

static void help(void) {
        printf("Usage: deadlined [OPTIONS]\n"
               "Send reminders of task deadlines to the agencies responsible.\n\n"
               "  -c, --config FILE   configuration file (default %s)\n"
               "      --once          send what is due now, then exit\n"
               "      --now TIME      act as if it were TIME (\"2025-04-28T08:00\")\n"
               "      --check-config  check the configuration and exit\n"
               "  -v, --verbose       log debugging messages\n"
               "  -h, --help          show this help\n"
               "      --version       show the version\n\n"
               "See deadlined(8) and deadlined.conf(5).\n",
               CONFIG_DEFAULT_PATH);
}

static int load_config(const char *path, struct config **ret) {
        _cleanup_free_ char *errors = NULL;
        int r = config_load(path, ret, &errors);

        if (r >= 0)
                return 0;
        if (errors)
                for (char *line = strtok(errors, "\n"); line; line = strtok(NULL, "\n"))
                        log_error("%s", line);
        else
                log_error_errno(r, "Failed to read %s: %m", path);
        return r;
}

/* The exit status for a failure of the database, as deadlinectl's
 * (deadlined(8), EXIT STATUS). */
static int store_exit_status(int r) {
        switch (r) {
        case -EPROTONOSUPPORT:
        case -EBADMSG:
                return EX_DATAERR;
        case -EBUSY:
                return EX_TEMPFAIL;
        case -EACCES:
        case -EPERM:
        case -EROFS:
                return EX_NOPERM;
        case -ENOSPC:
        case -EIO:
                return EX_IOERR;
        default:
                return EX_CANTCREAT;
        }
}

/* Takes the database's sender lock (lockfile.h) for the life of the
 * process; returns its descriptor or an exit code, negated. */
static int take_sender_lock(const char *database) {
        struct lock_holder h;
        int fd;

        fd = lockfile_take(database, (int64_t) time(NULL), &h);
        if (fd >= 0)
                return fd;
        if (fd == -EBUSY) {
                if (h.pid > 0)
                        log_error("another deadlined (PID %d) is sending from %s", (int) h.pid, database);
                else
                        log_error("another deadlined is sending from %s", database);
                return -EX_TEMPFAIL;
        }
        log_error("Failed to lock %s.lock: %s", database, store_strerror(fd));
        return -store_exit_status(fd);
}

int main(int argc, char **argv) {
        enum { ARG_ONCE = 0x100, ARG_NOW, ARG_CHECK, ARG_VERSION };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "once", no_argument, NULL, ARG_ONCE },
                { "now", required_argument, NULL, ARG_NOW },
                { "check-config", no_argument, NULL, ARG_CHECK },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        const char *config_path = CONFIG_DEFAULT_PATH, *now_text = NULL;
        bool once = false, check = false, verbose = false;
        int64_t now = NO_TIME;
        _cleanup_close_ int lock = -EBADF;
        _cleanup_(config_freep) struct config *config = NULL;
        _cleanup_(store_closep) struct store *store = NULL;
        _cleanup_(manager_freep) struct manager *m = NULL;
        int opt, r;

        log_setup(LOG_TARGET_AUTO, LOG_INFO);
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":c:vh", options, NULL)) >= 0) {
                switch (opt) {
                case 'c':
                        config_path = optarg;
                        break;
                case ARG_ONCE:
                        once = true;
                        break;
                case ARG_NOW:
                        /* Checked now, read in the configured zone later. */
                        if (parse_instant(optarg, &now) < 0) {
                                log_error("--now: \"%s\" is not a time (use 2025-04-28T08:00)", optarg);
                                return EX_USAGE;
                        }
                        now_text = optarg;
                        break;
                case ARG_CHECK:
                        check = true;
                        break;
                case 'v':
                        verbose = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("deadlined %s\n", VERSION);
                        return 0;
                default:
                        log_error("Unknown or incomplete option \"%s\" (see deadlined --help)", argv[optind - 1]);
                        return EX_USAGE;
                }
        }
        if (optind < argc) {
                log_error("Unexpected argument \"%s\" (see deadlined --help)", argv[optind]);
                return EX_USAGE;
        }
        if (verbose)
                log_set_max_level(LOG_DEBUG);

        if (load_config(config_path, &config) < 0)
                return EX_CONFIG;
        r = config_apply_timezone(config);
        if (r < 0) {
                log_error_errno(r, "Failed to use time zone %s: %m", config->timezone);
                return EX_CONFIG;
        }
        if (now_text)
                (void) parse_instant(now_text, &now);
        if (check) {
                printf("%s: configuration OK: %zu agencies, %zu groups\n", config->path, config->n_agencies,
                       config->n_groups);
                return 0;
        }

        r = store_open(config->database, STORE_CREATE, &store);
        if (r < 0) {
                const char *detail = store_last_error(NULL);
                log_error("Failed to open the database %s: %s%s%s%s", config->database, store_strerror(r),
                          *detail ? " (" : "", detail, *detail ? ")" : "");
                return store_exit_status(r);
        }

        lock = take_sender_lock(config->database);
        if (lock < 0)
                return -lock;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                log_error("Failed to initialise libcurl");
                return EX_SOFTWARE;
        }
        r = manager_new(config_path, TAKE_PTR(config), TAKE_PTR(store), &m);
        if (r < 0) {
                log_error_errno(r, "Failed to set up the event loop: %m");
                return EX_OSERR;
        }
        m->once = once;
        m->sender_lock = TAKE_FD(lock);
        if (now != NO_TIME)
                m->clock_offset = now - (int64_t) time(NULL);

        r = manager_start(m);
        if (r < 0)
                return r == -EIO ? EX_UNAVAILABLE : store_exit_status(r);
        log_info("Started %s: %zu agencies, database %s%s", VERSION, m->config->n_agencies, m->config->database,
                 once ? " (one pass)" : "");
        r = manager_run(m);
        if (r < 0)
                return EX_SOFTWARE;
        if (once) {
                log_info("One pass done: %u sent, %u deferred, %u failed", m->sent, m->deferred, m->failed);
                r = m->failed ? EX_UNAVAILABLE : m->deferred ? EX_TEMPFAIL : 0;
        }
        m = manager_free(m);
        curl_global_cleanup();
        return r;
}
