"""What a debtor may attach to a dispute, judged by what a file holds, never by its name or declared type.

Anyone with a link can upload, so every file is treated as hostile: a PDF must open as a PDF (and is kept
byte for byte), a photo is decoded and drawn again into a new file, which leaves behind everything but the
pixels: the location, the camera and anything hidden after the image. Whatever else arrives is refused.
Files are only ever handed out as downloads (:func:`download_response`), never shown in the portal's pages.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from flask import Response, send_file
from PIL import Image, ImageOps

from portal.errors import DomainError, Message
from portal.i18n import _, _l, _n

MAX_FILES = 3
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILE_SIZE_TEXT = "5 MB"
# A photo of 50 megapixels is larger than phones take; decoding one already takes 150-200 MB of memory. A
# small file claiming more pixels (a "decompression bomb") is refused before it is decoded.
MAX_IMAGE_PIXELS = 50_000_000
JPEG_QUALITY = 88

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
_ALSO_ACCEPTED_EXTENSIONS = {JPEG: (".jpeg",)}
MAX_FILENAME_LENGTH = 80
_FALLBACK_STEM = "attachment"
# Letters and digits of every script (with their accents), space and . - _ ( ); anything else becomes "_".
_KEPT_PUNCTUATION = frozenset(" .-_()")
# Control, format (U+202E RIGHT-TO-LEFT OVERRIDE, bidi isolates, zero-width), surrogate, private-use and
# unassigned characters are dropped: they are invisible, or make "photo\u202egpj.exe" read as "photoexe.jpg".
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_PATH_SEPARATORS = re.compile(r"[/\\]")


def _too_many(details: Mapping[str, Any]) -> str:
    limit = details["limit"]
    remaining = details.get("remaining", limit)
    if remaining >= limit:
        return _("You can add at most %(limit)s files. Choose fewer files and try again.", limit=limit)
    if remaining <= 0:
        return _(
            "You have already added %(limit)s files, the most we can take. Describe anything else in your message.",
            limit=limit,
        )
    return _n(
        "You can add %(num)s more file. Choose fewer files and try again.",
        "You can add %(num)s more files. Choose fewer files and try again.",
        remaining,
    )


class UploadProblem(DomainError):
    """A file a debtor chose that we do not keep; nothing of the upload is stored."""

    area = "dispute_file"
    messages: ClassVar[Mapping[str, Message]] = {
        "too_large": _l(
            "%(filename)s is too large: a file can be at most %(limit)s. Send a smaller file, for example a photo "
            "taken at a lower resolution."
        ),
        "not_allowed": _l(
            "%(filename)s cannot be added: we accept only PDF, JPEG or PNG files. Save it as a PDF or take a photo "
            "of it, and add that instead."
        ),
        "too_many": _too_many,
        "empty": _l("%(filename)s is empty. Choose the file again, or another copy of it."),
        "unreadable": _l(
            "%(filename)s is damaged or cannot be read. Open it on your device to check it, then save it again "
            "as a PDF, JPEG or PNG and add that."
        ),
    }


@dataclass(frozen=True)
class CheckedUpload:
    filename: str
    content_type: str
    data: bytes


def _clean_name(raw: str) -> str:
    """The name without folders, invisible characters or punctuation a file system or a reader trips on."""
    name = _PATH_SEPARATORS.split(raw or "")[-1]
    kept = []
    for character in unicodedata.normalize("NFC", name):
        category = unicodedata.category(character)
        if character.isspace():
            kept.append(" ")
        elif category in _DROPPED_CATEGORIES:
            continue
        elif category[0] in "LMN" or character in _KEPT_PUNCTUATION:
            kept.append(character)
        else:
            kept.append("_")
    return " ".join("".join(kept).split()).strip(". ")


def safe_filename(raw: str, content_type: str) -> str:
    """A name that is safe to show and to save a download under, ending in the extension of its real type.

    The extension always follows the checked content: a computer opens a download by its extension, so a
    real PDF named "invoice.pdf.exe" becomes "invoice.pdf.exe.pdf" and opens as the PDF it is, never as a
    program; the full name is kept so the debtor still recognises their file.
    """
    if content_type not in EXTENSIONS:
        raise ValueError(f"not a type we keep: {content_type!r}")
    extension = EXTENSIONS[content_type]
    name = _clean_name(raw)
    for accepted in (extension, *_ALSO_ACCEPTED_EXTENSIONS.get(content_type, ())):
        if name.lower().endswith(accepted):
            name, extension = name[: -len(accepted)], name[-len(accepted) :].lower()
            break
    stem = name[: MAX_FILENAME_LENGTH - len(extension)].rstrip(". ") or _FALLBACK_STEM
    return stem + extension


def _shown_name(raw: str) -> str:
    """The name as a message repeats it: cleaned the same way, without forcing an extension."""
    return _clean_name(raw)[:MAX_FILENAME_LENGTH] or _FALLBACK_STEM


def _sniff(data: bytes) -> str | None:
    # Only at the very start: a file that begins as something else (HTML) with a PDF further in is refused,
    # though some PDF readers would accept it.
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


def check_upload(filename: str, data: bytes) -> CheckedUpload:
    """The file as we keep it, or :class:`UploadProblem` (empty, too_large, not_allowed, unreadable)."""
    shown = _shown_name(filename)
    if not data:
        raise UploadProblem("empty", filename=shown)
    if len(data) > MAX_FILE_BYTES:
        raise UploadProblem("too_large", filename=shown, limit=MAX_FILE_SIZE_TEXT)
    content_type = _sniff(data)
    if content_type is None:
        raise UploadProblem("not_allowed", filename=shown)
    kept = _check_pdf(data, shown) if content_type == PDF else _redraw_image(data, content_type, shown)
    return CheckedUpload(filename=safe_filename(filename, content_type), content_type=content_type, data=kept)


def check_uploads(files: Sequence[tuple[str, bytes]], *, already: int = 0) -> list[CheckedUpload]:
    """Every chosen file checked before any is returned, so a caller stores all of them or none.

    ``already`` is the number of files the dispute has; an empty file input (no name, no bytes) is skipped.
    """
    chosen = [(name, data) for name, data in files if name or data]
    if already + len(chosen) > MAX_FILES:
        raise UploadProblem("too_many", limit=MAX_FILES, remaining=max(MAX_FILES - already, 0))
    return [check_upload(name, data) for name, data in chosen]


def _check_pdf(data: bytes, shown: str) -> bytes:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PdfReadWarning)
            reader = PdfReader(io.BytesIO(data), strict=False)
            # A password-protected PDF staff cannot open is of no use to them; one with an empty password
            # (only restricting printing or copying) opens.
            if reader.is_encrypted and not reader.decrypt(""):
                raise ValueError("encrypted")
            if len(reader.pages) == 0:
                raise ValueError("no pages")
    except Exception:  # a hostile file can make a parser fail in any way; each means we cannot read it
        raise UploadProblem("unreadable", filename=shown) from None
    # Kept as sent: a PDF is a document the debtor may have signed, and it is only ever downloaded.
    return data


def _redraw_image(data: bytes, content_type: str, shown: str) -> bytes:
    image_format = "JPEG" if content_type == JPEG else "PNG"
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns before it refuses; either way the file is too large to decode.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[image_format]) as probe:
                _refuse_huge(probe, shown)
                probe.verify()  # checks the structure (PNG checksums) without decoding the pixels
            with Image.open(io.BytesIO(data), formats=[image_format]) as image:
                _refuse_huge(image, shown)
                image.load()
                return _encode_without_metadata(image, image_format)
    except UploadProblem:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadProblem("too_large", filename=shown, limit=MAX_FILE_SIZE_TEXT) from None
    except Exception:  # a hostile file can make a decoder fail in any way; each means we cannot read it
        raise UploadProblem("unreadable", filename=shown) from None


def _refuse_huge(image: Image.Image, shown: str) -> None:
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise UploadProblem("too_large", filename=shown, limit=MAX_FILE_SIZE_TEXT)


def _encode_without_metadata(image: Image.Image, image_format: str) -> bytes:
    # Turn the picture upright as the camera recorded, since its orientation tag goes with the rest.
    upright = ImageOps.exif_transpose(image)
    if image_format == "JPEG":
        if upright.mode not in ("L", "RGB"):
            upright = upright.convert("RGB")  # CMYK and others: what every viewer shows the same way
    elif "transparency" in upright.info:
        upright = upright.convert("RGBA")  # transparency lives in the metadata dropped below; keep it as pixels
    # Pillow writes what .info holds (ICC profile, text chunks, XMP, EXIF) into the new file: empty it. Colours
    # from a wide-gamut profile look a little flatter; the content, which is what a dispute needs, stays.
    clean = upright.copy()
    clean.info = {}
    out = io.BytesIO()
    if image_format == "JPEG":
        clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, exif=b"")
    else:
        clean.save(out, format="PNG", optimize=True)
    return out.getvalue()


def download_response(data: bytes, filename: str, content_type: str) -> Response:
    """The file as a download, never shown in the browser, whatever it holds or claims to be.

    Only the three types we check are named (anything else goes out as octet-stream, so a browser never
    runs HTML or SVG from it); nosniff stops the browser guessing, and the sandbox policy disarms the file
    even if it is opened in a tab.
    """
    kind = content_type if content_type in EXTENSIONS else "application/octet-stream"
    name = safe_filename(filename, kind) if kind in EXTENSIONS else _shown_name(filename)
    # send_file writes Content-Disposition: attachment with an ASCII fallback and filename*=UTF-8''...
    response = send_file(
        io.BytesIO(data), mimetype=kind, as_attachment=True, download_name=name, etag=False, conditional=False
    )
    response.content_length = len(data)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # A debtor's documents: kept in no shared cache, and not on disk once the download is done.
    response.headers["Cache-Control"] = "private, no-store"
    return response
