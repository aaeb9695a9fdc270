/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pages of a scanned document (ocr.h): a PDF through poppler (a page's
 * text layer when it has one, else the page rendered with cairo), a PNG,
 * JPEG or TIFF through leptonica. Every page image is checked against the
 * pixel limit before it is decoded or rendered, so a 20,000 × 20,000 image
 * is refused from its header, not after 400 MB are allocated. */

#include "ocr.h"

#include <cairo.h>
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <leptonica/allheaders.h>
#include <poppler.h>
#include <stdarg.h>
#include <stdio.h>
#include <sysexits.h>

/* A page whose text layer has fewer visible characters than this is a
 * scanned page (a stray page number, a stamp's caption). */
#define TEXT_LAYER_MIN_CHARS 16

struct ocr_source {
        enum scan_format format;
        struct ocr_limits limits;
        void *data;
        size_t size;
        unsigned n_pages;
        bool pdf_images_unsized;  /* an image whose size the scan below could not read */
        PopplerDocument *pdf;
        GBytes *bytes;
};

int ocr_fail(struct ocr_error *e, int status, const char *format, ...) {
        va_list ap;

        e->status = status;
        va_start(ap, format);
        vsnprintf(e->message, sizeof e->message, format, ap);
        va_end(ap);
        return -1;
}

void ocr_quiet(void) {
        setMsgSeverity(L_SEVERITY_NONE);
}

static int check_pages(const struct ocr_source *s, struct ocr_error *e) {
        if (s->n_pages == 0)
                return ocr_fail(e, EX_DATAERR, "the %s has no pages", scan_format_to_string(s->format));
        if (s->n_pages > s->limits.max_pages)
                return ocr_fail(e, EX_DATAERR, "%u pages, more than an import reads (at most %u; see --max-pages)",
                                s->n_pages, s->limits.max_pages);
        return 0;
}

static int check_pixels(const struct ocr_source *s, unsigned index, uint64_t w, uint64_t h, struct ocr_error *e) {
        if (w == 0 || h == 0)
                return ocr_fail(e, EX_DATAERR, "page %u: an empty image (%" PRIu64 " × %" PRIu64 ")", index + 1, w, h);
        if (w > INT32_MAX / 4 || h > INT32_MAX / 4 || w * h > s->limits.max_pixels)
                return ocr_fail(e, EX_DATAERR,
                                "page %u: %" PRIu64 " × %" PRIu64 " pixels, more than a page may have "
                                "(%" PRIu64 "; see --max-pixels)",
                                index + 1, w, h, s->limits.max_pixels);
        return 0;
}

/* Reads "/Key 123" in a dictionary's text; -1 when it is not a plain
 * number (an indirect reference, say). */
static long long dict_number(const char *dict, size_t len, const char *key) {
        size_t klen = strlen(key);
        for (const char *p = dict; (p = memmem(p, len - (size_t) (p - dict), key, klen)); p += klen) {
                const char *q = p + klen, *end = dict + len;
                long long v = 0;
                int digits = 0;
                /* "/Width" and not "/WidthX" */
                if (q < end && (isalnum((unsigned char) *q) || *q == '_'))
                        continue;
                while (q < end && strchr(" \t\r\n\f", *q))
                        q++;
                while (q < end && *q >= '0' && *q <= '9' && digits < 12)
                        v = v * 10 + (*q++ - '0'), digits++;
                if (digits == 0 || (q < end && strchr(" \t\r\n\f", *q) && q + 1 < end && q[1] >= '0' &&
                                    q[1] <= '9'))
                        return -1;  /* not a number, or "12 0 R" */
                return v;
        }
        return -1;
}

/* A PDF's images before poppler decodes any: an image is a stream, and a
 * stream is never inside a compressed object stream, so every image's
 * dictionary is in the file as it is. An image larger than the pixel limit
 * refuses the document (decoding it is what costs: 1.6 GB and 12 s for a
 * 20,000 × 20,000 grey image on an A4 page); one whose size is not a plain
 * number is never taken whole, only drawn at --dpi. */
