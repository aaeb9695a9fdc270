# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile and minimal scan files, written byte by byte so that the tests
that use them need nothing but Python: a PNG of any size (its pixels
compressed as they are streamed, so a 20,000 × 20,000 image is 0.4 MB), a
PDF of any number of empty pages of any size."""

import struct
import zlib


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, grey=255, dpi=None):
    """An 8-bit grey PNG of one colour."""
    z = zlib.compressobj(9)
    row = b"\0" + bytes([grey]) * width
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    if dpi:
        ppm = round(dpi / 0.0254)
        out += _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))
    return out + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def pdf(pages, width_pt=595, height_pt=842):
    """A PDF of `pages` empty pages."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (3 + i) for i in range(pages)) +
            b"] /Count %d >>" % pages]
    objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] >>" % (width_pt, height_pt)] * pages
    return _pdf(objs)


def pdf_with_image(width, height, width_by_reference=False):
    """A one-page A4 PDF whose page is one white grey image of width ×
    height pixels (Flate, streamed: 20,000 × 20,000 is 0.4 MB). With
    width_by_reference, its /Width is an indirect object, as the PDF format
    allows: its size is then known only by decoding it."""
    z = zlib.compressobj(9)
    row = b"\xff" * width
    data = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    content = b"q 595 0 0 842 0 0 cm /Im0 Do Q"
    w = b"6 0 R" if width_by_reference else b"%d" % width
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im0 4 0 R >> >> "
            b"/Contents 5 0 R >>",
            b"<< /Type /XObject /Subtype /Image /Width " + w + b" /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n" % (height, len(data)) + data +
            b"\nendstream",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"%d" % width]
    return _pdf(objs)


def _pdf(objs):
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)
