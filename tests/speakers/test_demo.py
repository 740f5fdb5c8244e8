import io
import stat

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from speakers import demo
from speakers.models import Speaker
from tests.speakers.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_demo_speakers_are_fictional_and_published(workshop):
    speakers = demo.load(workshop)

    assert sorted(speakers) == [
        "ada-lindqvist",
        "jonas-weber",
        "kofi-mensah",
        "mei-tanaka",
        "priya-raman",
        "ruben-castillo",
    ]
    for speaker in Speaker.objects.all():
        speaker.full_clean()
        assert "(fictional)" in speaker.affiliation
        assert speaker.published is True


def test_demo_load_twice_changes_nothing(workshop):
    demo.load(workshop)
    before = list(Speaker.objects.values())

    demo.load(workshop)

    assert list(Speaker.objects.values()) == before


def test_ensure_demo_speaker_makes_verified_account_with_generated_password(
    client, workshop, tmp_path
):
    demo.load(workshop)
    password_file = tmp_path / "speaker-password.txt"
    out = io.StringIO()

    call_command("ensure_demo_speaker", password_file=str(password_file), stdout=out)
    call_command("ensure_demo_speaker", password_file=str(password_file), stdout=io.StringIO())

    password = password_file.read_text().split("password: ")[1].strip()
    assert password != PASSWORD
    assert len(password) == 24
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert f"with password: {password}" in out.getvalue()
    speaker = Speaker.objects.get(slug="ada-lindqvist")
    assert speaker.user.email == "speaker@example.org"
    assert EmailAddress.objects.get(user=speaker.user).verified is True
    signed_in = client.post(
        "/accounts/login/", {"login": "speaker@example.org", "password": password}
    )
    assert signed_in.status_code == 302
    assert "<h1>My speaker profile</h1>" in client.get("/speakers/me/").content.decode()


def test_load_demo_command_includes_speakers():
    call_command("load_demo", stdout=io.StringIO())

    assert Speaker.objects.get(slug="priya-raman").bio.startswith("Priya Raman is a *fictional*")