static int check_pdf_images(struct ocr_source *s, struct ocr_error *e) {
        static const char needle[] = "/Image";
        const char *data = s->data, *end = data + s->size;

        for (const char *p = data; (p = memmem(p, (size_t) (end - p), needle, sizeof needle - 1)); p++) {
                const char *start = p, *stop = p;
                long long w, h;
                /* The dictionary around it: back to "<<", on to "stream" or ">>" at its depth, within 4 KiB. */
                while (start > data && p - start < 4096 && !(start[0] == '<' && start[1] == '<'))
                        start--;
                stop = memmem(p, (size_t) MIN(end - p, 4096), "stream", 6);
                if (!stop)
                        stop = p + MIN(end - p, 4096);
                if (p + sizeof needle - 1 < end && isalnum((unsigned char) p[sizeof needle - 1]))
                        continue;   /* "/ImageB" in a /ProcSet, "/ImageMask" */
                if (!memmem(start, (size_t) (p - start), "/Subtype", 8))
                        continue;
                w = dict_number(start, (size_t) (stop - start), "/Width");
                h = dict_number(start, (size_t) (stop - start), "/Height");
                if (w < 0 || h < 0) {
                        s->pdf_images_unsized = true;
                        continue;
                }
                if ((uint64_t) w * (uint64_t) h > s->limits.max_pixels)
                        return ocr_fail(e, EX_DATAERR,
                                        "an image of %lld × %lld pixels, more than a page may have "
                                        "(%" PRIu64 "; see --max-pixels)",
                                        w, h, s->limits.max_pixels);
        }
        return 0;
}

static int open_pdf(struct ocr_source *s, struct ocr_error *e) {
        g_autoptr(GError) error = NULL;
        int n;

        s->bytes = g_bytes_new_static(s->data, s->size);
        s->pdf = poppler_document_new_from_bytes(s->bytes, NULL, &error);
        if (!s->pdf) {
                if (g_error_matches(error, POPPLER_ERROR, POPPLER_ERROR_ENCRYPTED))
                        return ocr_fail(e, EX_DATAERR, "the PDF is encrypted with a password "
                                        "(save a copy without one, or print it to PDF)");
                return ocr_fail(e, EX_DATAERR, "not a readable PDF (%s)",
                                error && error->message ? error->message : "damaged");
        }
        n = poppler_document_get_n_pages(s->pdf);
        s->n_pages = n > 0 ? (unsigned) n : 0;
        if (check_pages(s, e) < 0)
                return -1;
        return check_pdf_images(s, e);
}

static int open_tiff(struct ocr_source *s, struct ocr_error *e) {
        FILE *f = fmemopen(s->data, s->size, "r");
        l_int32 n = 0;
        l_ok r;

        if (!f)
                return ocr_fail(e, EX_OSERR, "out of memory");
        r = tiffGetCount(f, &n);
        fclose(f);
        if (r != 0 || n <= 0)
                return ocr_fail(e, EX_DATAERR, "not a readable TIFF image");
        s->n_pages = (unsigned) n;
        return check_pages(s, e);
}

