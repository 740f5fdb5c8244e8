"""A photo chosen before a preview is shown in the preview and stored by the save that follows,
without choosing it again (a browser cannot keep a chosen file across a page)."""

import io
import re

import pytest
from PIL import Image

from speakers import photos
from speakers.models import Speaker
from tests.factories import SpeakerFactory
from tests.speakers.conftest import image_bytes, upload
from tests.speakers.test_profile import profile_data

pytestmark = pytest.mark.django_db


def kept_photo_of(html):
    found = re.search(r'<input type="hidden" name="kept_photo" value="([^"]+)">', html)
    return found.group(1) if found else None


def preview_with_photo(client, **changes):
    content = image_bytes(size=(900, 600), color=(20, 160, 40))
    data = {**profile_data(**changes), "photo": upload(content), "preview": "1"}
    return client.post("/speakers/me/", data).content.decode()


def colour_of(field):
    field.open()
    image = Image.open(io.BytesIO(field.read())).convert("RGB")
    return image.getpixel((image.width // 2, image.height // 2))


def test_the_preview_shows_the_new_photo_and_saving_stores_it(speaker_client, speaker_user):
    html = preview_with_photo(speaker_client)

    assert 'src="data:image/jpeg;base64,' in html
    assert "The new photo is kept: saving the profile stores it." in html
    kept = kept_photo_of(html)
    assert kept
    speaker = Speaker.objects.get(pk=speaker_user.speaker.pk)
    assert not speaker.photo  # nothing saved by a preview

    response = speaker_client.post("/speakers/me/", {**profile_data(), "kept_photo": kept})

    assert response.status_code == 302
    speaker.refresh_from_db()
    assert speaker.photo and speaker.thumbnail
    assert Image.open(io.BytesIO(speaker.photo.read())).size == (800, 533)
    red, green, blue = colour_of(speaker.thumbnail)
    assert green > 120 and red < 80 and blue < 80


def test_a_second_preview_keeps_the_photo_too(speaker_client, speaker_user):
    kept = kept_photo_of(preview_with_photo(speaker_client))

    html = speaker_client.post(
        "/speakers/me/", {**profile_data(short_bio="Changed."), "kept_photo": kept, "preview": "1"}
    ).content.decode()

    assert 'src="data:image/jpeg;base64,' in html
    assert kept_photo_of(html)


def test_a_mistake_in_another_field_keeps_the_photo(speaker_client, speaker_user):
    html = speaker_client.post(
        "/speakers/me/", {**profile_data(name=""), "photo": upload(image_bytes())}
    ).content.decode()

    assert "This field is required." in html
    assert kept_photo_of(html)


def test_a_photo_chosen_at_the_save_wins_over_the_kept_one(speaker_client, speaker_user):
    kept = kept_photo_of(preview_with_photo(speaker_client))
    red = image_bytes(size=(300, 300), color=(220, 20, 20))

    speaker_client.post(
        "/speakers/me/", {**profile_data(), "kept_photo": kept, "photo": upload(red)}
    )

    red_part, green, _ = colour_of(Speaker.objects.get(pk=speaker_user.speaker.pk).thumbnail)
    assert red_part > 150 and green < 80


def test_clearing_the_photo_wins_over_the_kept_one(speaker_client, speaker_user):
    kept = kept_photo_of(preview_with_photo(speaker_client))

    speaker_client.post(
        "/speakers/me/", {**profile_data(), "kept_photo": kept, "photo-clear": "on"}
    )

    assert not Speaker.objects.get(pk=speaker_user.speaker.pk).photo


@pytest.mark.parametrize("spoil", ["tampered", "other speaker", "expired"])
def test_a_spoilt_kept_photo_is_refused_and_nothing_changes(
    speaker_client, speaker_user, spoil, monkeypatch
):
    speaker = speaker_user.speaker
    kept = kept_photo_of(preview_with_photo(speaker_client))
    if spoil == "tampered":
        kept = kept[:-3] + ("AAA" if not kept.endswith("AAA") else "BBB")
    elif spoil == "other speaker":
        other = SpeakerFactory()
        made = photos.process_photo(upload(image_bytes()), name="x")
        kept = photos.keep(made, speaker=other)
    else:
        monkeypatch.setattr(photos, "KEPT_PHOTO_SECONDS", -1)

    response = speaker_client.post(
        "/speakers/me/", {**profile_data(short_bio="Not saved."), "kept_photo": kept}
    )

    assert response.status_code == 200
    assert photos.KEPT_PHOTO_EXPIRED.replace("'", "&#x27;") in response.content.decode()
    speaker.refresh_from_db()
    assert not speaker.photo
    assert speaker.short_bio != "Not saved."
