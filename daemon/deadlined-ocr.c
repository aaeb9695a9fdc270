/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlined-ocr: the text of a scanned directive (a PDF, or a PNG, JPEG or
 * TIFF image), for `deadlinectl import`. It is a program of its own so
 * that neither deadlined nor every other deadlinectl command loads
 * poppler, cairo, leptonica and tesseract, and so that a decoder that
 * crashes on a hostile file takes down this process, not deadlinectl
 * (doc/architecture.md, "Decisions").
 *
 * Prints the pages' text in order, separated by form feeds. Pages with a
 * text layer are taken as they are; the others are rendered and read by
 * tesseract, single-threaded per page, with up to --jobs pages at once.
 * With --status-fd, deadlinectl gets "pages N", "page K" (K pages done)
 * and, on failure, "error MESSAGE" lines on that descriptor. Exits with a
 * sysexits(3) code. */

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <leptonica/allheaders.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>

#include "fileio.h"
#include "number.h"
#include "ocr.h"

struct page {
        char *text;
        double seconds, osd_seconds;
        unsigned dpi;
        int rotation;
        bool ocr;
        struct ocr_error error;
        bool failed;
};

struct run {
        struct ocr_source *source;
        const char *language;
        unsigned page_seconds;
        pthread_mutex_t lock;   /* the source (poppler is not thread-safe), next, done */
        unsigned next, done, n_pages;
        unsigned workers;       /* threads reading pages, this one included */
        bool stop;
        struct page *pages;
        FILE *status;
        bool verbose;
};

static void status_line(struct run *run, const char *format, ...) _printf_(2, 3);
static void status_line(struct run *run, const char *format, ...) {
        va_list ap;
        if (!run->status)
                return;
        va_start(ap, format);
        vfprintf(run->status, format, ap);
        va_end(ap);
        fputc('\n', run->status);
        fflush(run->status);
}

static void *worker(void *userdata) {
        struct run *run = userdata;
        _cleanup_(ocr_reader_freep) struct ocr_reader *reader = NULL;

        for (;;) {
                struct page *p;
                PIX *pix = NULL;
                unsigned index;
                double start;
                int r;

                pthread_mutex_lock(&run->lock);
                if (run->stop || run->next >= run->n_pages) {
                        pthread_mutex_unlock(&run->lock);
                        break;
                }
                index = run->next++;
                p = &run->pages[index];
                start = ocr_now_seconds();
                r = ocr_source_page(run->source, index, &p->text, &pix, &p->error);
                pthread_mutex_unlock(&run->lock);

                if (r >= 0 && pix) {
                        p->ocr = true;
                        p->dpi = (unsigned) pixGetXRes(pix);
                        if (!reader)
                                r = ocr_reader_new(run->language, &reader, &p->error);
                        if (r >= 0) {
                                r = ocr_reader_read(reader, pix, run->page_seconds, &p->text, &p->error);
                                p->rotation = ocr_reader_last_rotation(reader);
                                p->osd_seconds = ocr_reader_last_osd_seconds(reader);
                                if (r < 0 && p->error.status == EX_DATAERR) {
                                        char m[sizeof p->error.message];
                                        snprintf(m, sizeof m, "page %u: %.480s", index + 1, p->error.message);
                                        memcpy(p->error.message, m, sizeof m);
                                }
                        }
                        pixDestroy(&pix);
                }
                p->seconds = ocr_now_seconds() - start;

                pthread_mutex_lock(&run->lock);
                if (r < 0) {
                        p->failed = true;
                        run->stop = true;   /* the rest would be thrown away */
                } else {
                        run->done++;
                        status_line(run, "page %u", run->done);
                        if (run->verbose)
                                fprintf(stderr, "deadlined-ocr: page %u/%u: %s %.2f s (%u dpi, orientation %.2f s)%s\n",
                                        index + 1, run->n_pages, p->ocr ? "read" : "text layer", p->seconds, p->dpi,
                                        p->osd_seconds,
                                        p->rotation ? (p->rotation == 90    ? ", turned 90°"
                                                       : p->rotation == 180 ? ", turned 180°"
                                                                            : ", turned 270°")
                                                    : "");
                }
                pthread_mutex_unlock(&run->lock);
        }
        return NULL;
}

