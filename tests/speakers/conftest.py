import io

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from speakers import services
from tests.factories import SpeakerFactory, UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fresh_cache():
    """Start each test with empty rate-limit counters."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Keep uploaded photos out of the project's media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def image_bytes(fmt="JPEG", size=(60, 40), color=(200, 30, 30), mode="RGB", exif=None):
    """Return an image file made in memory."""
    buffer = io.BytesIO()
    image = Image.new(mode, size, color)
    options = {"exif": exif.tobytes()} if exif is not None else {}
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def upload(content, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def verified_user(**kwargs):
    """Return a user whose address allauth accepts for signing in."""
    user = UserFactory(**kwargs)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def speaker_user(db):
    """A signed-up user with a linked speaker profile."""
    user = verified_user(username="ada", email="ada@example.org")
    SpeakerFactory(name="Ada Lindqvist", slug="ada-lindqvist", user=user)
    return user


@pytest.fixture
def speaker_client(client, speaker_user):
    client.force_login(speaker_user)
    return client


@pytest.fixture
def invited(db, workshop, django_capture_on_commit_callbacks):
    """An open invitation for an unlinked speaker, and its token."""
    speaker = SpeakerFactory(name="Grace Okafor", slug="grace-okafor", email="grace@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = services.invite_speaker(speaker=speaker, email="grace@example.org")
    return invitation, token
