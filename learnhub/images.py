"""Photos: scaling an uploaded image down to a size limit. The only module that imports Pillow."""

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

#: The longest side a scaled photo keeps at most (sharp on a full-HD screen and on A4 paper).
MAX_SIDE = 2560
#: Images with more pixels than this are not decoded (a small file can claim a huge picture).
MAX_PIXELS = 60_000_000


def _opened(data: bytes) -> Image.Image | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                return None
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced scale
            image = ImageOps.exif_transpose(image)  # phones store the rotation separately
            image.load()
            return image
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    except Image.DecompressionBombWarning:
        return None


def shrink(data: bytes, limit: int) -> tuple[bytes, str] | None:
    """*data* re-encoded under *limit* bytes, with its MIME type: scaled down, the orientation
    applied, metadata (GPS position, camera) dropped; JPEG, or PNG when it has transparency (an
    animated GIF keeps its first frame). None when *data* cannot be read as an image."""
    image = _opened(data)
    if image is None:
        return None
    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA" if transparent else "RGB")
    kind, mime = ("PNG", "image/png") if transparent else ("JPEG", "image/jpeg")
    side = min(MAX_SIDE, max(image.size))
    while side >= 64:
        copy = image.copy()
        copy.thumbnail((side, side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        copy.save(out, kind, **({"optimize": True} if transparent else {"quality": 85}))
        if out.tell() <= limit:
            return out.getvalue(), mime
        side = side * 3 // 4
    return None