/* The address space the helper may use: what a page read at once needs
 * (tesseract's model and its working memory, the page image, a thread's
 * stack and arena) and a base for the libraries and the file. A file that
 * needs more (a PDF image whose size only decoding tells) fails in the
 * helper, and deadlinectl says so. Not under AddressSanitizer, which
 * reserves terabytes of address space. */
#define MEMORY_BASE_MIB 768u
#define MEMORY_PER_JOB_MIB 768u

static unsigned limit_memory(unsigned jobs) {
        unsigned mib = MEMORY_BASE_MIB + MEMORY_PER_JOB_MIB * jobs;
#if defined(__SANITIZE_ADDRESS__)
        return 0 * mib;
#else
        struct rlimit rl = { .rlim_cur = (rlim_t) mib << 20, .rlim_max = (rlim_t) mib << 20 };
        if (setrlimit(RLIMIT_AS, &rl) < 0)
                return 0;
        return mib;
#endif
}

static unsigned cpus(void) {
        cpu_set_t set;
        if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
                return (unsigned) CPU_COUNT(&set);
        return 1;
}

static int read_input(const char *path, void **ret, size_t *ret_size, struct ocr_error *e) {
        _cleanup_close_ int fd = streq(path, "-") ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        char *buf;
        int r;

        if (fd < 0)
                return ocr_fail(e, EX_NOINPUT, "%s", strerror(errno));
        if (fstat(fd, &st) < 0)
                return ocr_fail(e, EX_IOERR, "%s", strerror(errno));
        if (S_ISDIR(st.st_mode))
                return ocr_fail(e, EX_NOINPUT, "is a directory");
        if (S_ISREG(st.st_mode) && (uint64_t) st.st_size > OCR_MAX_INPUT)
                return ocr_fail(e, EX_DATAERR, "%" PRIu64 " MiB is more than an import reads (%u MiB)",
                                (uint64_t) st.st_size / 1024 / 1024, OCR_MAX_INPUT / 1024 / 1024);
        r = read_full(fd, OCR_MAX_INPUT, S_ISREG(st.st_mode) ? (size_t) st.st_size : 0, &buf, ret_size);
        if (r == -EFBIG)
                return ocr_fail(e, EX_DATAERR, "more than an import reads (%u MiB)", OCR_MAX_INPUT / 1024 / 1024);
        if (r == -ENOMEM)
                return ocr_fail(e, EX_OSERR, "out of memory");
        if (r < 0)
                return ocr_fail(e, EX_IOERR, "%s", strerror(-r));
        *ret = buf;
        return 0;
}

static int parse_unsigned(const char *option, const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        if (parse_u64_range(s, min, max, ret) < 0) {
                fprintf(stderr, "deadlined-ocr: %s: \"%s\" is not a number from %" PRIu64 " to %" PRIu64 "\n", option,
                        s, min, max);
                return -1;
        }
        return 0;
}

static void help(void) {
        printf("Usage: deadlined-ocr [OPTION]... FILE\n"
               "Print the text of a scanned document (PDF, PNG, JPEG or TIFF), pages separated\n"
               "by form feeds, for deadlinectl import.\n\n"
               "  -l, --language LANG    tesseract's model(s), e.g. vie or vie+eng (default vie)\n"
               "  -j, --jobs N           pages read at once (default: the CPUs, %u here)\n"
               "      --max-pages N      refuse a document of more pages (default %u)\n"
               "      --max-pixels N     refuse a page image of more pixels (default %" PRIu64 ")\n"
               "      --dpi N            resolution to render a PDF page at (default %u)\n"
               "      --page-seconds N   time one page may take (default %u)\n"
               "      --status-fd FD     progress and errors as lines on FD\n"
               "  -v, --verbose          each page's time and turn on standard error\n"
               "  -h, --help             this text\n"
               "      --version          the version\n",
               cpus(), SCAN_DEFAULT_MAX_PAGES, SCAN_DEFAULT_MAX_PIXELS, OCR_DEFAULT_DPI, OCR_DEFAULT_PAGE_SECONDS);
}

