from types import SimpleNamespace

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.utils import timezone

from schedule.forms import TalkLinkFormSet, TalkSpeakerForm
from schedule.models import Slot, Talk
from schedule.services import save_speaker_edit
from tests.factories import (
    RoomFactory,
    SlotFactory,
    SpeakerFactory,
    TalkFactory,
    TalkLinkFactory,
    UserFactory,
)
from tests.schedule.conftest import at, make_programme
from workshop import cache as page_cache

pytestmark = pytest.mark.django_db


def test_schedule_shows_grid_in_event_zone(client, programme):
    response = client.get("/schedule/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Schedule</h1>" in html
    assert "Times are shown in <strong>UTC (UTC+00:00)</strong>, the event's time zone." in html
    assert '<time datetime="2030-12-02">Monday 2 December 2030</time>' in html
    assert '<th scope="col">Main stage <a class="stream-link"' in html
    assert '<th scope="row"><time datetime="2030-12-02T13:10:00+00:00">13:10</time></th>' in html
    assert (
        '<td id="slot-{}" colspan="2" class="slot slot-break slot-plain">'.format(
            programme["break"].pk
        )
        in html
    )
    assert '<a class="slot-title" href="/talks/choosing-metrics/">Choosing metrics</a>' in html
    assert '<span class="slot-speakers">Ada Lindqvist</span>' in html


def test_schedule_in_viewer_zone_ahead_moves_to_next_day(client, programme):
    response = client.get("/schedule/", {"tz": "Pacific/Kiritimati"})

    html = response.content.decode()
    assert "Times are shown in <strong>Pacific/Kiritimati (UTC+14:00)</strong>." in html
    assert "The event's time zone is UTC (UTC+00:00)." in html
    assert '<time datetime="2030-12-03">Tuesday 3 December 2030</time>' in html
    assert '<time datetime="2030-12-03T03:10:00+14:00">03:10</time>' in html
    assert "Monday 2 December 2030" not in html


def test_schedule_in_viewer_zone_behind_keeps_the_day(client, programme):
    html = client.get("/schedule/", {"tz": "Pacific/Pago_Pago"}).content.decode()

    assert "Times are shown in <strong>Pacific/Pago_Pago (UTC-11:00)</strong>." in html
    assert '<time datetime="2030-12-02">Monday 2 December 2030</time>' in html
    assert '<time datetime="2030-12-02T02:10:00-11:00">02:10</time>' in html


def test_event_in_other_zone_shows_its_name_and_offset(client, workshop, programme):
    workshop.time_zone = "Europe/Berlin"
    workshop.save()

    html = client.get("/schedule/").content.decode()

    assert "Times are shown in <strong>Europe/Berlin (UTC+01:00)</strong>, the event's" in html
    assert '<time datetime="2030-12-02T14:10:00+01:00">14:10</time>' in html


def test_chosen_zone_is_remembered_on_every_page(client, programme):
    client.get("/schedule/", {"tz": "Pacific/Kiritimati"})

    talks = client.get("/talks/").content.decode()
    detail = client.get("/talks/choosing-metrics/").content.decode()

    assert client.session["schedule_time_zone"] == "Pacific/Kiritimati"
    for html in (talks, detail):
        assert "Pacific/Kiritimati (UTC+14:00)" in html
        assert "Tue 3 Dec 2030, 03:10" in html


def test_event_zone_choice_forgets_the_viewer_zone(client, programme):
    client.get("/schedule/", {"tz": "Pacific/Kiritimati"})

    html = client.get("/schedule/", {"tz": "UTC"}).content.decode()

    assert "schedule_time_zone" not in client.session
    assert "UTC (UTC+00:00)</strong>, the event's time zone" in html


@pytest.mark.parametrize(
    "value", ["Mars/Olympus", "../../etc/passwd", "<script>", "x" * 500, "utc", "Europe/"]
)
def test_invalid_zone_falls_back_to_event_zone_with_note(client, programme, value):
    client.get("/schedule/", {"tz": "Pacific/Kiritimati"})

    response = client.get("/schedule/", {"tz": value})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Times are shown in <strong>UTC (UTC+00:00)</strong>, the event's time zone." in html
    assert "is not a time zone we know, so times are shown in the event time zone." in html
    assert "<script>" not in html.split("<main", 1)[1].split("</main>")[0]
    assert "schedule_time_zone" not in client.session


def test_zone_form_works_without_javascript(client, programme):
    html = client.get("/schedule/").content.decode()

    assert '<form method="get" action="/schedule/" class="zone-form">' in html
    assert '<label for="tz-select">Show times in</label>' in html
    assert '<option value="Pacific/Kiritimati">Pacific/Kiritimati</option>' in html
    assert '<option value="UTC" selected>UTC</option>' in html
    assert '<script src="/static/js/schedule.js" defer></script>' in html
    assert "style=" not in html


def test_schedule_marks_running_talk(client, workshop, programme, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: at(workshop, 13, 20))

    html = client.get("/schedule/").content.decode()

    slot = programme["keynote"]
    assert f'<td id="slot-{slot.pk}" class="slot is-now">' in html
    # Two talks in parallel, each marked in the grid and in the list phones get.
    assert html.count('<strong class="now-badge">On now</strong>') == 4
    assert html.count('<li class="list-slot is-now">') == 2


def test_schedule_lists_slots_by_time_with_their_rooms(client, programme):
    html = client.get("/schedule/").content.decode()

    listed = html.split('<ol class="schedule-list">', 1)[1].split("</ol>", 1)[0]
    times = [part.split("</time>", 1)[0] for part in listed.split('<h3><time datetime="')[1:]]
    assert [t.split(">")[1] for t in times] == ["13:00", "13:10", "13:40"]
    assert '<div class="wrap schedule-page rooms-2">' in html
    assert listed.count('<span class="slot-room">All rooms</span>') == 2
    assert (
        '<span class="slot-where"><span class="slot-room">Main stage</span> <a class="stream-link" '
        'href="https://example.org/stream">stream<span class="visually-hidden"> of Main stage'
        "</span></a> · Talk · "
        '<span class="slot-time"><time datetime="2030-12-02T13:10:00+00:00">13:10</time>–'
        '<time datetime="2030-12-02T13:40:00+00:00">13:40</time></span></span>'
    ) in listed
    assert '<span class="slot-room">Hands-on stage</span>' in listed
    assert listed.count("> of Main stage</span></a>") == 1
    assert listed.index("Choosing metrics") < listed.index("Honest splits")


def test_schedule_list_follows_a_renamed_room(client, programme, room):
    client.get("/schedule/")
    room.name = "Big stage"
    room.save()

    html = client.get("/schedule/").content.decode()

    assert '<span class="slot-room">Big stage</span>' in html
    assert "Main stage" not in html


def test_schedule_is_stored_only_until_what_is_on_changes(
    client, workshop, programme, monkeypatch, django_assert_num_queries
):
    clock = {"now": at(workshop, 13, 39, 10)}  # a stored page lives 60 s, this one 50
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    monkeypatch.setattr(page_cache, "time", SimpleNamespace(time=lambda: clock["now"].timestamp()))

    first = client.get("/schedule/").content.decode()
    clock["now"] = at(workshop, 13, 39, 59)
    with django_assert_num_queries(0):
        still_stored = client.get("/schedule/").content.decode()
    clock["now"] = at(workshop, 13, 40)
    after = client.get("/schedule/").content.decode()

    keynote, pause = programme["keynote"].pk, programme["break"].pk
    assert f'<td id="slot-{keynote}" class="slot is-now">' in first
    assert still_stored == first
    assert f'<td id="slot-{keynote}" class="slot">' in after
    assert f'<td id="slot-{pause}" colspan="2" class="slot slot-break slot-plain is-now">' in after


def test_schedule_links_every_export(client, programme):
    html = client.get("/schedule/").content.decode()

    for href in ["/schedule.ics", "/schedule.xml", "/schedule.json"]:
        assert f'<a href="{href}">' in html


def test_schedule_without_slots_says_so(client, workshop):
    html = client.get("/schedule/").content.decode()

    assert "The programme will be published here soon." in html


def test_schedule_hides_unpublished_talks(client, workshop, room):
    SlotFactory(workshop=workshop, room=room, talk=TalkFactory(title="Secret", published=False))

    html = client.get("/schedule/").content.decode()

    assert "Secret" not in html


def test_talk_list_shows_published_talks_with_speakers_time_and_room(client, programme):
    TalkFactory(title="Hidden draft", published=False)
    TalkFactory(title="Unscheduled talk")

    html = client.get("/talks/").content.decode()

    assert "<h1>Talks</h1>" in html
    assert '<h2><a href="/talks/choosing-metrics/">Choosing metrics</a></h2>' in html
    assert '<a href="/speakers/ada-lindqvist/">Ada Lindqvist</a>' in html
    assert '<time datetime="2030-12-02T13:10:00+00:00">Mon 2 Dec 2030, 13:10</time>' in html
    assert " · Main stage" in html
    assert "Time to be announced" in html
    assert "Hidden draft" not in html
    assert html.index("Choosing metrics") < html.index("Unscheduled talk")


def test_talk_detail_shows_everything(client, programme, speaker):
    talk = programme["keynote"].talk
    talk.description = "Longer **text**."
    talk.slides_url = "https://example.org/slides.pdf"
    talk.video_url = "https://example.org/video"
    talk.save()
    TalkLinkFactory(talk=talk, title="Preprint", url="https://example.org/preprint")

    response = client.get("/talks/choosing-metrics/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Choosing metrics</h1>" in html
    assert "<p>An <em>abstract</em>.</p>" in html
    assert "<p>Longer <strong>text</strong>.</p>" in html
    assert '<a href="https://example.org/stream">Main stage (stream)</a>' in html
    assert '<a href="https://example.org/slides.pdf">Slides</a>' in html
    assert '<a href="https://example.org/video">Video</a>' in html
    assert '<a href="https://example.org/preprint">Preprint</a>' in html
    assert 'href="/talks/choosing-metrics.ics">Add to calendar (.ics)</a>' in html
    # The speakers app's placeholder picture when it has one, else the initial.
    assert (
        '<span class="speaker-photo speaker-initials" aria-hidden="true">A</span>' in html
        or 'speaker-placeholder.svg" alt="" width="96" height="96" class="speaker-photo">' in html
    )
    assert '<a href="/speakers/ada-lindqvist/">Ada Lindqvist</a>' in html
    assert "Edit “" not in html


def test_talk_detail_shows_speaker_photo(client, programme, speaker):
    speaker.photo = "speakers/ada.jpg"
    speaker.save()

    html = client.get("/talks/choosing-metrics/").content.decode()

    assert '<img src="/media/speakers/ada.jpg" alt="" width="96" height="96"' in html


@pytest.mark.parametrize(
    "path", ["/talks/no-such-talk/", "/talks/no-such-talk.ics", "/talks/no-such-talk/edit/"]
)
def test_unknown_talk_is_404_page(client, workshop, path, speaker):
    user = UserFactory()
    speaker.user = user
    speaker.save()
    client.force_login(user)

    response = client.get(path)

    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.content.decode()


def test_unpublished_talk_is_404_for_public_but_visible_to_its_speaker(client, workshop, speaker):
    TalkFactory(slug="draft", published=False, speakers=[speaker])
    speaker.user = UserFactory()
    speaker.save()

    public = client.get("/talks/draft/")
    client.force_login(speaker.user)
    own = client.get("/talks/draft/")

    assert public.status_code == 404
    assert own.status_code == 200
    assert "Draft: only you and the organisers can see this talk." in own.content.decode()


def test_talk_ics_of_unscheduled_talk_is_404(client, workshop):
    TalkFactory(slug="later")

    assert client.get("/talks/later.ics").status_code == 404


@pytest.fixture
def speaker_client(client, speaker):
    speaker.user = UserFactory(username="ada")
    speaker.save()
    client.force_login(speaker.user)
    return client


def test_speaker_sees_edit_link_and_her_talks(speaker_client, programme):
    html = speaker_client.get("/talks/choosing-metrics/").content.decode()

    assert '<a href="/talks/choosing-metrics/edit/">Edit “Choosing metrics”</a>' in html


def edit_data(links=(), existing=0, **fields):
    """Return a POST of the talk edit form: its fields and the links formset."""
    data = {"abstract": "An *abstract*.", "description": "", "slides_url": "", "video_url": ""}
    data.update(fields)
    data.update({"links-TOTAL_FORMS": str(len(links)), "links-INITIAL_FORMS": str(existing)})
    for index, link in enumerate(links):
        data.update({f"links-{index}-{key}": value for key, value in link.items()})
    return data


def test_speaker_edits_own_talk_but_not_its_time_or_title(speaker_client, programme):
    slot = programme["keynote"]

    response = speaker_client.post(
        "/talks/choosing-metrics/edit/",
        edit_data(
            abstract="New *abstract*.",
            slides_url="https://example.org/new-slides",
            title="Hijacked",
            start="2030-12-02T17:00:00Z",
        ),
    )

    talk = Talk.objects.get(slug="choosing-metrics")
    slot.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == "/talks/choosing-metrics/"
    assert (talk.abstract, talk.slides_url, talk.title) == (
        "New *abstract*.",
        "https://example.org/new-slides",
        "Choosing metrics",
    )
    assert slot.start == at(slot.workshop, 13, 10)
    entry = LogEntry.objects.get(object_id=str(talk.pk))
    assert entry.get_change_message() == "Changed Abstract and Slides URL."


def test_speaker_edit_form_shows_errors(speaker_client, programme):
    response = speaker_client.post(
        "/talks/choosing-metrics/edit/", edit_data(abstract="x", slides_url="not a url")
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid URL." in html
    assert '<label for="id_abstract">Abstract:</label>' in html


def test_speaker_adds_and_removes_links(speaker_client, programme):
    talk = programme["keynote"].talk
    old = TalkLinkFactory(talk=talk, title="Old preprint")

    response = speaker_client.post(
        "/talks/choosing-metrics/edit/",
        edit_data(
            existing=1,
            links=[
                {"id": old.pk, "title": old.title, "url": old.url, "kind": "paper", "DELETE": "on"},
                {"title": "Code", "url": "https://example.org/code", "kind": "web"},
            ],
        ),
    )

    assert response.status_code == 302
    assert list(talk.links.values_list("title", "url", "kind")) == [
        ("Code", "https://example.org/code", "web")
    ]
    entry = LogEntry.objects.get(object_id=str(talk.pk))
    assert entry.get_change_message() == "Changed Links."


def test_speaker_edit_page_shows_links_form(speaker_client, programme):
    html = speaker_client.get("/talks/choosing-metrics/edit/").content.decode()

    assert '<input type="hidden" name="links-TOTAL_FORMS" value="2"' in html
    assert '<label for="id_links-0-url">URL:</label>' in html


def test_speaker_cannot_edit_links_of_another_talk(speaker_client, programme):
    foreign = TalkLinkFactory(talk=programme["second"].talk, title="Theirs")

    speaker_client.post(
        "/talks/choosing-metrics/edit/",
        edit_data(
            existing=1,
            links=[{"id": foreign.pk, "title": "Mine", "url": foreign.url, "kind": "paper"}],
        ),
    )

    foreign.refresh_from_db()
    assert (foreign.title, foreign.talk) == ("Theirs", programme["second"].talk)


def link_rows(links, delete=0):
    """Return the formset rows of existing ``links``, the first ``delete`` marked for removal."""
    rows = [
        {"id": link.pk, "title": link.title, "url": link.url, "kind": link.kind} for link in links
    ]
    for row in rows[:delete]:
        row["DELETE"] = "on"
    return rows


def new_links(count):
    return [
        {"title": f"New {n}", "url": f"https://example.org/{n}", "kind": "web"}
        for n in range(count)
    ]


def test_link_cap_holds_when_the_post_leaves_existing_links_out(speaker_client, programme):
    talk = programme["keynote"].talk
    TalkLinkFactory.create_batch(15, talk=talk)

    # A hand-made post: the 15 links are not in it (INITIAL_FORMS=0), 10 new ones are.
    response = speaker_client.post("/talks/choosing-metrics/edit/", edit_data(new_links(10)))

    assert response.status_code == 200
    assert "A talk has at most 20 links; this would make 25. Remove 5 links to save." in (
        response.content.decode()
    )
    assert talk.links.count() == 15


def test_link_cap_refuses_the_twenty_first_link(speaker_client, programme):
    talk = programme["keynote"].talk
    links = TalkLinkFactory.create_batch(19, talk=talk)

    refused = speaker_client.post(
        "/talks/choosing-metrics/edit/", edit_data(link_rows(links) + new_links(2), existing=19)
    )
    accepted = speaker_client.post(
        "/talks/choosing-metrics/edit/", edit_data(link_rows(links) + new_links(1), existing=19)
    )

    assert "this would make 21. Remove 1 link to save." in refused.content.decode()
    assert accepted.status_code == 302
    assert talk.links.count() == 20


def test_talk_over_the_link_cap_is_saved_by_removing_links(speaker_client, programme):
    talk = programme["keynote"].talk
    links = TalkLinkFactory.create_batch(25, talk=talk)

    page = speaker_client.get("/talks/choosing-metrics/edit/")
    too_few_removed = speaker_client.post(
        "/talks/choosing-metrics/edit/", edit_data(link_rows(links, delete=4), existing=25)
    )
    enough_removed = speaker_client.post(
        "/talks/choosing-metrics/edit/",
        edit_data(link_rows(links, delete=5), existing=25, abstract="Shorter list."),
    )

    assert page.status_code == 200
    assert '<input type="hidden" name="links-TOTAL_FORMS" value="25"' in page.content.decode()
    assert "this would make 21. Remove 1 link to save." in too_few_removed.content.decode()
    assert enough_removed.status_code == 302
    assert talk.links.count() == 20
    assert Talk.objects.get(pk=talk.pk).abstract == "Shorter list."


def test_link_cap_counts_links_saved_meanwhile_and_keeps_nothing(programme):
    talk = programme["keynote"].talk
    TalkLinkFactory.create_batch(18, talk=talk)
    data = edit_data(new_links(2), abstract="Changed.")
    form = TalkSpeakerForm(data, instance=talk)
    links = TalkLinkFormSet(data, instance=talk, prefix="links")
    assert form.is_valid() and links.is_valid()
    TalkLinkFactory(talk=talk, title="Saved from another tab")

    with pytest.raises(ValidationError, match="this would make 21"):
        save_speaker_edit(form=form, links=links, user=UserFactory())

    assert talk.links.count() == 19
    assert Talk.objects.get(pk=talk.pk).abstract == "An *abstract*."


def test_other_speaker_cannot_edit_talk(client, programme):
    other = SpeakerFactory(user=UserFactory(username="kofi"))
    client.force_login(other.user)

    get = client.get("/talks/choosing-metrics/edit/")
    post = client.post("/talks/choosing-metrics/edit/", {"abstract": "Mine now"})

    assert (get.status_code, post.status_code) == (403, 403)
    assert Talk.objects.get(slug="choosing-metrics").abstract == "An *abstract*."


def test_edit_page_of_an_unpublished_talk_is_not_found_to_non_editors(client, programme):
    Talk.objects.filter(slug="choosing-metrics").update(published=False)
    other = SpeakerFactory(user=UserFactory(username="kofi"))
    staff = UserFactory(username="staff", is_staff=True)
    statuses = []
    for user in [other.user, UserFactory(username="plain"), staff]:
        client.force_login(user)
        get = client.get("/talks/choosing-metrics/edit/")
        post = client.post("/talks/choosing-metrics/edit/", {"abstract": "Mine now"})
        statuses += [get.status_code, post.status_code]

    assert statuses == [404] * 6
    assert Talk.objects.get(slug="choosing-metrics").abstract == "An *abstract*."


def test_user_without_speaker_profile_cannot_edit_talk(client, programme):
    client.force_login(UserFactory())

    assert client.get("/talks/choosing-metrics/edit/").status_code == 403


def test_anonymous_edit_redirects_to_sign_in(client, programme):
    response = client.get("/talks/choosing-metrics/edit/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/talks/choosing-metrics/edit/"


@pytest.mark.parametrize("count", [10, 300])
@pytest.mark.parametrize(
    ("path", "queries"),
    # First render: the outline (versions), then in full what must be rendered.
    [("/schedule/", 9), ("/talks/", 6), ("/talks/talk-0/", 5)],
)
def test_pages_use_constant_queries(
    client, workshop, django_assert_num_queries, count, path, queries
):
    make_programme(workshop, count)
    RoomFactory()

    with django_assert_num_queries(queries):
        response = client.get(path)

    assert response.status_code == 200


def test_schedule_splits_days_at_the_viewers_midnight(client, workshop, programme, room):
    SlotFactory(
        workshop=workshop,
        room=room,
        talk=TalkFactory(title="After midnight in Tokyo"),
        start=at(workshop, 15),
        end=at(workshop, 15, 30),
    )

    html = client.get("/schedule/", {"tz": "Asia/Tokyo"}).content.decode()

    first = html.index('<h2 id="day-1"><time datetime="2030-12-02">Monday 2 December 2030</time>')
    second = html.index('<h2 id="day-2"><time datetime="2030-12-03">Tuesday 3 December 2030</time>')
    assert first < html.index("Choosing metrics") < second < html.index("After midnight in Tokyo")
    assert '<time datetime="2030-12-03T00:00:00+09:00">00:00</time>' in html


def test_schedule_with_clashing_rows_still_renders(client, workshop, room, other_room):
    # Rows written around validation (an import, a raw SQL fix) must not break the page.
    Slot.objects.bulk_create(
        [
            Slot(
                workshop=workshop,
                room=room,
                title="Long",
                start=at(workshop, 13),
                end=at(workshop, 15),
            ),
            Slot(
                workshop=workshop,
                room=None,
                title="Plenary",
                start=at(workshop, 13, 30),
                end=at(workshop, 14),
            ),
            Slot(
                workshop=workshop,
                room=room,
                title="Inside",
                start=at(workshop, 14),
                end=at(workshop, 14, 30),
            ),
            Slot(
                workshop=workshop,
                room=other_room,
                title="Late",
                start=at(workshop, 19),
                end=at(workshop, 20),
            ),
        ]
    )

    responses = [
        client.get(path)
        for path in ["/schedule/", "/schedule.xml", "/schedule.json", "/schedule.ics"]
    ]

    assert [response.status_code for response in responses] == [200, 200, 200, 200]
    assert "Long" in responses[0].content.decode()


@pytest.mark.parametrize("path", ["/schedule/", "/talks/", "/schedule/?tz=Asia/Tokyo"])
def test_pages_without_any_workshop_answer(client, db, path):
    response = client.get(path)

    assert response.status_code == 200
