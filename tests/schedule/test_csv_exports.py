"""Talk export from the admin: contents, filters, permissions, query counts."""

import codecs
import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from tests.factories import SlotFactory, SpeakerFactory, TalkFactory, UserFactory
from tests.schedule.conftest import at, make_programme

pytestmark = pytest.mark.django_db

TALKS_CSV = "/admin/schedule/talk/export/csv/"
HEADER = [
    "Title",
    "Kind",
    "Speakers",
    "Track",
    "Level",
    "Language",
    "Start",
    "End",
    "Room",
    "State",
    "Page",
    "Slides",
    "Video",
]
SITE = "https://workshop.example.org"


def csv_rows(response):
    assert response.content.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def talks(workshop, programme, speaker):
    """The programme's two talks, a plenary for all rooms and an unscheduled draft."""
    workshop.time_zone = "Europe/Berlin"
    workshop.save()
    plenary = TalkFactory(
        title="All together now",
        slug="all-together-now",
        kind="keynote",
        level="beginner",
        speakers=[speaker, SpeakerFactory(name="Bo Ek")],
        slides_url="https://example.org/slides.pdf",
    )
    SlotFactory(
        workshop=workshop, room=None, talk=plenary, start=at(workshop, 14), end=at(workshop, 14, 30)
    )
    draft = TalkFactory(
        title="+Draft idea", slug="draft-idea", published=False, track="", language="de"
    )
    return {"plenary": plenary, "draft": draft}


def test_talk_csv_lists_slot_times_in_the_workshops_zone(organiser_client, workshop, talks):
    response = organiser_client.get(TALKS_CSV)

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="{workshop.slug}-talks-{timezone.localdate()}.csv"'
    )
    assert csv_rows(response) == [
        HEADER,
        [
            "'+Draft idea",
            "Talk",
            "",
            "",
            "Everyone",
            "de",
            "",
            "",
            "",
            "draft",
            f"{SITE}/talks/draft-idea/",
            "",
            "",
        ],
        [
            "All together now",
            "Keynote",
            "Ada Lindqvist; Bo Ek",
            "Evaluation",
            "Beginner",
            "en",
            "2030-12-02 15:00",
            "2030-12-02 15:30",
            "All rooms",
            "published",
            f"{SITE}/talks/all-together-now/",
            "https://example.org/slides.pdf",
            "",
        ],
        [
            "Choosing metrics",
            "Talk",
            "Ada Lindqvist",
            "Metrics",
            "Everyone",
            "en",
            "2030-12-02 14:10",
            "2030-12-02 14:40",
            "Main stage",
            "published",
            f"{SITE}/talks/choosing-metrics/",
            "",
            "",
        ],
        [
            "Honest splits",
            "Talk",
            "",
            "Evaluation",
            "Everyone",
            "en",
            "2030-12-02 14:10",
            "2030-12-02 14:40",
            "Hands-on stage",
            "published",
            f"{SITE}/talks/honest-splits/",
            "",
            "",
        ],
    ]


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ({"q": "metrics"}, ["Choosing metrics"]),
        ({"published__exact": "0"}, ["'+Draft idea"]),
        ({"scheduled": "no"}, ["'+Draft idea"]),
        ({"kind__exact": "keynote"}, ["All together now"]),
        (
            {"scheduled": "yes", "o": "-1"},
            ["Honest splits", "Choosing metrics", "All together now"],
        ),
    ],
)
def test_talk_export_honours_search_filters_and_order(organiser_client, talks, query, titles):
    rows = csv_rows(organiser_client.get(TALKS_CSV, query))

    assert [row[0] for row in rows[1:]] == titles


def test_talk_export_with_no_rows_is_header_only(organiser_client, workshop):
    response = organiser_client.get(TALKS_CSV)

    assert response.content == codecs.BOM_UTF8 + (",".join(HEADER) + "\r\n").encode()


def test_talk_export_action_exports_the_selected(organiser_client, talks):
    response = organiser_client.post(
        "/admin/schedule/talk/",
        {"action": "export_selected_csv", "_selected_action": [talks["plenary"].pk]},
    )

    assert [row[0] for row in csv_rows(response)] == ["Title", "All together now"]


def test_talk_list_keeps_schedule_check_and_links_to_the_export(organiser_client, talks):
    html = organiser_client.get("/admin/schedule/talk/", {"track": "Metrics"}).content.decode()

    assert 'href="/admin/schedule/slot/check/">Schedule check</a>' in html
    assert f'<a href="{TALKS_CSV}?track=Metrics">Export CSV</a>' in html


def test_talk_export_permissions(client, talks):
    anonymous = client.get(TALKS_CSV)
    client.force_login(UserFactory(username="someone"))
    non_staff = client.get(TALKS_CSV)
    staff = UserFactory(username="helper", is_staff=True)
    client.force_login(staff)
    without_permission = client.get(TALKS_CSV)
    staff.user_permissions.add(Permission.objects.get(codename="view_talk"))
    client.force_login(staff)
    with_permission = client.get(TALKS_CSV)

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/?next=/admin/schedule/")
    assert non_staff.status_code == 302
    assert "Content-Disposition" not in non_staff
    assert without_permission.status_code == 403
    assert with_permission.status_code == 200


@pytest.mark.parametrize("count", [1, 12])
def test_talk_export_query_count_is_constant(
    organiser_client, workshop, django_assert_num_queries, count
):
    make_programme(workshop, count)

    # Session, user, two counts (the list's own), the current workshop, talks, speakers.
    with django_assert_num_queries(7):
        response = organiser_client.get(TALKS_CSV, {"published__exact": "1"})

    assert len(csv_rows(response)) > count