/* libgomp reads OMP_THREAD_LIMIT once, when it is loaded: tesseract must
 * run single-threaded per page (its OpenMP threads cost more than they
 * give on a small machine, and pages already run in parallel), so the
 * limit is set and the program started again before anything else. */
static void single_threaded_tesseract(char **argv) {
        const char *v = getenv("OMP_THREAD_LIMIT");
        if (v && streq(v, "1"))
                return;
        if (setenv("OMP_THREAD_LIMIT", "1", 1) == 0)
                execv("/proc/self/exe", argv);
        /* No /proc: run with tesseract's default. */
}

int main(int argc, char **argv) {
        enum { ARG_MAX_PAGES = 256, ARG_MAX_PIXELS, ARG_DPI, ARG_PAGE_SECONDS, ARG_STATUS_FD, ARG_VERSION };
        static const struct option options[] = {
                { "language", required_argument, NULL, 'l' },
                { "jobs", required_argument, NULL, 'j' },
                { "max-pages", required_argument, NULL, ARG_MAX_PAGES },
                { "max-pixels", required_argument, NULL, ARG_MAX_PIXELS },
                { "dpi", required_argument, NULL, ARG_DPI },
                { "page-seconds", required_argument, NULL, ARG_PAGE_SECONDS },
                { "status-fd", required_argument, NULL, ARG_STATUS_FD },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        struct ocr_limits limits = {
                .max_pages = SCAN_DEFAULT_MAX_PAGES,
                .max_pixels = SCAN_DEFAULT_MAX_PIXELS,
                .dpi = OCR_DEFAULT_DPI,
                .page_seconds = OCR_DEFAULT_PAGE_SECONDS,
        };
        struct run run = { .language = "vie", .lock = PTHREAD_MUTEX_INITIALIZER };
        _cleanup_(ocr_source_freep) struct ocr_source *source = NULL;
        struct ocr_error e = {};
        uint64_t v, jobs = 0;
        int opt, status_fd = -1, r = 0;
        double start = ocr_now_seconds();
        void *data = NULL;
        size_t size = 0;

        single_threaded_tesseract(argv);
        while ((opt = getopt_long(argc, argv, "l:j:vh", options, NULL)) >= 0)
                switch (opt) {
                case 'l':
                        if (!*optarg || strspn(optarg, "abcdefghijklmnopqrstuvwxyz_+") != strlen(optarg)) {
                                fprintf(stderr, "deadlined-ocr: --language: \"%s\" is not a model name (vie, vie+eng)\n",
                                        optarg);
                                return EX_USAGE;
                        }
                        run.language = optarg;
                        break;
                case 'j':
                        if (parse_unsigned("--jobs", optarg, 1, 256, &jobs) < 0)
                                return EX_USAGE;
                        break;
                case ARG_MAX_PAGES:
                        if (parse_unsigned("--max-pages", optarg, 1, 100000, &v) < 0)
                                return EX_USAGE;
                        limits.max_pages = (unsigned) v;
                        break;
                case ARG_MAX_PIXELS:
                        if (parse_unsigned("--max-pixels", optarg, 1, UINT64_C(1) << 32, &v) < 0)
                                return EX_USAGE;
                        limits.max_pixels = v;
                        break;
                case ARG_DPI:
                        if (parse_unsigned("--dpi", optarg, 50, 1200, &v) < 0)
                                return EX_USAGE;
                        limits.dpi = (unsigned) v;
                        break;
                case ARG_PAGE_SECONDS:
                        if (parse_unsigned("--page-seconds", optarg, 1, 86400, &v) < 0)
                                return EX_USAGE;
                        limits.page_seconds = (unsigned) v;
                        break;
                case ARG_STATUS_FD:
                        if (parse_unsigned("--status-fd", optarg, 3, 1023, &v) < 0)
                                return EX_USAGE;
                        status_fd = (int) v;
                        break;
                case 'v':
                        run.verbose = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("deadlined-ocr %s\n", VERSION);
                        return 0;
                default:
                        return EX_USAGE;
                }
        if (optind != argc - 1) {
                fprintf(stderr, "deadlined-ocr: %s (see --help)\n",
                        optind >= argc ? "missing FILE" : "more than one FILE");
                return EX_USAGE;
        }
        if (status_fd >= 0 && !(run.status = fdopen(status_fd, "w"))) {
                fprintf(stderr, "deadlined-ocr: --status-fd %d: %s\n", status_fd, strerror(errno));
                return EX_USAGE;
        }
        run.page_seconds = limits.page_seconds;
        ocr_quiet();

        r = read_input(argv[optind], &data, &size, &e);
        if (r >= 0)
                r = ocr_source_open(data, size, scan_format_sniff(data, size), &limits, &source, &e);
        if (r >= 0) {
                run.source = source;
                run.n_pages = ocr_source_pages(source);
                run.pages = calloc(run.n_pages, sizeof *run.pages);
                if (!run.pages)
                        r = ocr_fail(&e, EX_OSERR, "out of memory");
        }
        if (r >= 0) {
                unsigned n = (unsigned) MIN(jobs ? jobs : cpus(), (uint64_t) run.n_pages);
                pthread_t threads[256];
                unsigned started = 0, memory = limit_memory(n);

                status_line(&run, "pages %u", run.n_pages);
                if (memory > 0)
                        status_line(&run, "memory %u", memory);
                /* The first worker is this thread; the others are extra. */
                for (unsigned i = 1; i < n; i++) {
                        if (pthread_create(&threads[started], NULL, worker, &run) != 0)
                                break;
                        started++;
                }
                run.workers = started + 1;
                worker(&run);
                for (unsigned i = 0; i < started; i++)
                        pthread_join(threads[i], NULL);
                for (unsigned i = 0; i < run.n_pages; i++)
                        if (run.pages[i].failed) {
                                e = run.pages[i].error;
                                r = -1;
                                break;
                        }
        }
        if (r >= 0) {
                for (unsigned i = 0; r >= 0 && i < run.n_pages; i++) {
                        const char *t = run.pages[i].text ? run.pages[i].text : "";
                        int w = i > 0 ? write_all(STDOUT_FILENO, "\f", 1) : 0;
                        if (w >= 0)
                                w = write_all(STDOUT_FILENO, t, strlen(t));
                        if (w < 0)
                                r = ocr_fail(&e, EX_IOERR, "writing the text: %s", strerror(-w));
                }
        }
        if (run.verbose && r >= 0) {
                struct rusage ru;
                getrusage(RUSAGE_SELF, &ru);
                fprintf(stderr, "deadlined-ocr: %u pages in %.2f s, %u at once, peak memory %ld MiB\n", run.n_pages,
                        ocr_now_seconds() - start, run.workers, ru.ru_maxrss / 1024);
        }
        for (unsigned i = 0; run.pages && i < run.n_pages; i++)
                free(run.pages[i].text);
        free(run.pages);
        if (r < 0) {
                if (run.status)
                        status_line(&run, "error %s", e.message);
                else
                        fprintf(stderr, "deadlined-ocr: %s: %s\n", argv[optind], e.message);
                if (run.status)
                        fclose(run.status);
                return e.status;
        }
        if (run.status)
                fclose(run.status);
        return 0;
}
