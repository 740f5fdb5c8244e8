import pytest
from django.contrib.auth.models import Permission

from schedule.models import Slot, Talk
from tests.factories import (
    OrganiserFactory,
    RoomFactory,
    SlotFactory,
    SpeakerFactory,
    TalkFactory,
    TalkLinkFactory,
    UserFactory,
)
from tests.schedule.conftest import at
from workshop.roles import PROGRAMME

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/admin/schedule/talk/?q=metrics", "Choosing metrics"),
        ("/admin/schedule/talk/?kind__exact=talk&published__exact=1", "Honest splits"),
        ("/admin/schedule/talk/?track=Metrics", "Choosing metrics"),
        ("/admin/schedule/slot/?day=2030-12-02", "Choosing metrics"),
        ("/admin/schedule/slot/?room__id__exact={room}", "Mon 2 Dec 13:10–13:40 UTC"),
        ("/admin/schedule/slot/?day=not-a-day", "0 slots"),
        ("/admin/schedule/room/", "Hands-on stage"),
    ],
)
def test_admin_lists_search_and_filter(organiser_client, programme, room, path, expected):
    response = organiser_client.get(path.format(room=room.pk))

    assert response.status_code == 200
    assert expected in response.content.decode()


def test_admin_talk_form_has_slot_inline_links_and_view_on_site(organiser_client, programme):
    talk = programme["keynote"].talk

    html = organiser_client.get(f"/admin/schedule/talk/{talk.pk}/change/").content.decode()

    assert "Place in the schedule" in html
    assert "View on site" in html
    assert 'class="admin-autocomplete"' in html and 'data-field-name="speakers"' in html


def test_admin_room_form_places_talks_inline(organiser_client, programme, room):
    html = organiser_client.get(f"/admin/schedule/room/{room.pk}/change/").content.decode()

    assert "Choosing metrics" in html
    assert 'name="slots-0-start_0"' in html


