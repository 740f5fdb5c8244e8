"""Check and prepare speaker photos: limits before decoding, EXIF removed, fixed sizes.

An upload is refused before Pillow decodes it when it is too large, does not start
like a JPEG, PNG or WebP file, or declares more pixels than it may (a "decompression
bomb": a small file that expands to gigabytes in memory). Accepted photos are
re-encoded from their pixels only, so EXIF data (GPS position, camera serial numbers)
never reaches the site.

Memory: no upload may make a worker use more than about 100 MB. A baseline JPEG is
decoded at 1/2, 1/4 or 1/8 of its size (JPEG draft mode), so it may declare up to
``MAX_PIXELS``; whatever is decoded in full (PNG, WebP, a progressive JPEG, whose decoder
holds every coefficient of the image, and a JPEG after draft mode) is limited per format by
``MAX_DECODED_PIXELS``. The decoded image is shrunk by a whole factor at once, before the
copies that straightening and converting make.
"""

import base64
import io
import warnings
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from PIL import Image, ImageOps

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
# Measured (tests/speakers/test_photo_memory.py): up to about 9 bytes a pixel decoded in full,
# WebP about 16 (libwebp decodes into a buffer of its own that Pillow then copies).
MAX_DECODED_PIXELS = {"JPEG": 10_000_000, "PNG": 8_000_000, "WEBP": 5_000_000}
# Modes that Image.reduce averages correctly; others (palettes, bits, 16-bit) are converted first.
REDUCIBLE_MODES = {"L", "LA", "RGB", "RGBA", "CMYK"}
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


def too_many_pixels(limit=MAX_PIXELS):
    return ValidationError(
        f"This image has too many pixels; upload a photo of at most {limit // 1_000_000} "
        "megapixels.",
        code="too_many_pixels",
    )


def check_pixels(size, limit):
    width, height = size
    if width * height > limit:
        raise too_many_pixels(limit)


def decode_within_limits(image):
    """Load ``image``'s pixels, at a reduced scale where JPEG allows it, within the limits."""
    decoded_limit = MAX_DECODED_PIXELS[image.format]
    check_pixels(image.size, MAX_PIXELS)
    if image.format == "JPEG":
        if image.info.get("progressive"):
            check_pixels(image.size, decoded_limit)
        # Decodes at the smallest scale that still covers the photo's size.
        image.draft(image.mode, (PHOTO_SIZE, PHOTO_SIZE))
    check_pixels(image.size, decoded_limit)
    image.load()


def open_image(upload):
    """Open ``upload`` with Pillow after checking its declared size; return the loaded image."""
    check_upload(upload)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)
            if image.format not in SIGNATURES:
                raise ValidationError(INVALID, code="invalid_type")
            decode_within_limits(image)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels() from None
    except Exception:  # Pillow raises many types for broken files
        raise ValidationError(
            f"This file could not be read as an image. {INVALID}", code="invalid_image"
        ) from None
    finally:
        upload.seek(0)
    return image


def working_copy(image):
    """Return ``image`` shrunk by a whole factor, its shorter side still PHOTO_SIZE or more.

    ``reduce`` averages blocks of pixels into an image a quarter of the original or smaller;
    the caller lets the original go.
    """
    if image.mode not in REDUCIBLE_MODES:
        image = to_rgb(image)
    factor = min(image.width, image.height) // PHOTO_SIZE
    return image.reduce(factor) if factor > 1 else image


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
    image = to_rgb(working_copy(open_image(upload)))
    photo = image.copy()
    photo.thumbnail((PHOTO_SIZE, PHOTO_SIZE), Image.Resampling.LANCZOS)
    thumbnail = ImageOps.fit(image, (THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    return ProcessedPhoto(
        photo=ContentFile(encode_jpeg(photo), name=f"{name}.jpg"),
        thumbnail=ContentFile(encode_jpeg(thumbnail), name=f"{name}-thumb.jpg"),
    )


# A photo chosen before a preview is carried to the save in the form, signed, for this long.
KEPT_PHOTO_SECONDS = 60 * 60
KEPT_PHOTO_EXPIRED = "The photo chosen before the preview has expired; please choose it again."


def _salt(speaker):
    # Bound to the profile: a kept photo cannot be posted to another speaker's form.
    return f"speakers.kept-photo.{speaker.pk}"


def _contents(file):
    file.seek(0)
    data = file.read()
    file.seek(0)
    return data


def keep(processed, *, speaker):
    """Return a signed text carrying ``processed`` (already checked and re-encoded) to the save.

    A browser cannot keep a chosen file across a preview, so the preview page returns the
    processed photo in a hidden field; the signature makes it the photo this site made.
    """
    value = {
        "name": processed.photo.name,
        "photo": base64.b64encode(_contents(processed.photo)).decode("ascii"),
        "thumbnail": base64.b64encode(_contents(processed.thumbnail)).decode("ascii"),
    }
    return signing.dumps(value, salt=_salt(speaker), compress=True)


def kept(text, *, speaker):
    """Return the ProcessedPhoto carried by ``text`` (see ``keep``); ValidationError if spoilt."""
    try:
        value = signing.loads(text, salt=_salt(speaker), max_age=KEPT_PHOTO_SECONDS)
        name = value["name"]
        photo = base64.b64decode(value["photo"], validate=True)
        thumbnail = base64.b64decode(value["thumbnail"], validate=True)
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise ValidationError(KEPT_PHOTO_EXPIRED, code="kept_photo") from error
    return ProcessedPhoto(
        photo=ContentFile(photo, name=name),
        thumbnail=ContentFile(thumbnail, name=name.removesuffix(".jpg") + "-thumb.jpg"),
    )


def data_url(file):
    """Return ``file`` (a JPEG) as a data: address, to show a photo not stored yet."""
    return "data:image/jpeg;base64," + base64.b64encode(_contents(file)).decode("ascii")
