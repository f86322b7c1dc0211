"""QR codes: the one home of the QR encoders.

Pages show QR codes as inline SVG made by segno (the attendance projector, two-factor set-up);
a certificate prints its QR code as a PNG made by zxing-cpp. The certificate's code holds the
verification URL and the signed claims, about 500 characters: a version-17 symbol of 85×85
modules, which segno (pure Python) encodes in 8–15 ms even with a fixed mask, a sixth of a
certificate's render; zxing-cpp (C++) encodes and rasterises it in about 4 ms (bench B2).
"""

import base64
import io

import segno
import zxingcpp
from markupsafe import Markup

#: Pixels per module of the certificate's QR image, drawn without interpolation (the template's
#: image-rendering: pixelated). WeasyPrint decodes the PNG and compresses its pixels again for
#: the PDF on every render, so fewer pixels cost less; but at one pixel a module the page
#: rasterised at 200 dpi (pdftoppm) no longer decoded (zbarimg), so two.
PNG_SCALE = 2


def svg(text: str, **options) -> Markup:
    """*text* as an inline SVG QR code (error correction M); *options* go to segno's
    svg_inline (scale, omitsize, colours). The SVG holds segno's paths only, no text."""
    return Markup(segno.make(text, error="m").svg_inline(**options))  # noqa: S704  # nosec B704


def png(text: str) -> bytes:
    """*text* as an 8-bit greyscale PNG QR code (error correction M, the standard quiet zone of
    four modules, PNG_SCALE pixels a module). 8-bit grey because WeasyPrint puts such a PNG's
    pixels into the PDF as they are, where a 1-bit PNG is converted to RGB first; zlib level 1
    because WeasyPrint compresses the pixels again whatever level this one has."""
    from PIL import Image

    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    pixels = memoryview(code.to_image(scale=PNG_SCALE, add_quiet_zones=True))
    height, width = pixels.shape
    image = Image.frombuffer("L", (width, height), pixels.tobytes(), "raw", "L", 0, 1)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def png_data_uri(text: str) -> str:
    return "data:image/png;base64," + base64.b64encode(png(text)).decode("ascii")
