"""Check and prepare speaker photos: limits before decoding, EXIF removed, fixed sizes.

An upload is refused before Pillow decodes it when it is too large, does not start
like a JPEG, PNG or WebP file, or declares more pixels than ``MAX_PIXELS`` (a
"decompression bomb": a small file that expands to gigabytes in memory). Accepted
photos are re-encoded from their pixels only, so EXIF data (GPS position, camera
serial numbers) never reaches the site.
"""

import io
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from PIL import Image, ImageOps

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
PHOTO_SIZE = 800
THUMBNAIL_SIZE = 256
SIGNATURES = {
    "JPEG": (b"\xff\xd8\xff",),
    "PNG": (b"\x89PNG\r\n\x1a\n",),
    "WEBP": (b"RIFF",),
}
INVALID = "Upload a photo as a JPEG, PNG or WebP image."


@dataclass(frozen=True)
class ProcessedPhoto:
    photo: ContentFile
    thumbnail: ContentFile


def detect_format(head):
    """Return the image format that the first bytes of a file announce, or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    for name, signatures in SIGNATURES.items():
        if name != "WEBP" and head.startswith(signatures):
            return name
    return None


def too_large():
    """Return the error for a file over MAX_UPLOAD_BYTES."""
    megabytes = MAX_UPLOAD_BYTES // (1024 * 1024)
    return ValidationError(
        f"This file is too large; upload a photo of at most {megabytes} MB.", code="too_large"
    )


class SizeLimitUploadHandler(FileUploadHandler):
    """Stop receiving an uploaded file as soon as it passes MAX_UPLOAD_BYTES.

    Put first in ``request.upload_handlers`` before the body is read; the names of the
    fields whose files were dropped are in ``too_large``.
    """

    def __init__(self, request=None):
        super().__init__(request)
        self.too_large = set()

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > MAX_UPLOAD_BYTES:
            self.too_large.add(self.field_name)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


def check_upload(upload):
    """Refuse a file that is too large or is not a JPEG, PNG or WebP image, without decoding it."""
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise too_large()
    upload.seek(0)
    head = upload.read(12)
    upload.seek(0)
    if detect_format(head) is None:
        raise ValidationError(INVALID, code="invalid_type")


def open_image(upload):
    """Open ``upload`` with Pillow after checking its declared size; return the loaded image."""
    check_upload(upload)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)
            if image.format not in SIGNATURES:
                raise ValidationError(INVALID, code="invalid_type")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ValidationError(
                    "This image has too many pixels; upload a photo of at most 40 megapixels.",
                    code="too_many_pixels",
                )
            image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            "This image has too many pixels; upload a photo of at most 40 megapixels.",
            code="too_many_pixels",
        ) from None
    except Exception:  # Pillow raises many types for broken files
        raise ValidationError(
            f"This file could not be read as an image. {INVALID}", code="invalid_image"
        ) from None
    finally:
        upload.seek(0)
    return image


def to_rgb(image):
    """Return ``image`` upright and in RGB, transparent parts on white."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def encode_jpeg(image):
    """Return JPEG bytes of ``image`` carrying no metadata."""
    buffer = io.BytesIO()
    # Without an exif argument Pillow writes no EXIF; icc_profile is dropped too.
    image.save(buffer, format="JPEG", quality=85, optimize=True)
    return buffer.getvalue()


def process_photo(upload, *, name):
    """Return a resized photo and a square thumbnail of ``upload`` as JPEG files called ``name``."""
    image = to_rgb(open_image(upload))
    photo = image.copy()
    photo.thumbnail((PHOTO_SIZE, PHOTO_SIZE), Image.Resampling.LANCZOS)
    thumbnail = ImageOps.fit(image, (THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    return ProcessedPhoto(
        photo=ContentFile(encode_jpeg(photo), name=f"{name}.jpg"),
        thumbnail=ContentFile(encode_jpeg(thumbnail), name=f"{name}-thumb.jpg"),
    )
