import io

import pytest
from django.core.files.uploadhandler import SkipFile
from django.test import Client
from PIL import Image

from speakers import photos
from speakers.models import Speaker, SpeakerRevision
from tests.factories import SpeakerFactory, UserFactory
from tests.speakers.conftest import image_bytes, upload

pytestmark = pytest.mark.django_db


def profile_data(**changes):
    data = {
        "name": "Ada Lindqvist",
        "pronouns": "she/her",
        "affiliation": "Fictional Institute of Metrics",
        "short_bio": "Studies metrics.",
        "bio": "Ada studies **metrics**.",
        "website": "https://ada.example.org/",
        "mastodon": "",
        "github": "",
        "orcid": "",
    }
    data.update(changes)
    return data


def test_my_profile_sends_anonymous_visitor_to_sign_in(client, workshop):
    response = client.get("/speakers/me/")

    assert (response.status_code, response.url) == (302, "/accounts/login/?next=/speakers/me/")


def test_my_profile_without_speaker_profile_explains(client, workshop):
    client.force_login(UserFactory(email="nobody@example.org"))

    response = client.get("/speakers/me/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Your account (nobody@example.org) has no speaker profile." in html
    assert "<form" not in html.split('<main id="content"')[1]


def test_my_profile_form_labels_every_field(speaker_client):
    html = speaker_client.get("/speakers/me/").content.decode()

    for field, label in [
        ("name", "Name"),
        ("pronouns", "Pronouns"),
        ("affiliation", "Affiliation"),
        ("short_bio", "Short bio"),
        ("bio", "Long bio"),
        ("photo", "Photo"),
        ("website", "Website"),
        ("mastodon", "Mastodon"),
        ("github", "GitHub user name"),
        ("orcid", "ORCID iD"),
    ]:
        assert f'<label for="id_{field}">{label}:</label>' in html


def test_my_profile_save_is_public_at_once_and_keeps_previous_version(speaker_client, speaker_user):
    speaker = speaker_user.speaker
    old_affiliation = speaker.affiliation

    response = speaker_client.post(
        "/speakers/me/", profile_data(orcid="https://orcid.org/0000-0002-1825-0097")
    )
    public = speaker_client.get("/speakers/ada-lindqvist/").content.decode()

    assert (response.status_code, response.url) == (302, "/speakers/me/")
    assert "<p>Ada studies <strong>metrics</strong>.</p>" in public
    assert "ORCID iD 0000-0002-1825-0097" in public
    revision = SpeakerRevision.objects.get(speaker=speaker)
    assert revision.changed_by == speaker_user
    assert revision.previous["affiliation"] == old_affiliation
    assert revision.changed_fields == [
        "pronouns",
        "affiliation",
        "short_bio",
        "bio",
        "website",
        "orcid",
    ]


def test_my_profile_errors_shown_next_to_fields_and_input_kept(speaker_client, speaker_user):
    response = speaker_client.post(
        "/speakers/me/", profile_data(orcid="0000-0002-1825-0098", affiliation="Typed <here>")
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Please correct the fields marked below." in html
    assert (
        '<ul class="errorlist" id="id_orcid_error"><li>This ORCID iD&#x27;s check digit is wrong;'
        in html
    )
    assert 'value="Typed &lt;here&gt;"' in html
    speaker_user.speaker.refresh_from_db()
    assert speaker_user.speaker.affiliation == "Example University"


def test_my_profile_preview_shows_rendering_without_saving(speaker_client, speaker_user):
    response = speaker_client.post(
        "/speakers/me/", profile_data(bio="New *bio* <script>alert(1)</script>", preview="1")
    )

    html = response.content.decode()
    assert '<h2 id="preview-heading">Preview (not saved yet)</h2>' in html
    assert "<p>New <em>bio</em> </p>" in html
    assert "<script>alert" not in html
    assert "New *bio* &lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in html
    assert Speaker.objects.get(pk=speaker_user.speaker.pk).bio == "Works on *many* things."


def test_my_profile_photo_upload_stores_clean_photo_and_thumbnail(speaker_client, speaker_user):
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    content = image_bytes(size=(1200, 900), exif=exif)

    speaker_client.post("/speakers/me/", {**profile_data(), "photo": upload(content)})

    speaker = Speaker.objects.get(pk=speaker_user.speaker.pk)
    photo = Image.open(io.BytesIO(speaker.photo.read()))
    assert speaker.photo.name.startswith("speakers/ada-lindqvist")
    assert (photo.size, dict(photo.getexif())) == ((800, 600), {})
    assert Image.open(speaker.thumbnail.path).size == (256, 256)
    public = speaker_client.get("/speakers/").content.decode()
    assert f'<img class="speaker-thumb" src="/media/{speaker.thumbnail.name}"' in public


def test_my_profile_refuses_non_image_upload(speaker_client, speaker_user):
    response = speaker_client.post(
        "/speakers/me/", {**profile_data(), "photo": upload(b"MZ\x90\x00 evil", "me.jpg")}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Upload a photo as a JPEG, PNG or WebP image." in html
    assert not Speaker.objects.get(pk=speaker_user.speaker.pk).photo


def test_my_profile_refuses_oversized_upload(speaker_client, speaker_user, monkeypatch):
    monkeypatch.setattr(photos, "MAX_UPLOAD_BYTES", 1024 * 1024)
    content = b"\xff\xd8\xff" + b"0" * (1024 * 1024)

    monkeypatch.setattr(photos, "open_image", lambda *args: pytest.fail("decoded the upload"))

    response = speaker_client.post("/speakers/me/", {**profile_data(), "photo": upload(content)})

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        '<ul class="errorlist" id="id_photo_error"><li>This file is too large; upload a photo '
        "of at most 1 MB.</li></ul>" in html
    )
    assert 'value="Fictional Institute of Metrics"' in html
    assert not Speaker.objects.get(pk=speaker_user.speaker.pk).photo


def test_size_limit_handler_drops_file_while_receiving(monkeypatch):
    monkeypatch.setattr(photos, "MAX_UPLOAD_BYTES", 100)
    handler = photos.SizeLimitUploadHandler()
    handler.new_file("photo", "p.jpg", "image/jpeg", 1000)

    assert handler.receive_data_chunk(b"x" * 64, 0) == b"x" * 64
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(b"x" * 64, 64)
    assert handler.too_large == {"photo"}


def test_my_profile_post_without_csrf_token_is_refused(client, speaker_user):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(speaker_user)

    response = csrf_client.post("/speakers/me/", profile_data(affiliation="Forged"))

    assert response.status_code == 403
    assert Speaker.objects.get(pk=speaker_user.speaker.pk).affiliation == "Example University"


def test_my_profile_refuses_decompression_bomb(speaker_client, speaker_user):
    buffer = io.BytesIO()
    Image.new("1", (8000, 6000)).save(buffer, format="PNG")

    response = speaker_client.post(
        "/speakers/me/", {**profile_data(), "photo": upload(buffer.getvalue(), "b.png")}
    )

    assert "This image has too many pixels" in response.content.decode()


def test_my_profile_refuses_a_png_over_its_decoded_limit(speaker_client, speaker_user):
    buffer = io.BytesIO()
    Image.new("1", (3000, 3000)).save(buffer, format="PNG")  # 9 megapixels, a few kilobytes

    response = speaker_client.post(
        "/speakers/me/", {**profile_data(), "photo": upload(buffer.getvalue(), "b.png")}
    )

    assert response.status_code == 200
    assert (
        "This image has too many pixels; upload a photo of at most 8 megapixels."
        in response.content.decode()
    )
    assert not Speaker.objects.get(pk=speaker_user.speaker.pk).photo


def test_my_profile_ignores_posted_owner_slug_and_publication(speaker_client, speaker_user):
    other = SpeakerFactory(slug="other", name="Other")
    stranger = UserFactory(username="stranger")

    speaker_client.post(
        "/speakers/me/",
        profile_data(id=other.pk, slug="other", user=stranger.pk, published=""),
    )

    other.refresh_from_db()
    mine = Speaker.objects.get(pk=speaker_user.speaker.pk)
    assert (other.name, other.user) == ("Other", None)
    assert (mine.slug, mine.user, mine.published) == ("ada-lindqvist", speaker_user, True)


def test_edit_someone_elses_profile_by_slug_is_forbidden(speaker_client):
    SpeakerFactory(slug="other")

    response = speaker_client.get("/speakers/other/edit/")

    assert response.status_code == 403


def test_edit_someone_elses_unpublished_profile_by_slug_is_not_found(speaker_client, client):
    SpeakerFactory(slug="hidden", published=False, user=UserFactory(username="hidden"))
    client.force_login(UserFactory(username="plain", is_staff=True))

    assert speaker_client.get("/speakers/hidden/edit/").status_code == 404
    assert client.get("/speakers/hidden/edit/").status_code == 404


def test_edit_own_profile_by_slug_goes_to_my_profile(speaker_client):
    response = speaker_client.get("/speakers/ada-lindqvist/edit/")

    assert (response.status_code, response.url) == (302, "/speakers/me/")


def test_edit_someone_elses_profile_by_id_in_admin_is_refused(speaker_client):
    other = SpeakerFactory(slug="other")

    response = speaker_client.post(f"/admin/speakers/speaker/{other.pk}/change/", {"name": "X"})

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
    other.refresh_from_db()
    assert other.name != "X"


def test_edit_unknown_slug_is_not_found(speaker_client):
    assert speaker_client.get("/speakers/nobody/edit/").status_code == 404