int ocr_source_open(void *data, size_t size, enum scan_format format, const struct ocr_limits *limits,
                    struct ocr_source **ret, struct ocr_error *e) {
        _cleanup_(ocr_source_freep) struct ocr_source *s = NULL;
        int r;

        s = calloc(1, sizeof *s);
        if (!s) {
                free(data);
                return ocr_fail(e, EX_OSERR, "out of memory");
        }
        *s = (struct ocr_source) { .format = format, .limits = *limits, .data = data, .size = size };
        if (size == 0)
                return ocr_fail(e, EX_DATAERR, "an empty file");
        switch (format) {
        case SCAN_PDF:
                r = open_pdf(s, e);
                break;
        case SCAN_TIFF:
                r = open_tiff(s, e);
                break;
        case SCAN_PNG:
        case SCAN_JPEG:
                s->n_pages = 1;
                r = 0;
                break;
        default:
                r = ocr_fail(e, EX_DATAERR, "not a PDF, PNG, JPEG or TIFF file");
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

unsigned ocr_source_pages(const struct ocr_source *s) {
        return s->n_pages;
}

/* The page's text layer, when it has enough of one. */
static char *pdf_text(PopplerPage *page) {
        char *text = poppler_page_get_text(page), *copy;
        size_t visible = 0;

        if (!text)
                return NULL;
        for (const char *p = text; *p && visible < TEXT_LAYER_MIN_CHARS; p++)
                if (!strchr(" \t\r\n\f", *p))
                        visible++;
        copy = visible >= TEXT_LAYER_MIN_CHARS ? strdup(text) : NULL;
        g_free(text);
        return copy;
}

/* cairo's xRGB words to leptonica's 8-bit grey, by luminance. */
static PIX *surface_to_grey(cairo_surface_t *surface, unsigned dpi) {
        int w = cairo_image_surface_get_width(surface), h = cairo_image_surface_get_height(surface);
        int stride = cairo_image_surface_get_stride(surface);
        const unsigned char *src = cairo_image_surface_get_data(surface);
        PIX *pix = pixCreate(w, h, 8);

        if (!pix)
                return NULL;
        l_uint32 *data = pixGetData(pix);
        l_int32 wpl = pixGetWpl(pix);
        for (int y = 0; y < h; y++) {
                const uint32_t *row = (const uint32_t *) (src + (size_t) y * (size_t) stride);
                l_uint32 *line = data + (size_t) y * (size_t) wpl;
                for (int x = 0; x < w; x++) {
                        uint32_t v = row[x];
                        unsigned grey = (((v >> 16) & 0xff) * 77 + ((v >> 8) & 0xff) * 150 + (v & 0xff) * 29) >> 8;
                        SET_DATA_BYTE(line, x, grey);
                }
        }
        pixSetResolution(pix, (l_int32) dpi, (l_int32) dpi);
        return pix;
}

/* A scanned page is one image over the whole page: read at the scan's own
 * resolution, it reads better than redrawn at another (a 200 dpi scan
 * drawn at 300 dpi loses diacritics to the interpolation). 1: *ret_pix
 * is the image; 0: not such a page, render it; -1: an error. */
static int pdf_page_scan(struct ocr_source *s, PopplerPage *page, unsigned index, double wpt, double hpt,
                         PIX **ret_pix, struct ocr_error *e) {
        GList *mappings = poppler_page_get_image_mapping(page);
        cairo_surface_t *image = NULL;
        PopplerImageMapping *m;
        double aw, ah, dpi;
        int w, h, r = 0;

        if (!mappings || mappings->next || s->pdf_images_unsized)
                goto out;
        m = mappings->data;
        aw = fabs(m->area.x2 - m->area.x1);
        ah = fabs(m->area.y2 - m->area.y1);
        if (aw * ah < 0.9 * wpt * hpt || aw < 1 || ah < 1)
                goto out;
        image = poppler_page_get_image(page, m->image_id);
        if (!image || cairo_surface_status(image) != CAIRO_STATUS_SUCCESS ||
            cairo_surface_get_type(image) != CAIRO_SURFACE_TYPE_IMAGE)
                goto out;
        if (cairo_image_surface_get_format(image) != CAIRO_FORMAT_RGB24 &&
            cairo_image_surface_get_format(image) != CAIRO_FORMAT_ARGB32)
                goto out;
        w = cairo_image_surface_get_width(image);
        h = cairo_image_surface_get_height(image);
        if (check_pixels(s, index, (uint64_t) w, (uint64_t) h, e) < 0) {
                r = -1;
                goto out;
        }
        /* The page's image drawn at another size than the page: believe
         * its own width over the width it is drawn at. */
        dpi = w / (aw / 72.0);
        if (dpi < 50 || dpi > 1200)
                goto out;
        cairo_surface_flush(image);
        if (!(*ret_pix = surface_to_grey(image, (unsigned) (dpi + 0.5)))) {
                r = ocr_fail(e, EX_OSERR, "page %u: out of memory", index + 1);
                goto out;
        }
        r = 1;
out:
        if (image)
                cairo_surface_destroy(image);
        poppler_page_free_image_mapping(mappings);
        return r;
}

static int pdf_page_read(struct ocr_source *s, PopplerPage *page, unsigned index, char **ret_text, PIX **ret_pix,
                         struct ocr_error *e) {
        cairo_surface_t *surface;
        cairo_t *cr;
        double wpt, hpt, scale = s->limits.dpi / 72.0;
        uint64_t w, h;
        PIX *pix;
        int r;

        if ((*ret_text = pdf_text(page)))
                return 0;
        poppler_page_get_size(page, &wpt, &hpt);
        if (!(wpt > 0 && hpt > 0 && wpt < 1e6 && hpt < 1e6))
                return ocr_fail(e, EX_DATAERR, "page %u: no size (a damaged PDF)", index + 1);
        r = pdf_page_scan(s, page, index, wpt, hpt, ret_pix, e);
        if (r != 0)
                return r < 0 ? r : 0;
        w = (uint64_t) (wpt * scale + 0.5);
        h = (uint64_t) (hpt * scale + 0.5);
        if (check_pixels(s, index, w, h, e) < 0)
                return -1;
        surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int) w, (int) h);
        if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
                cairo_surface_destroy(surface);
                return ocr_fail(e, EX_OSERR, "page %u: out of memory for %" PRIu64 " × %" PRIu64 " pixels",
                                index + 1, w, h);
        }
        cr = cairo_create(surface);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_paint(cr);
        cairo_scale(cr, scale, scale);
        /* Not "for printing": poppler then scales a large image down as
         * it draws it, instead of drawing it whole. */
        poppler_page_render(page, cr);
        cairo_destroy(cr);
        cairo_surface_flush(surface);
        pix = surface_to_grey(surface, s->limits.dpi);
        cairo_surface_destroy(surface);
        if (!pix)
                return ocr_fail(e, EX_OSERR, "page %u: out of memory", index + 1);
        *ret_pix = pix;
        return 0;
}

