/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading one page image with tesseract (ocr.h): the page is turned
 * upright first (tesseract's orientation and script detection, OSD, on a
 * half-size copy: it needs shapes, not detail), then straightened
 * (leptonica's skew search), then recognised with the language's model.
 * One reader per thread: tesseract's handles are not shared. */

#include "ocr.h"

#include <leptonica/allheaders.h>
#include <pthread.h>
#include <stdio.h>
#include <sysexits.h>
#include <tesseract/capi.h>
#include <time.h>

/* OSD's confidence below which a page is left as it is: a false turn
 * loses the whole page, a missed one only what a turned page loses. */
#define ORIENTATION_MIN_CONFIDENCE 5.0f

/* tesseract's initialisation writes global parameters (debug_file among
 * them): readers are made one at a time. */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

struct ocr_reader {
        TessBaseAPI *api;
        TessBaseAPI *osd;
        int rotation;
        double osd_seconds;
};

/* "vie+eng" -> "tesseract-ocr-vie tesseract-ocr-eng" */
static void packages_for(const char *language, char *buf, size_t size) {
        size_t len = 0;
        buf[0] = 0;
        for (const char *p = language; *p && len < size;) {
                size_t n = strcspn(p, "+");
                len += (size_t) snprintf(buf + len, size - len, "%stesseract-ocr-%.*s", len ? " " : "", (int) n, p);
                p += n;
                if (*p == '+')
                        p++;
        }
}

static TessBaseAPI *api_new(const char *language, TessPageSegMode mode) {
        TessBaseAPI *api = TessBaseAPICreate();

        if (!api)
                return NULL;
        /* tesseract's diagnostics ("Estimating resolution as …") */
        TessBaseAPISetVariable(api, "debug_file", "/dev/null");
        if (TessBaseAPIInit3(api, NULL, language) != 0) {
                TessBaseAPIDelete(api);
                return NULL;
        }
        TessBaseAPISetVariable(api, "debug_file", "/dev/null");
        TessBaseAPISetPageSegMode(api, mode);
        return api;
}

int ocr_reader_new(const char *language, struct ocr_reader **ret, struct ocr_error *e) {
        _cleanup_(ocr_reader_freep) struct ocr_reader *r = calloc(1, sizeof *r);
        char packages[256];

        if (!r)
                return ocr_fail(e, EX_OSERR, "out of memory");
        pthread_mutex_lock(&init_lock);
        r->api = api_new(language, PSM_AUTO);
        r->osd = r->api ? api_new("osd", PSM_OSD_ONLY) : NULL;
        pthread_mutex_unlock(&init_lock);
        if (!r->api) {
                packages_for(language, packages, sizeof packages);
                return ocr_fail(e, EX_UNAVAILABLE, "the OCR model \"%s\" is not installed (install %s)", language,
                                packages);
        }
        if (!r->osd)
                return ocr_fail(e, EX_UNAVAILABLE, "tesseract's orientation model is not installed "
                                "(install tesseract-ocr-osd)");
        *ret = TAKE_PTR(r);
        return 0;
}

/* How many quarter turns clockwise make the page upright; 0 when OSD
 * cannot tell (a page with too little text). */
static int upright_quads(struct ocr_reader *r, PIX *pix) {
        PIX *small = pixGetXRes(pix) >= 250 || pixGetWidth(pix) > 3000 ? pixScale(pix, 0.5f, 0.5f) : pixClone(pix);
        int degrees = 0;
        float confidence = 0, script_confidence = 0;
        const char *script = NULL;
        BOOL ok;

        if (!small)
                return 0;
        TessBaseAPISetImage2(r->osd, small);
        if (pixGetXRes(small) > 0)
                TessBaseAPISetSourceResolution(r->osd, pixGetXRes(small));
        ok = TessBaseAPIDetectOrientationScript(r->osd, &degrees, &confidence, &script, &script_confidence);
        TessBaseAPIClear(r->osd);
        pixDestroy(&small);
        /* `script` points into the model's own table in tesseract 5, whatever
         * capi.h says about freeing it: freeing it corrupts the heap. */
        if (!ok || confidence < ORIENTATION_MIN_CONFIDENCE || degrees % 90 != 0)
                return 0;
        /* OSD says how far the text is turned; undo it. */
        return ((360 - degrees) / 90) % 4;
}

double ocr_now_seconds(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int ocr_reader_read(struct ocr_reader *r, PIX *pix, unsigned seconds, char **ret_text, struct ocr_error *e) {
        PIX *upright, *straight;
        ETEXT_DESC *monitor;
        double start = ocr_now_seconds();
        char *text;
        int quads, rc;

        quads = upright_quads(r, pix);
        r->rotation = quads * 90;
        r->osd_seconds = ocr_now_seconds() - start;
        upright = quads ? pixRotateOrth(pix, quads) : pixClone(pix);
        if (!upright)
                return ocr_fail(e, EX_OSERR, "out of memory");
        straight = pixDeskew(upright, 0);
        pixDestroy(&upright);
        if (!straight)
                return ocr_fail(e, EX_OSERR, "out of memory");
        if (pixGetXRes(straight) <= 0 && pixGetXRes(pix) > 0)
                pixSetResolution(straight, pixGetXRes(pix), pixGetYRes(pix));

        TessBaseAPISetImage2(r->api, straight);
        if (pixGetXRes(straight) > 0)
                TessBaseAPISetSourceResolution(r->api, pixGetXRes(straight));
        monitor = TessMonitorCreate();
        if (!monitor) {
                pixDestroy(&straight);
                return ocr_fail(e, EX_OSERR, "out of memory");
        }
        TessMonitorSetDeadlineMSecs(monitor, (int) MIN(seconds, 86400u) * 1000);
        rc = TessBaseAPIRecognize(r->api, monitor);
        TessMonitorDelete(monitor);
        pixDestroy(&straight);
        if (rc != 0) {
                TessBaseAPIClear(r->api);
                if (ocr_now_seconds() - start >= seconds)
                        return ocr_fail(e, EX_DATAERR, "took longer than %u s to read (see --page-seconds)", seconds);
                return ocr_fail(e, EX_SOFTWARE, "tesseract could not read it");
        }
        text = TessBaseAPIGetUTF8Text(r->api);
        TessBaseAPIClear(r->api);
        if (!text)
                return ocr_fail(e, EX_OSERR, "out of memory");
        *ret_text = strdup(text);
        TessDeleteText(text);
        if (!*ret_text)
                return ocr_fail(e, EX_OSERR, "out of memory");
        return 0;
}

int ocr_reader_last_rotation(const struct ocr_reader *r) {
        return r->rotation;
}

double ocr_reader_last_osd_seconds(const struct ocr_reader *r) {
        return r->osd_seconds;
}

void ocr_reader_free(struct ocr_reader *r) {
        if (!r)
                return;
        if (r->api)
                TessBaseAPIDelete(r->api);
        if (r->osd)
                TessBaseAPIDelete(r->osd);
        free(r);
}
