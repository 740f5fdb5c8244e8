"""Every admin field has an accessible name: tabular cells, list-editable columns, split
date-times and delete boxes (workshop/admin_labels.py). The browser suite runs axe on the same
pages (tests/browser/test_admin_pages.py)."""

import re

from django.contrib import admin

from tests.factories import SlotFactory, SpeakerFactory, TalkFactory, TicketTypeFactory
from workshop.admin_labels import LabelledFieldsMixin


def aria_label(html, element_id):
    tag = re.search(rf'<(?:input|select|textarea)[^>]*\bid="{element_id}"[^>]*>', html)
    assert tag, f"no field #{element_id}"
    label = re.search(r'aria-label="([^"]*)"', tag.group(0))
    return label.group(1) if label else None


def test_every_registered_admin_names_its_fields():
    unnamed = [
        type(model_admin).__name__
        for model_admin in admin.site._registry.values()
        if not isinstance(model_admin, LabelledFieldsMixin)
    ]
    assert unnamed == []


def test_talk_page_names_its_inline_cells_and_date_times(organiser_client, workshop):
    talk = TalkFactory(speakers=[SpeakerFactory()])
    SlotFactory(workshop=workshop, talk=talk)

    html = organiser_client.get(f"/admin/schedule/talk/{talk.pk}/change/").content.decode()

    assert aria_label(html, "id_slot-0-start_0") == "Start (place in the schedule 1), date"
    assert aria_label(html, "id_slot-0-start_1") == "Start (place in the schedule 1), time"
    assert aria_label(html, "id_slot-0-room") == "Room (place in the schedule 1)"
    assert aria_label(html, "id_slot-0-DELETE") == "Delete (place in the schedule 1)"
    assert aria_label(html, "id_links-0-url") == "URL (talk link 1)"
    assert aria_label(html, "id_links-__prefix__-url") == "URL (new talk link)"
    # The talk's own fields keep their visible <label for> as their name.
    assert aria_label(html, "id_title") is None


def test_split_date_times_of_the_main_form_are_named(organiser_client, workshop):
    ticket_type = TicketTypeFactory(workshop=workshop)

    url = f"/admin/tickets/tickettype/{ticket_type.pk}/change/"
    html = organiser_client.get(url).content.decode()

    assert aria_label(html, "id_sale_starts_at_0").endswith(", date")
    assert aria_label(html, "id_sale_starts_at_1").endswith(", time")


def test_list_editable_columns_are_named(organiser_client, workshop):
    TalkFactory(published=True, title="Choosing metrics")

    html = organiser_client.get("/admin/schedule/talk/").content.decode()

    assert aria_label(html, "id_form-0-published") == "Published (Choosing metrics)"


def test_talks_without_a_track_are_filtered_by_a_named_link(organiser_client, workshop):
    TalkFactory(track="")
    TalkFactory(track="Metrics")

    html = organiser_client.get("/admin/schedule/talk/").content.decode()

    assert re.search(r'<a href="\?track=">\s*None\s*</a>', html)