static int pdf_page(struct ocr_source *s, unsigned index, char **ret_text, PIX **ret_pix, struct ocr_error *e) {
        PopplerPage *page = poppler_document_get_page(s->pdf, (int) index);
        int r;

        if (!page)
                return ocr_fail(e, EX_DATAERR, "page %u: cannot be read (a damaged PDF)", index + 1);
        r = pdf_page_read(s, page, index, ret_text, ret_pix, e);
        g_object_unref(page);
        return r;
}

static int image_page(struct ocr_source *s, unsigned index, PIX **ret_pix, struct ocr_error *e) {
        l_int32 format = 0, w = 0, h = 0, bps = 0, spp = 0, cmap = 0, res = 0;
        l_ok r;
        PIX *pix, *grey;

        if (s->format == SCAN_TIFF)
                r = readHeaderMemTiff(s->data, s->size, (l_int32) index, &w, &h, &bps, &spp, &res, &cmap, &format);
        else
                r = pixReadHeaderMem(s->data, s->size, &format, &w, &h, &bps, &spp, &cmap);
        if (r != 0 || w <= 0 || h <= 0)
                return ocr_fail(e, EX_DATAERR, "not a readable %s image%s", scan_format_to_string(s->format),
                                s->n_pages > 1 ? " (page unreadable)" : "");
        if (check_pixels(s, index, (uint64_t) w, (uint64_t) h, e) < 0)
                return -1;
        pix = s->format == SCAN_TIFF ? pixReadMemTiff(s->data, s->size, (l_int32) index)
                                     : pixReadMem(s->data, s->size);
        if (!pix)
                return ocr_fail(e, EX_DATAERR, "page %u: the %s image is damaged", index + 1,
                                scan_format_to_string(s->format));
        /* The header said one size, the data another: believe neither. */
        if (check_pixels(s, index, (uint64_t) pixGetWidth(pix), (uint64_t) pixGetHeight(pix), e) < 0) {
                pixDestroy(&pix);
                return -1;
        }
        grey = pixConvertTo8(pix, 0);
        if (grey && pixGetXRes(grey) <= 0)
                pixSetResolution(grey, pixGetXRes(pix), pixGetYRes(pix));
        pixDestroy(&pix);
        if (!grey)
                return ocr_fail(e, EX_DATAERR, "page %u: the %s image has no grey form", index + 1,
                                scan_format_to_string(s->format));
        *ret_pix = grey;
        return 0;
}

int ocr_source_page(struct ocr_source *s, unsigned index, char **ret_text, PIX **ret_pix, struct ocr_error *e) {
        *ret_text = NULL;
        *ret_pix = NULL;
        if (index >= s->n_pages)
                return ocr_fail(e, EX_SOFTWARE, "page %u: out of range", index + 1);
        return s->format == SCAN_PDF ? pdf_page(s, index, ret_text, ret_pix, e)
                                     : image_page(s, index, ret_pix, e);
}

void ocr_source_free(struct ocr_source *s) {
        if (!s)
                return;
        if (s->pdf)
                g_object_unref(s->pdf);
        if (s->bytes)
                g_bytes_unref(s->bytes);
        free(s->data);
        free(s);
}
