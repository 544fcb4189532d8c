"""What a debtor attaches to a dispute: only real PDFs, JPEGs and PNGs, photos without their metadata."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from flask import Flask
from fpdf import FPDF
from PIL import Image, PngImagePlugin

from portal.disputes.uploads import (
    MAX_FILE_BYTES,
    MAX_FILES,
    CheckedUpload,
    UploadProblem,
    check_upload,
    check_uploads,
    download_response,
    safe_filename,
)
from portal.errors import message_for
from portal.i18n import force_locale

GPS_IFD = 0x8825
MAKE = 0x010F
ORIENTATION = 0x0112


def _pdf(text: str = "Invoice 2026-0042 is not mine") -> bytes:
    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(text=text)
    return bytes(document.output())


def _photo_with_location(orientation: int = 1) -> bytes:
    """A phone photo: 40 x 20, left half red, right half blue, with GPS and camera make in its EXIF."""
    image = Image.new("RGB", (40, 20), "blue")
    image.paste("red", (0, 0, 20, 20))
    exif = Image.Exif()
    exif[MAKE] = "Acme Phone"
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 22.0, 12.0), 3: "E", 4: (4.0, 53.0, 30.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=95)
    return out.getvalue()


def _png(**save: object) -> bytes:
    image = Image.new("RGBA", (10, 10), (0, 128, 0, 0))
    image.paste((0, 128, 0, 255), (0, 0, 5, 10))
    out = io.BytesIO()
    image.save(out, format="PNG", **save)
    return out.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes that claim a huge greyscale image: decoding it would take gigabytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", pixels) + _png_chunk(b"IEND", b"")


def _reopened(upload: CheckedUpload) -> Image.Image:
    image = Image.open(io.BytesIO(upload.data))
    image.load()
    return image


# ------------------------------------------------------------------ photos lose their metadata


def test_a_photo_is_kept_without_its_location_or_camera() -> None:
    original = _photo_with_location()
    assert b"Acme Phone" in original

    upload = check_upload("IMG_0001.JPG", original)

    assert upload.content_type == "image/jpeg"
    assert upload.filename == "IMG_0001.jpg"
    assert b"Acme Phone" not in upload.data
    image = _reopened(upload)
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert not image.getexif().get_ifd(GPS_IFD)
    assert not {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp"} & set(image.info)
    assert image.size == (40, 20)
    assert image.getpixel((5, 10))[0] > 200  # still red on the left


def test_a_sideways_photo_is_turned_upright() -> None:
    # Orientation 6: the camera was turned; viewers rotate the stored pixels 90 degrees clockwise.
    upload = check_upload("sideways.jpg", _photo_with_location(orientation=6))

    image = _reopened(upload)
    assert image.size == (20, 40)
    red, _, blue = image.getpixel((10, 5))
    assert red > 200 and blue < 60  # red is on top now, as the debtor saw it on their phone
    assert ORIENTATION not in image.getexif()


def test_a_png_loses_its_text_but_keeps_its_transparency() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "home address: Dorpsstraat 1")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPS</x:xmpmeta>")
    original = _png(pnginfo=info)
    assert b"Dorpsstraat" in original

    upload = check_upload("screenshot.png", original)

    assert upload.content_type == "image/png"
    assert b"Dorpsstraat" not in upload.data and b"xmpmeta" not in upload.data
    assert b"tEXt" not in upload.data and b"iTXt" not in upload.data
    image = _reopened(upload)
    assert image.getpixel((8, 5))[3] == 0  # transparent stays transparent
    assert image.getpixel((2, 5)) == (0, 128, 0, 255)


def test_a_png_sent_under_a_pdf_name_is_kept_as_a_png() -> None:
    upload = check_upload("scan.pdf", _png())
    assert upload.content_type == "image/png"
    assert upload.filename == "scan.pdf.png"


# ------------------------------------------------------------------ PDFs are read, and kept as they are


def test_a_real_pdf_is_kept_byte_for_byte() -> None:
    original = _pdf()
    upload = check_upload("Factuur maart.pdf", original)
    assert upload == CheckedUpload(filename="Factuur maart.pdf", content_type="application/pdf", data=original)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("letter.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
        ("photo.jpg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("photo.jpg", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        ("invoice.pdf", b"PK\x03\x04" + b"\x00" * 100),
        ("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 100),  # a program renamed .pdf
        ("invoice.pdf", bytes(range(256)) * 4),
        ("invoice.pdf", b"<html>" + b"%PDF-1.4"),  # a PDF further in does not count
    ],
)
def test_anything_but_pdf_jpeg_or_png_is_refused_whatever_its_name(name: str, data: bytes) -> None:
    with pytest.raises(UploadProblem) as refused:
        check_upload(name, data)
    assert refused.value.code == "not_allowed"


@pytest.mark.parametrize("made", [_pdf, _photo_with_location, _png])
def test_a_truncated_file_is_refused_as_unreadable(made) -> None:
    data = made()
    with pytest.raises(UploadProblem) as refused:
        check_upload("cut.bin", data[: len(data) // 2])
    assert refused.value.code == "unreadable"


def test_a_password_protected_pdf_is_refused_as_unreadable() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf())))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(UploadProblem) as refused:
        check_upload("locked.pdf", out.getvalue())
    assert refused.value.code == "unreadable"


def test_a_file_over_5_mb_is_refused_and_one_of_exactly_5_mb_is_not() -> None:
    padded = _pdf()
    exactly = padded + b"\n" * (MAX_FILE_BYTES - len(padded))
    assert check_upload("big.pdf", exactly).data == exactly

    with pytest.raises(UploadProblem) as refused:
        check_upload("big.pdf", exactly + b"\n")
    assert refused.value.code == "too_large"
    assert refused.value.details == {"filename": "big.pdf", "limit": "5 MB"}


@pytest.mark.parametrize(("width", "height"), [(8_000, 8_000), (30_000, 30_000)])
def test_a_tiny_png_claiming_a_huge_image_is_refused(width: int, height: int) -> None:
    # 64 megapixels passes Pillow's own limit but not ours; 900 megapixels trips Pillow's bomb check too.
    bomb = _png_claiming(width, height)
    assert len(bomb) < 50_000
    with pytest.raises(UploadProblem) as refused:
        check_upload("bomb.png", bomb)
    assert refused.value.code == "too_large"


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(UploadProblem) as refused:
        check_upload("empty.pdf", b"")
    assert refused.value.code == "empty"
    assert refused.value.details == {"filename": "empty.pdf"}


# ------------------------------------------------------------------ several files at once


def test_up_to_three_files_are_checked_together() -> None:
    checked = check_uploads([("a.pdf", _pdf()), ("b.png", _png()), ("", b"")], already=1)
    assert [upload.filename for upload in checked] == ["a.pdf", "b.png"]


def test_more_than_three_files_are_refused() -> None:
    assert MAX_FILES == 3
    with pytest.raises(UploadProblem) as refused:
        check_uploads([(f"{n}.pdf", _pdf()) for n in range(4)])
    assert refused.value.code == "too_many"

    with pytest.raises(UploadProblem) as refused:
        check_uploads([("a.pdf", _pdf()), ("b.pdf", _pdf())], already=2)
    assert refused.value.code == "too_many"


def test_one_refused_file_refuses_the_whole_upload() -> None:
    with pytest.raises(UploadProblem) as refused:
        check_uploads([("a.pdf", _pdf()), ("b.html", b"<html></html>")])
    assert refused.value.details["filename"] == "b.html"


# ------------------------------------------------------------------ messages a person reads


@pytest.mark.parametrize("language", ["en", "nl"])
def test_each_refusal_reads_as_a_sentence_with_the_files_name(app: Flask, language: str) -> None:
    problems = [
        UploadProblem("too_large", filename="scan.pdf", limit="5 MB"),
        UploadProblem("not_allowed", filename="scan.pdf"),
        UploadProblem("empty", filename="scan.pdf"),
        UploadProblem("unreadable", filename="scan.pdf"),
    ]
    with app.test_request_context(), force_locale(language):
        messages = [message_for(problem) for problem in problems]
        too_many = [message_for(UploadProblem("too_many", limit=3, remaining=left)) for left in (3, 1, 2, 0)]
    for message in messages:
        assert "scan.pdf" in message and "%(" not in message
    assert "5 MB" in messages[0]
    assert all("%(" not in message and message.endswith(".") for message in too_many)
    assert "3" in too_many[0] and "1" in too_many[1] and "2" in too_many[2]
    if language == "en":
        assert "only PDF, JPEG or PNG" in messages[1]
        assert "damaged or cannot be read" in messages[3]


def test_the_message_never_repeats_a_hidden_character_of_the_name(app: Flask) -> None:
    with pytest.raises(UploadProblem) as refused:
        check_upload("photo\u202egpj.exe", b"MZ")
    with app.test_request_context(), force_locale("en"):
        message = message_for(refused.value)
    assert "\u202e" not in message and "photogpj.exe" in message


# ------------------------------------------------------------------ names


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ("C:\\Users\\x\\photo.jpg", "image/jpeg", "photo.jpg"),
        ("holiday.JPEG", "image/jpeg", "holiday.jpeg"),
        ("a\u202egpj.exe", "image/jpeg", "agpj.exe.jpg"),
        ("in\u200fvo\u2066ice\u200b.pdf", "application/pdf", "invoice.pdf"),
        ("bad\x00na\x1bme\n\t.pdf", "application/pdf", "badname.pdf"),  # no space left before the extension
        ('what "is" <this>?.pdf', "application/pdf", "what _is_ _this__.pdf"),
        ("invoice.pdf.exe", "application/pdf", "invoice.pdf.exe.pdf"),
        ("Réclamation – été.pdf", "application/pdf", "Réclamation _ été.pdf"),
        ("e\u0301te\u0301.png", "image/png", "été.png"),
        ("", "application/pdf", "attachment.pdf"),
        ("....", "image/png", "attachment.png"),
        ("  . . ", "image/png", "attachment.png"),
        (".bashrc", "application/pdf", "bashrc.pdf"),
    ],
)
def test_a_filename_is_made_safe_and_ends_in_its_real_type(raw: str, content_type: str, expected: str) -> None:
    assert safe_filename(raw, content_type) == expected
    assert safe_filename(expected, content_type) == expected


def test_a_long_filename_is_cut_to_80_characters_keeping_its_extension() -> None:
    name = safe_filename("x" * 300 + ".pdf", "application/pdf")
    assert len(name) == 80 and name.endswith("x.pdf")
    assert safe_filename("y" * 300, "image/png") == "y" * 76 + ".png"


# ------------------------------------------------------------------ downloads


def test_a_download_is_always_an_attachment_that_no_browser_runs(app: Flask) -> None:
    with app.test_request_context():
        response = app.process_response(download_response(b"%PDF-1.4 ...", "Factuur été.pdf", "application/pdf"))
        response.direct_passthrough = False
        body = response.get_data()

    assert body == b"%PDF-1.4 ..."
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="Factuur ete.pdf"' in disposition
    assert "filename*=UTF-8''Factuur%20%C3%A9t%C3%A9.pdf" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("asked", ["text/html", "image/svg+xml", "text/html; charset=utf-8", ""])
def test_a_download_is_never_html_even_when_asked(app: Flask, asked: str) -> None:
    with app.test_request_context():
        response = download_response(b"<html><script>alert(1)</script>", "page.html", asked)
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "page.html" in response.headers["Content-Disposition"]


def test_a_downloads_name_is_made_safe_again(app: Flask) -> None:
    with app.test_request_context():
        response = download_response(b"\x89PNG", '../evil"\r\nSet-Cookie: x.exe', "image/png")
    disposition = response.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition
    assert disposition.endswith('.png"') or disposition.endswith(".png")
