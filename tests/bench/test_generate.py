"""manage.py generate_bench_data: exact counts at the small size, the same rows every run."""

import pytest
from django.core.management import CommandError, call_command

from schedule.models import Room, Slot, Talk
from schedule.services import find_schedule_problems
from speakers.models import Speaker
from tickets.models import Order, Ticket, TicketType
from workshop.models import Workshop

pytestmark = pytest.mark.django_db


def snapshot():
    """Return the generated content that must not change between runs (not timestamps)."""
    return {
        "talks": list(Talk.objects.order_by("slug").values_list("slug", "title", "abstract")),
        "speakers": list(Speaker.objects.order_by("slug").values_list("slug", "name", "bio")),
        "slots": list(
            Slot.objects.order_by("start", "room__name").values_list(
                "start", "room__name", "talk__slug"
            )
        ),
        "orders": list(
            Order.objects.order_by("code").values_list("code", "secret", "status", "total")
        ),
        "tickets": list(Ticket.objects.order_by("code").values_list("code", "ticket_type__name")),
    }


def test_small_size_creates_the_exact_counts():
    call_command("generate_bench_data", size="small")

    workshop = Workshop.objects.get()
    assert workshop.is_current
    assert Talk.objects.published().count() == 20
    assert Speaker.objects.published().count() == 20
    assert Order.objects.count() == 200
    assert Room.objects.count() == 2
    # Every talk has a slot, plus a welcome and a lunch break on the one day.
    assert Slot.objects.filter(talk__isnull=False).count() == 20
    assert Slot.objects.filter(talk__isnull=True).count() == 2
    assert Ticket.objects.count() >= 200
    assert not Order.objects.filter(tickets__isnull=True).exists()
    assert TicketType.objects.filter(visible=True).count() == 3


def test_generated_schedule_has_no_clashes_and_long_bios():
    call_command("generate_bench_data", size="small")

    workshop = Workshop.objects.get()
    assert [p for p in find_schedule_problems(workshop) if p.kind != "gap"] == []
    assert min(len(bio) for bio in Speaker.objects.values_list("bio", flat=True)) > 1000


def test_same_seed_gives_the_same_data_and_flush_replaces_it():
    call_command("generate_bench_data", size="small")
    first = snapshot()

    call_command("generate_bench_data", size="small", flush=True)

    assert snapshot() == first
    assert Workshop.objects.count() == 1
    assert Order.objects.count() == 200


def test_another_seed_gives_other_data():
    call_command("generate_bench_data", size="small")
    first = snapshot()

    call_command("generate_bench_data", size="small", seed=7, flush=True)

    assert snapshot()["orders"] != first["orders"]


def test_refuses_a_database_with_content_without_flush():
    Workshop.objects.create(
        title="Real", slug="real", starts_at="2030-01-01T09:00Z", ends_at="2030-01-01T17:00Z"
    )

    with pytest.raises(CommandError, match="use --flush"):
        call_command("generate_bench_data", size="small")

    assert Talk.objects.count() == 0


def test_public_pages_render_with_the_generated_data(client):
    call_command("generate_bench_data", size="small")

    for path in [
        "/",
        "/schedule/",
        "/talks/",
        "/talks/talk-0/",
        "/speakers/",
        "/tickets/",
        "/schedule.xml",
        "/schedule.json",
        "/schedule.ics",
    ]:
        assert client.get(path).status_code == 200, path
