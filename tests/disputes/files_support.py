"""Files as a debtor's phone or scanner makes them: a photo with its location and camera in it, a PDF."""

from __future__ import annotations

import io

from fpdf import FPDF
from PIL import Image

GPS_IFD = 0x8825
MAKE = 0x010F


def photo_with_location(width: int = 64, height: int = 48) -> bytes:
    image = Image.new("RGB", (width, height), (200, 120, 40))
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (52.0, 22.0, 0.0), 3: "E", 4: (4.0, 53.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def small_pdf(text: str = "Meter reading 12345") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())
