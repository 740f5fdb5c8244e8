import pytest
from django.core.exceptions import ValidationError

from speakers import validators
from speakers.forms import SpeakerAdminForm
from tests.factories import SpeakerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "orcid", ["0000-0002-1825-0097", "0000-0001-5109-3700", "0000-0002-1694-233X"]
)
def test_validate_orcid_accepts_valid_checksums(orcid):
    validators.validate_orcid(orcid)


def test_validate_orcid_refuses_wrong_check_digit():
    with pytest.raises(ValidationError) as error:
        validators.validate_orcid("0000-0002-1825-0098")

    assert error.value.messages == [
        "This ORCID iD's check digit is wrong; please copy it from your ORCID record."
    ]


@pytest.mark.parametrize("orcid", ["0000-0002-1825", "0000000218250097", "abcd-0002-1825-0097"])
def test_validate_orcid_refuses_bad_format(orcid):
    with pytest.raises(ValidationError) as error:
        validators.validate_orcid(orcid)

    assert error.value.messages == ["Enter an ORCID iD in the form 0000-0002-1825-0097."]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://orcid.org/0000-0002-1694-233x", "0000-0002-1694-233X"),
        (" 0000-0002-1825-0097 ", "0000-0002-1825-0097"),
    ],
)
def test_normalise_orcid(typed, stored):
    assert validators.normalise_orcid(typed) == stored


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("https://github.com/octocat/", "octocat"), ("@octocat", "octocat"), ("octocat", "octocat")],
)
def test_normalise_github(typed, stored):
    assert validators.normalise_github(typed) == stored


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://fosstodon.org/@ada", "@ada@fosstodon.org"),
        ("ada@fosstodon.org", "@ada@fosstodon.org"),
        ("@ada@fosstodon.org", "@ada@fosstodon.org"),
    ],
)
def test_normalise_mastodon(typed, stored):
    assert validators.normalise_mastodon(typed) == stored


def test_speaker_links_built_from_handles():
    speaker = SpeakerFactory.build(
        mastodon="@ada@fosstodon.org", github="octocat", orcid="0000-0002-1825-0097"
    )

    assert speaker.mastodon_url == "https://fosstodon.org/@ada"
    assert speaker.github_url == "https://github.com/octocat"
    assert speaker.orcid_url == "https://orcid.org/0000-0002-1825-0097"


def test_speaker_without_photo_uses_placeholder():
    speaker = SpeakerFactory.build()

    assert speaker.photo_url == "/static/images/speaker-placeholder.svg"
    assert speaker.thumbnail_url == "/static/images/speaker-placeholder.svg"


def test_admin_form_refuses_bad_identifiers_and_reserved_slug():
    form = SpeakerAdminForm(
        data={
            "name": "Ada",
            "slug": "me",
            "published": "on",
            "website": "javascript:alert(1)",
            "mastodon": "not a handle",
            "github": "-bad-",
            "orcid": "0000-0002-1825-0098",
        }
    )

    assert form.errors == {
        "slug": ["“me” is reserved; choose another slug."],
        "website": ["Enter a valid URL."],
        "mastodon": ["Enter a Mastodon address in the form @name@server.example."],
        "github": ["Enter a GitHub user name such as octocat (letters, digits and hyphens)."],
        "orcid": ["This ORCID iD's check digit is wrong; please copy it from your ORCID record."],
    }
