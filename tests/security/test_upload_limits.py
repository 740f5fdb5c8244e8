"""Uploads over UPLOAD_MAX_BYTES are refused with 413 while they are received."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.test.client import encode_multipart
from PIL import Image

from speakers.models import Speaker
from tests.factories import SpeakerFactory, SupporterFactory
from workshop.uploads import UploadLimitMiddleware

pytestmark = pytest.mark.django_db

LIMIT = 64 * 1024


@pytest.fixture(autouse=True)
def small_limit(settings, tmp_path):
    settings.UPLOAD_MAX_BYTES = LIMIT
    settings.MEDIA_ROOT = tmp_path / "media"


def jpeg(padding=0):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (10, 120, 200)).save(buffer, format="JPEG")
    # Bytes after the end of a JPEG are ignored by decoders: a valid but large file.
    return buffer.getvalue() + b"\0" * padding


def speaker_form(speaker, photo):
    return {
        "name": speaker.name,
        "slug": speaker.slug,
        "published": "on",
        "affiliation": speaker.affiliation,
        "short_bio": speaker.short_bio,
        "bio": speaker.bio,
        "photo": SimpleUploadedFile("ada.jpg", photo, content_type="image/jpeg"),
        "invitations-TOTAL_FORMS": "0",
        "invitations-INITIAL_FORMS": "0",
        "revisions-TOTAL_FORMS": "0",
        "revisions-INITIAL_FORMS": "0",
    }


def test_admin_speaker_photo_over_limit_refused_413(organiser_client):
    speaker = SpeakerFactory(name="Ada", slug="ada", affiliation="Old Place")
    form = speaker_form(speaker, jpeg(padding=LIMIT))
    form["affiliation"] = "New Place"

    response = organiser_client.post(f"/admin/speakers/speaker/{speaker.pk}/change/", form)

    assert response.status_code == 413
    html = response.content.decode()
    assert "<h1>File too large</h1>" in html
    assert "Files of at most 0.0625 MB can be uploaded." in html
    speaker.refresh_from_db()
    assert (speaker.affiliation, speaker.photo.name) == ("Old Place", "")


def test_admin_speaker_photo_within_limit_saved(organiser_client):
    speaker = SpeakerFactory(name="Ada", slug="ada")

    response = organiser_client.post(
        f"/admin/speakers/speaker/{speaker.pk}/change/", speaker_form(speaker, jpeg())
    )

    assert response.status_code == 302
    assert Speaker.objects.get(pk=speaker.pk).photo.name.startswith("speakers/")


def test_admin_supporter_logo_over_limit_refused_413(organiser_client, workshop):
    supporter = SupporterFactory(workshop=workshop, name="Old name")
    logo = SimpleUploadedFile("logo.jpg", jpeg(padding=2 * LIMIT), content_type="image/jpeg")

    response = organiser_client.post(
        f"/admin/workshop/supporter/{supporter.pk}/change/",
        {"workshop": workshop.pk, "name": "New name", "logo": logo, "position": 0},
    )

    assert response.status_code == 413
    supporter.refresh_from_db()
    assert supporter.name == "Old name"


class CountingStream(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def multipart_request(file_size):
    body = encode_multipart(
        "XyZ", {"photo": SimpleUploadedFile("a.jpg", b"x" * file_size), "name": "Ada"}
    )
    stream = CountingStream(body)
    request = RequestFactory().post(
        "/admin/",
        data=body,
        content_type="multipart/form-data; boundary=XyZ",
        **{"wsgi.input": stream},  # what the server hands Django: counts what is read
    )
    return request, stream


def never_called(request):
    raise AssertionError("The view must not run.")


def test_upload_stops_reading_soon_after_limit():
    request, stream = multipart_request(file_size=2 * 1024 * 1024)

    response = UploadLimitMiddleware(never_called).process_view(request, never_called, (), {})

    assert response.status_code == 413
    # Django reads in 64 KB chunks: one or two past the limit, never the whole 2 MB.
    assert stream.bytes_read < LIMIT * 4


def test_upload_declared_length_over_limit_refused_unread(settings):
    request, stream = multipart_request(file_size=LIMIT + settings.DATA_UPLOAD_MAX_MEMORY_SIZE)

    response = UploadLimitMiddleware(never_called).process_view(request, never_called, (), {})

    assert response.status_code == 413
    assert stream.bytes_read == 0


def test_upload_within_limit_passes_to_view():
    request, _ = multipart_request(file_size=LIMIT // 2)

    response = UploadLimitMiddleware(never_called).process_view(request, never_called, (), {})

    assert response is None
    assert request.FILES["photo"].size == LIMIT // 2
    assert request.POST["name"] == "Ada"


def test_speaker_own_profile_keeps_its_field_error(client, settings):
    # /speakers/me/ drops a large photo itself and says so next to the field (200, not 413).
    from tests.speakers.conftest import verified_user

    settings.UPLOAD_MAX_BYTES = 5 * 1024 * 1024
    user = verified_user(username="ada", email="ada@example.org")
    SpeakerFactory(name="Ada", slug="ada", user=user)
    client.force_login(user)
    big = SimpleUploadedFile("a.jpg", jpeg(padding=6 * 1024 * 1024), content_type="image/jpeg")

    response = client.post("/speakers/me/", {"name": "Ada", "photo": big, "preview": "1"})

    assert response.status_code == 200
    assert "This file is too large; upload a photo of at most 5 MB." in response.content.decode()


def test_upload_refusal_page_has_no_inline_code(organiser_client):
    from tests.security.html_checks import inline_code

    speaker = SpeakerFactory(name="Ada", slug="ada")
    response = organiser_client.post(
        f"/admin/speakers/speaker/{speaker.pk}/change/", speaker_form(speaker, jpeg(padding=LIMIT))
    )

    assert response["Cache-Control"] == "no-store"
    assert inline_code(response.content.decode()) == []
