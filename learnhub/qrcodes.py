"""QR codes: the one home of the QR encoders.

Pages show QR codes as inline SVG made by segno (the attendance projector, two-factor set-up);
a certificate prints its QR code as a PNG made by zxing-cpp. The certificate's code holds the
verification URL and the signed claims, about 500 characters: a version-17 symbol of 85×85
modules, which segno (pure Python) encodes in 8–15 ms even with a fixed mask, a sixth of a
certificate's render; zxing-cpp (C++) encodes and rasterises it in about 1 ms with a fixed mask
(QR_MASK), 3 ms when it tries all eight (bench B2).
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

#: The certificate's QR mask pattern. Any of the eight is a valid symbol that every reader
#: decodes; an encoder that scores all eight to pick the one with the fewest look-alike patterns
#: spent 1.9 of zxing-cpp's 2.4 ms on it. The signed token is base64 text, so after any mask the
#: data area looks random and the scores differ little: over 200 random tokens of a real
#: certificate's length zxing-cpp itself picked pattern 2 for half of them, so 2 it is.
QR_MASK = 2


def svg(text: str, **options) -> Markup:
    """*text* as an inline SVG QR code (error correction M); *options* go to segno's
    svg_inline (scale, omitsize, colours). The SVG holds segno's paths only, no text."""
    return Markup(segno.make(text, error="m").svg_inline(**options))  # noqa: S704  # nosec B704


def png(text: str) -> bytes:
    """*text* as an 8-bit greyscale PNG QR code (error correction M, mask QR_MASK, the standard
    quiet zone of four modules, PNG_SCALE pixels a module). 8-bit grey because WeasyPrint puts
    such a PNG's pixels into the PDF as they are, where a 1-bit PNG is converted to RGB first;
    zlib level 1 because WeasyPrint compresses the pixels again whatever level this one has."""
    from PIL import Image

    code = zxingcpp.create_barcode(
        text, zxingcpp.BarcodeFormat.QRCode, ec_level="M", data_mask=QR_MASK
    )
    pixels = memoryview(code.to_image(scale=PNG_SCALE, add_quiet_zones=True))
    height, width = pixels.shape
    image = Image.frombuffer("L", (width, height), pixels.tobytes(), "raw", "L", 0, 1)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def png_data_uri(text: str) -> str:
    return "data:image/png;base64," + base64.b64encode(png(text)).decode("ascii")