def test_admin_slot_form_refuses_overlap_with_named_slot(
    organiser_client, workshop, programme, room
):
    response = organiser_client.post(
        "/admin/schedule/slot/add/",
        {
            "workshop": workshop.pk,
            "start_0": "2030-12-02",
            "start_1": "13:20",
            "end_0": "2030-12-02",
            "end_1": "13:50",
            "room": room.pk,
            "title": "Intruder",
        },
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Overlaps “Choosing metrics (Mon 2 Dec 13:10–13:40 UTC, Main stage)”." in html
    assert not Slot.objects.filter(title="Intruder").exists()


def test_admin_swap_action_swaps_two_talks(organiser_client, programme):
    keynote, second = programme["keynote"], programme["second"]

    response = organiser_client.post(
        "/admin/schedule/slot/",
        {"action": "swap_talks", "_selected_action": [keynote.pk, second.pk]},
        follow=True,
    )

    keynote.refresh_from_db()
    assert "Swapped: “Honest splits” and “Choosing metrics” have changed places." in (
        response.content.decode()
    )
    assert keynote.talk.slug == "honest-splits"


def test_admin_swap_action_needs_exactly_two_slots(organiser_client, programme):
    response = organiser_client.post(
        "/admin/schedule/slot/",
        {"action": "swap_talks", "_selected_action": [programme["keynote"].pk]},
        follow=True,
    )

    assert "Select exactly two slots to swap." in response.content.decode()


def test_admin_swap_action_reports_clash(organiser_client, workshop, room, other_room):
    person = SpeakerFactory(name="Mei Tanaka")
    first = SlotFactory(
        workshop=workshop,
        room=room,
        talk=TalkFactory(title="A", speakers=[person]),
        start=at(workshop, 13),
    )
    second = SlotFactory(
        workshop=workshop, room=room, talk=TalkFactory(title="B"), start=at(workshop, 14)
    )
    SlotFactory(
        workshop=workshop,
        room=other_room,
        talk=TalkFactory(title="C", speakers=[person]),
        start=at(workshop, 14),
    )

    response = organiser_client.post(
        "/admin/schedule/slot/",
        {"action": "swap_talks", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )

    assert "Not swapped: A: Mei Tanaka also speaks in" in response.content.decode()
    first.refresh_from_db()
    assert first.talk.title == "A"


def test_admin_duplicate_action(organiser_client, programme):
    response = organiser_client.post(
        "/admin/schedule/slot/",
        {
            "action": "duplicate_slots",
            "_selected_action": [programme["break"].pk, programme["welcome"].pk],
        },
        follow=True,
    )

    html = response.content.decode()
    assert "Added “Break (Mon 2 Dec 14:00–14:20 UTC, all rooms)”." in html
    assert "Not duplicated “Welcome (Mon 2 Dec 13:00–13:10 UTC, all rooms)”: Overlaps" in html
    assert Slot.objects.filter(title="Break").count() == 2


def test_admin_schedule_check_lists_problems_and_is_linked(organiser_client, workshop, programme):
    TalkFactory(title="Forgotten talk")

    changelist = organiser_client.get("/admin/schedule/slot/").content.decode()
    response = organiser_client.get("/admin/schedule/slot/check/")

    html = response.content.decode()
    assert '<a href="/admin/schedule/slot/check/">Schedule check</a>' in changelist
    assert response.status_code == 200
    assert "1 problem in the schedule of" in html
    assert "“Forgotten talk” is published but has no slot." in html
    assert "Edit talk</a>" in html


def test_admin_schedule_check_of_clean_schedule(organiser_client, workshop, programme):
    html = organiser_client.get("/admin/schedule/slot/check/").content.decode()

    assert "No problems found in the schedule of" in html


def test_admin_schedule_check_is_staff_only(client, workshop):
    client.force_login(UserFactory())

    response = client.get("/admin/schedule/slot/check/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_talk_filter_by_scheduled(organiser_client, programme):
    TalkFactory(title="Waiting talk")

    scheduled = organiser_client.get("/admin/schedule/talk/?scheduled=yes").content.decode()
    waiting = organiser_client.get("/admin/schedule/talk/?scheduled=no").content.decode()

    assert "Choosing metrics" in scheduled and "Waiting talk" not in scheduled
    assert "Waiting talk" in waiting and "Choosing metrics" not in waiting


def test_admin_new_slot_defaults_to_current_workshop(organiser_client, workshop):
    html = organiser_client.get("/admin/schedule/slot/add/").content.decode()

    assert f'<option value="{workshop.pk}" selected>' in html


def test_admin_room_inline_adds_slot_for_current_workshop(organiser_client, workshop, room):
    prefix = "slots"
    response = organiser_client.post(
        f"/admin/schedule/room/{room.pk}/change/",
        {
            "name": room.name,
            "position": room.position,
            "stream_url": "",
            "description": "",
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-0-workshop": workshop.pk,
            f"{prefix}-0-start_0": "2030-12-02",
            f"{prefix}-0-start_1": "15:00",
            f"{prefix}-0-end_0": "2030-12-02",
            f"{prefix}-0-end_1": "15:30",
            f"{prefix}-0-talk": TalkFactory(title="Placed quickly").pk,
            f"{prefix}-0-title": "",
        },
    )

    assert response.status_code == 302
    assert Slot.objects.get(talk__title="Placed quickly").room == room


def talk_form(talk, slot, workshop, **changes):
    data = {
        "title": talk.title,
        "slug": talk.slug,
        "kind": talk.kind,
        "abstract": talk.abstract,
        "description": "",
        "speakers": [],
        "track": talk.track,
        "level": "",
        "language": "en",
        "slides_url": "",
        "video_url": "",
        "published": "on",
        "slot-TOTAL_FORMS": "1",
        "slot-INITIAL_FORMS": "1",
        "slot-0-id": slot.pk,
        "slot-0-talk": talk.pk,
        "slot-0-workshop": workshop.pk,
        "slot-0-start_0": "2030-12-02",
        "slot-0-start_1": "13:10",
        "slot-0-end_0": "2030-12-02",
        "slot-0-end_1": "13:40",
        "slot-0-room": slot.room.pk,
        "links-TOTAL_FORMS": "0",
        "links-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_admin_adding_busy_speaker_to_scheduled_talk_is_refused(
    organiser_client, workshop, programme, speaker
):
    talk = programme["second"].talk  # at the same time as the keynote of ``speaker``

    response = organiser_client.post(
        f"/admin/schedule/talk/{talk.pk}/change/",
        talk_form(talk, programme["second"], workshop, speakers=[speaker.pk]),
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Ada Lindqvist also speaks in “Choosing metrics (Mon 2 Dec 13:10–13:40 UTC" in html
    assert list(talk.speakers.all()) == []


def test_admin_talk_change_with_slot_inline_saves(organiser_client, workshop, programme):
    talk = programme["second"].talk

    response = organiser_client.post(
        f"/admin/schedule/talk/{talk.pk}/change/",
        talk_form(talk, programme["second"], workshop, title="Honest splits, revised"),
    )

    talk.refresh_from_db()
    assert response.status_code == 302
    assert talk.title == "Honest splits, revised"


def test_admin_link_inline_keeps_the_link_cap(organiser_client, workshop, programme):
    talk = programme["second"].talk
    TalkLinkFactory.create_batch(20, talk=talk)
    extra = {"links-TOTAL_FORMS": "1", "links-INITIAL_FORMS": "0"}
    extra.update({"links-0-title": "One more", "links-0-url": "https://example.org/x"})
    extra.update({"links-0-kind": "web", "links-0-position": "0"})

    response = organiser_client.post(
        f"/admin/schedule/talk/{talk.pk}/change/",
        talk_form(talk, programme["second"], workshop, **extra),
    )

    assert response.status_code == 200
    assert "A talk has at most 20 links; this would make 21." in response.content.decode()
    assert talk.links.count() == 20


def new_talk_form(workshop, room, speakers, start="13:10", end="13:40", **changes):
    """Return the talk add form's data with a place in the schedule (the inline)."""
    data = {
        "title": "A talk in a busy hour",
        "slug": "busy-hour",
        "kind": "talk",
        "abstract": "",
        "description": "",
        "speakers": [speaker.pk for speaker in speakers],
        "track": "",
        "level": "",
        "language": "en",
        "slides_url": "",
        "video_url": "",
        "slot-TOTAL_FORMS": "1",
        "slot-INITIAL_FORMS": "0",
        "slot-0-workshop": workshop.pk,
        "slot-0-start_0": "2030-12-02",
        "slot-0-start_1": start,
        "slot-0-end_0": "2030-12-02",
        "slot-0-end_1": end,
        "slot-0-room": room.pk,
        "links-TOTAL_FORMS": "0",
        "links-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def row_errors(html):
    """Return the errors shown above the inline's slot row (its non-field errors)."""
    start = html.find('<tr class="row-form-errors">')
    return html[start : html.find("</tr>", start)] if start >= 0 else ""


KEYNOTE_CLASH = (
    "Ada Lindqvist also speaks in “Choosing metrics (Mon 2 Dec 13:10–13:40 UTC, Main stage)”"
    " at the same time."
)


def test_admin_adding_talk_with_slot_refuses_busy_speaker(
    organiser_client, workshop, programme, speaker
):
    free_room = RoomFactory(name="Third stage")  # free at 13:10: only the speaker is busy

    response = organiser_client.post(
        "/admin/schedule/talk/add/", new_talk_form(workshop, free_room, [speaker])
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert KEYNOTE_CLASH in row_errors(html)
    assert not Talk.objects.filter(slug="busy-hour").exists()


def test_admin_adding_talk_with_slot_at_a_free_time_saves(
    organiser_client, workshop, programme, speaker
):
    response = organiser_client.post(
        "/admin/schedule/talk/add/",
        new_talk_form(workshop, programme["keynote"].room, [speaker], start="14:00", end="14:30"),
    )

    talk = Talk.objects.get(slug="busy-hour")
    assert response.status_code == 302
    assert list(talk.speakers.all()) == [speaker]
    assert talk.slot.start == at(workshop, 14)


def test_admin_moving_slot_of_talk_into_speaker_clash_shows_error_on_the_row(
    organiser_client, workshop, programme, speaker
):
    talk = TalkFactory(title="Later talk", slug="later", speakers=[speaker])
    slot = SlotFactory(
        workshop=workshop,
        room=programme["second"].room,
        talk=talk,
        start=at(workshop, 14),
        end=at(workshop, 14, 30),
    )
    programme["second"].delete()

    response = organiser_client.post(
        f"/admin/schedule/talk/{talk.pk}/change/",
        talk_form(talk, slot, workshop, speakers=[speaker.pk]),  # the form moves it to 13:10
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert KEYNOTE_CLASH in row_errors(html)
    slot.refresh_from_db()
    assert slot.start == at(workshop, 14)


def test_admin_new_speakers_and_new_time_are_checked_together(
    organiser_client, workshop, programme, speaker
):
    talk = TalkFactory(title="Later talk", slug="later", speakers=[SpeakerFactory()])
    slot = SlotFactory(
        workshop=workshop,
        room=programme["second"].room,
        talk=talk,
        start=at(workshop, 14),
        end=at(workshop, 14, 30),
    )
    programme["second"].delete()

    response = organiser_client.post(
        f"/admin/schedule/talk/{talk.pk}/change/",
        talk_form(talk, slot, workshop, speakers=[speaker.pk]),
    )

    assert response.status_code == 200
    assert KEYNOTE_CLASH in row_errors(response.content.decode())
    assert speaker not in talk.speakers.all()


def test_admin_replacing_the_clashing_speaker_saves(organiser_client, workshop, programme, speaker):
    talk = programme["second"].talk
    talk.speakers.set([speaker])  # a clash from before the check existed
    stand_in = SpeakerFactory(name="Bo Stand-in")

    response = organiser_client.post(
        f"/admin/schedule/talk/{talk.pk}/change/",
        talk_form(talk, programme["second"], workshop, speakers=[stand_in.pk]),
    )

    assert response.status_code == 302
    assert list(talk.speakers.all()) == [stand_in]


def test_admin_leaving_the_speaker_of_a_moved_talk_behind_saves(
    organiser_client, workshop, programme, speaker
):
    talk = TalkFactory(title="Later talk", slug="later", speakers=[speaker])
    slot = SlotFactory(
        workshop=workshop,
        room=programme["second"].room,
        talk=talk,
        start=at(workshop, 14),
        end=at(workshop, 14, 30),
    )
    programme["second"].delete()

    response = organiser_client.post(
        f"/admin/schedule/talk/{talk.pk}/change/",
        talk_form(talk, slot, workshop, speakers=[]),  # moved to 13:10 without Ada
    )

    slot.refresh_from_db()
    assert response.status_code == 302
    assert slot.start == at(workshop, 13, 10)


def test_admin_speakers_of_a_talk_without_its_slot_on_the_page_are_checked(
    client, workshop, programme, speaker
):
    # The programme role without the slot permissions: the page has no slot inline.
    editor = OrganiserFactory(role=PROGRAMME)
    editor.groups.get().permissions.remove(*Permission.objects.filter(codename__endswith="_slot"))
    client.force_login(editor)
    talk = programme["second"].talk
    data = talk_form(talk, programme["second"], workshop, speakers=[speaker.pk])

    response = client.post(f"/admin/schedule/talk/{talk.pk}/change/", data)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="slot-TOTAL_FORMS"' not in html
    assert KEYNOTE_CLASH in html
    assert list(talk.speakers.all()) == []
