"""Speaker export from the admin: contents, filters, permissions, query counts."""

import codecs
import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from tests.factories import SpeakerFactory, TalkFactory, UserFactory

pytestmark = pytest.mark.django_db

SPEAKERS_CSV = "/admin/speakers/speaker/export/csv/"
HEADER = [
    "Name",
    "Pronouns",
    "Affiliation",
    "Contact e-mail",
    "Account e-mail",
    "Published",
    "Talks",
    "Page",
    "Website",
    "Mastodon",
    "GitHub",
    "ORCID iD",
]


def csv_rows(response):
    assert response.content.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "https://workshop.example.org"


@pytest.fixture
def speakers(workshop):
    ada = SpeakerFactory(
        name="Ada Lindqvist",
        slug="ada-lindqvist",
        pronouns="she/her",
        affiliation="Uppsala University",
        email="ada@uni.example",
        user=UserFactory(username="ada", email="ada@example.org"),
        website="https://ada.example.org",
        mastodon="@ada@scholar.social",
        github="adal",
        orcid="0000-0002-1825-0097",
    )
    bo = SpeakerFactory(
        name="Bo Ek", slug="bo-ek", affiliation="=Evil()", email="", published=False
    )
    TalkFactory(title="Zebra models", speakers=[ada])
    TalkFactory(title="Airflow at scale", speakers=[ada, bo])
    return {"ada": ada, "bo": bo}


def test_speaker_csv_lists_profiles_contacts_and_talks(organiser_client, workshop, speakers):
    response = organiser_client.get(SPEAKERS_CSV)

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="{workshop.slug}-speakers-{timezone.localdate()}.csv"'
    )
    assert csv_rows(response) == [
        HEADER,
        [
            "Ada Lindqvist",
            "she/her",
            "Uppsala University",
            "ada@uni.example",
            "ada@example.org",
            "yes",
            "Airflow at scale; Zebra models",
            "https://workshop.example.org/speakers/ada-lindqvist/",
            "https://ada.example.org",
            "https://scholar.social/@ada",
            "adal",
            "0000-0002-1825-0097",
        ],
        [
            "Bo Ek",
            "",
            "'=Evil()",
            "",
            "",
            "no",
            "Airflow at scale",
            "https://workshop.example.org/speakers/bo-ek/",
            "",
            "",
            "",
            "",
        ],
    ]


def test_speaker_export_honours_search_and_filters(organiser_client, speakers):
    searched = csv_rows(organiser_client.get(SPEAKERS_CSV, {"q": "uppsala"}))
    unpublished = csv_rows(organiser_client.get(SPEAKERS_CSV, {"published__exact": "0"}))
    with_account = csv_rows(organiser_client.get(SPEAKERS_CSV, {"account": "yes"}))

    assert [row[0] for row in searched] == ["Name", "Ada Lindqvist"]
    assert [row[0] for row in unpublished] == ["Name", "Bo Ek"]
    assert [row[0] for row in with_account] == ["Name", "Ada Lindqvist"]


def test_speaker_export_with_no_rows_is_header_only(organiser_client, speakers):
    response = organiser_client.get(SPEAKERS_CSV, {"q": "nobody at all"})

    assert response.content == codecs.BOM_UTF8 + (",".join(HEADER) + "\r\n").encode()


def test_speaker_export_action_exports_the_selected(organiser_client, speakers):
    response = organiser_client.post(
        "/admin/speakers/speaker/",
        {"action": "export_selected_csv", "_selected_action": [speakers["bo"].pk]},
    )

    assert [row[0] for row in csv_rows(response)] == ["Name", "Bo Ek"]


def test_speaker_list_links_to_the_export_with_its_filters(organiser_client, speakers):
    html = organiser_client.get("/admin/speakers/speaker/", {"account": "no"}).content.decode()

    assert f'<a href="{SPEAKERS_CSV}?account=no">Export CSV</a>' in html


def test_speaker_export_has_no_excel_format(organiser_client, speakers):
    assert organiser_client.get("/admin/speakers/speaker/export/xlsx/").status_code == 404


def test_speaker_export_permissions(client, speakers):
    anonymous = client.get(SPEAKERS_CSV)
    client.force_login(UserFactory(username="someone"))
    non_staff = client.get(SPEAKERS_CSV)
    staff = UserFactory(username="helper", is_staff=True)
    client.force_login(staff)
    without_permission = client.get(SPEAKERS_CSV)
    staff.user_permissions.add(Permission.objects.get(codename="view_speaker"))
    client.force_login(staff)
    with_permission = client.get(SPEAKERS_CSV)

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/?next=/admin/speakers/")
    assert non_staff.status_code == 302
    assert "Content-Disposition" not in non_staff
    assert without_permission.status_code == 403
    assert with_permission.status_code == 200


@pytest.mark.parametrize("count", [1, 15])
def test_speaker_export_query_count_is_constant(
    organiser_client, workshop, django_assert_num_queries, count
):
    for _ in range(count):
        speaker = SpeakerFactory(user=UserFactory())
        TalkFactory(speakers=[speaker])

    # Session, user, two counts (the list's own), the current workshop, speakers, talks.
    with django_assert_num_queries(7):
        response = organiser_client.get(SPEAKERS_CSV, {"published__exact": "1"})

    assert len(csv_rows(response)) == count + 1
