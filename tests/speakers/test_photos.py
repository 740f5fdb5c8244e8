import io

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from speakers import photos
from tests.speakers.conftest import image_bytes, upload


def test_process_photo_resizes_and_makes_square_thumbnail():
    content = image_bytes(size=(1600, 1200))

    processed = photos.process_photo(upload(content), name="ada")

    photo = Image.open(io.BytesIO(processed.photo.read()))
    thumbnail = Image.open(io.BytesIO(processed.thumbnail.read()))
    assert (photo.format, photo.size) == ("JPEG", (800, 600))
    assert (thumbnail.format, thumbnail.size) == ("JPEG", (256, 256))
    assert (processed.photo.name, processed.thumbnail.name) == ("ada.jpg", "ada-thumb.jpg")


def test_process_photo_strips_exif_and_applies_orientation():
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90 degrees
    content = image_bytes(size=(60, 40), exif=exif)
    assert Image.open(io.BytesIO(content)).getexif()[0x010F] == "SecretCam"

    processed = photos.process_photo(upload(content), name="ada")

    photo = Image.open(io.BytesIO(processed.photo.read()))
    assert dict(photo.getexif()) == {}
    assert b"SecretCam" not in processed.photo.read()
    assert photo.size == (40, 60)


def test_process_photo_puts_transparent_png_on_white():
    content = image_bytes(fmt="PNG", mode="RGBA", color=(0, 0, 0, 0))

    processed = photos.process_photo(upload(content, "p.png", "image/png"), name="ada")

    photo = Image.open(io.BytesIO(processed.photo.read()))
    assert photo.mode == "RGB"
    assert photo.getpixel((5, 5)) == (255, 255, 255)


def test_process_photo_accepts_webp():
    content = image_bytes(fmt="WEBP")

    processed = photos.process_photo(upload(content, "p.webp", "image/webp"), name="ada")

    assert Image.open(io.BytesIO(processed.photo.read())).size == (60, 40)


def test_check_upload_refuses_oversized_file_before_decoding(monkeypatch):
    content = b"\xff\xd8\xff" + b"0" * (photos.MAX_UPLOAD_BYTES)
    monkeypatch.setattr(Image, "open", lambda *args: pytest.fail("decoded an oversized file"))

    with pytest.raises(ValidationError) as error:
        photos.open_image(upload(content))

    assert error.value.messages == ["This file is too large; upload a photo of at most 5 MB."]


@pytest.mark.parametrize(
    "content",
    [b"hello, not an image", image_bytes(fmt="GIF", mode="P", color=1), b"%PDF-1.7 ..."],
    ids=["text", "gif", "pdf"],
)
def test_check_upload_refuses_other_types(content):
    with pytest.raises(ValidationError) as error:
        photos.open_image(upload(content, "x.jpg"))

    assert error.value.messages == ["Upload a photo as a JPEG, PNG or WebP image."]


def test_open_image_refuses_broken_image_with_right_signature():
    content = b"\xff\xd8\xff\xe0" + b"garbage" * 20

    with pytest.raises(ValidationError) as error:
        photos.open_image(upload(content))

    assert error.value.messages == [
        "This file could not be read as an image. Upload a photo as a JPEG, PNG or WebP image."
    ]


def test_open_image_refuses_decompression_bomb_before_loading_pixels():
    # 8000 x 6000 one-bit pixels: a file of a few kilobytes that declares 48 megapixels.
    buffer = io.BytesIO()
    Image.new("1", (8000, 6000)).save(buffer, format="PNG")
    assert len(buffer.getvalue()) < 100_000

    with pytest.raises(ValidationError) as error:
        photos.open_image(upload(buffer.getvalue(), "bomb.png", "image/png"))

    assert error.value.messages == [
        "This image has too many pixels; upload a photo of at most 40 megapixels."
    ]


def test_open_image_turns_pillow_bomb_error_into_message(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    content = image_bytes(size=(60, 40))

    with pytest.raises(ValidationError) as error:
        photos.open_image(upload(content))

    assert error.value.messages == [
        "This image has too many pixels; upload a photo of at most 40 megapixels."
    ]
