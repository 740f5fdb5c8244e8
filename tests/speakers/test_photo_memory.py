"""No photo under the upload limit makes a worker use more than 100 MB; bigger ones are refused.

Each image is processed in a fresh Python process that reports how much its peak resident
memory grew (``resource.getrusage``: Pillow allocates outside Python, so tracemalloc would not
see it). The images are made in another process, so that making them counts for nothing.
"""

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from speakers import photos

ROOT = Path(__file__).resolve().parents[2]
BUDGET_MB = 100

# name: (format, mode, size, save options); each at or just under its format's limit.
ACCEPTED = {
    "baseline-40mp.jpg": ("JPEG", "RGB", (8000, 5000), {"quality": 50}),
    "progressive-10mp.jpg": (
        "JPEG",
        "RGB",
        (3162, 3162),
        {"progressive": True, "subsampling": 0, "quality": 50},
    ),
    "progressive-cmyk-10mp.jpg": (
        "JPEG",
        "CMYK",
        (3162, 3162),
        {"progressive": True, "subsampling": 0, "quality": 50},
    ),
    "rgba-8mp.png": ("PNG", "RGBA", (2828, 2828), {}),
    "palette-8mp.png": ("PNG", "P", (2828, 2828), {"transparency": 3}),
    "gray16-8mp.png": ("PNG", "I;16", (2828, 2828), {}),
    "bits-8mp.png": ("PNG", "1", (2828, 2828), {}),
    "rgba-5mp.webp": ("WEBP", "RGBA", (2236, 2236), {"lossless": True}),
}

MAKE = """
import sys
from PIL import Image
folder, name, fmt, mode, width, height, options = sys.argv[1:8]
color = {"RGB": (200, 120, 40), "RGBA": (200, 120, 40, 100), "CMYK": (20, 120, 40, 10)}
image = Image.new(mode, (int(width), int(height)), color.get(mode, 3))
image.save(f"{folder}/{name}", format=fmt, **eval(options))
"""

MEASURE = """
import resource, sys
from django.core.files import File
import PIL.JpegImagePlugin, PIL.PngImagePlugin, PIL.WebPImagePlugin
from speakers import photos

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

before = peak_mb()
with open(sys.argv[1], "rb") as upload:
    processed = photos.process_photo(File(upload, name="photo"), name="photo")
print(peak_mb() - before, len(processed.photo.read()) > 0)
"""


def run(script, *args):
    result = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for name, (fmt, mode, (width, height), options) in ACCEPTED.items():
        run(MAKE, folder, name, fmt, mode, width, height, repr(options))
    return folder


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_photo_within_limits_uses_under_100_mb(images, name):
    assert (images / name).stat().st_size < photos.MAX_UPLOAD_BYTES

    grown_mb, stored = run(MEASURE, images / name).split()

    assert stored == "True"
    assert int(grown_mb) < BUDGET_MB


def png_declaring(width, height, mode_byte=2):
    """Return a valid PNG of one colour whose pixels are compressed row by row (little memory)."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, mode_byte, 0, 0, 0)
    compressor, row = zlib.compressobj(9), b"\x00" + b"\x00" * (width * 3)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def refusal(content, name="photo.png"):
    with pytest.raises(ValidationError) as error:
        photos.process_photo(SimpleUploadedFile(name, content), name="photo")
    return error.value.messages


def saved(mode, size, fmt, **options):
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def test_small_png_declaring_100_megapixels_is_refused_unread():
    bomb = png_declaring(10_000, 10_000)
    assert len(bomb) < 500_000

    assert refusal(bomb) == [
        "This image has too many pixels; upload a photo of at most 40 megapixels."
    ]


def test_png_over_8_megapixels_is_refused():
    assert refusal(png_declaring(3000, 3000)) == [
        "This image has too many pixels; upload a photo of at most 8 megapixels."
    ]


def test_progressive_jpeg_over_10_megapixels_is_refused():
    content = saved("L", (3500, 3000), "JPEG", progressive=True)

    assert refusal(content, "p.jpg") == [
        "This image has too many pixels; upload a photo of at most 10 megapixels."
    ]


def test_webp_over_5_megapixels_is_refused():
    content = saved("RGB", (2500, 2100), "WEBP")

    assert refusal(content, "p.webp") == [
        "This image has too many pixels; upload a photo of at most 5 megapixels."
    ]


def test_long_thin_jpeg_that_draft_mode_cannot_shrink_is_refused():
    # 30000 x 700: no smaller scale keeps 800 pixels on each side, so it would be decoded whole.
    content = saved("L", (30_000, 700), "JPEG")

    assert refusal(content, "p.jpg") == [
        "This image has too many pixels; upload a photo of at most 10 megapixels."
    ]


def test_large_baseline_jpeg_becomes_the_photo_and_thumbnail(images):
    with open(images / "baseline-40mp.jpg", "rb") as upload:
        processed = photos.process_photo(SimpleUploadedFile("p.jpg", upload.read()), name="ada")

    photo = Image.open(processed.photo)
    thumbnail = Image.open(processed.thumbnail)
    assert (photo.size, thumbnail.size) == ((800, 500), (256, 256))
