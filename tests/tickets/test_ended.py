"""A workshop that has ended sells nothing and shows its talks, slides and videos as a record."""

import datetime as dt

import pytest
from django.core.cache import cache

from tests.factories import SlotFactory, SpeakerFactory, TalkFactory, WorkshopFactory
from tests.tickets.conftest import BUYER, people
from tickets.models import Order
from tickets.services import lifecycle
from tickets.services.errors import OrderError

pytestmark = pytest.mark.django_db

CLOSED = "Ticket sales have closed: the workshop took place on 2 December 2022."


@pytest.fixture
def workshop(db):
    """The seed workshop as it was held: 2 December 2022."""
    return WorkshopFactory(
        starts_at=dt.datetime(2022, 12, 2, 13, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2022, 12, 2, 18, 0, tzinfo=dt.UTC),
    )


def checkout_data(ticket_type):
    return {
        f"qty_{ticket_type.id}": "1",
        "buyer_name": "Ada Buyer",
        "buyer_email": "ada@example.org",
        "attendee_1_name": "Ada",
        "attendee_1_email": "ada@example.org",
        "payment_method": "invoice",
        "invoice_details": "Example Street 1",
        "accept_code_of_conduct": "on",
    }


def test_create_order_refuses_once_the_workshop_has_ended(workshop, free_type):
    with pytest.raises(OrderError) as error:
        lifecycle.create_order(
            workshop=workshop,
            ticket_counts={free_type.id: 1},
            buyer=BUYER,
            attendees=people(1),
            payment_method="free",
        )

    assert str(error.value) == CLOSED
    assert not Order.objects.exists()


def test_create_order_still_sells_while_the_workshop_runs(workshop, free_type):
    workshop.ends_at = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    workshop.starts_at = workshop.ends_at - dt.timedelta(hours=5)
    workshop.save()

    order = lifecycle.create_order(
        workshop=workshop,
        ticket_counts={free_type.id: 1},
        buyer=BUYER,
        attendees=people(1),
        payment_method="free",
    )

    assert order.status == Order.Status.PAID


def test_checkout_page_sends_back_to_tickets_with_the_reason(client, workshop, paid_type):
    response = client.get(f"/tickets/checkout/?qty_{paid_type.id}=1", follow=True)

    assert response.redirect_chain == [("/tickets/", 302)]
    assert CLOSED in response.content.decode()


def test_checkout_post_places_no_order(client, workshop, paid_type):
    response = client.post("/tickets/checkout/", checkout_data(paid_type))

    assert response.status_code == 302
    assert response["Location"] == "/tickets/"
    assert not Order.objects.exists()


def test_ticket_page_says_sales_closed_and_offers_nothing(client, workshop, paid_type):
    html = client.get("/tickets/").content.decode()

    assert (
        f'<p class="message sales-closed">{CLOSED} The <a href="/talks/">talks</a>, with their '
        "slides and videos, stay online.</p>"
    ) in html
    assert 'class="ticket-form"' not in html
    assert 'class="voucher-form"' not in html
    assert paid_type.name not in html


def test_home_says_it_took_place_and_lists_the_record(client, workshop):
    speaker = SpeakerFactory(name="Ada Lindqvist", slug="ada")
    first = TalkFactory(
        title="Choosing metrics",
        slug="metrics",
        speakers=[speaker],
        slides_url="https://example.org/slides.pdf",
        video_url="https://example.org/video",
    )
    SlotFactory(workshop=workshop, talk=first)
    TalkFactory(title="A talk without a slot", slug="unscheduled")
    TalkFactory(title="A draft", slug="draft", published=False)

    html = client.get("/").content.decode()

    assert "Took place on <time" in html
    assert "Get your ticket" not in html
    assert '<a class="button" href="/talks/">See the talks</a>' in html
    assert '<h2 id="record-heading">Talks, slides and videos</h2>' in html
    assert '<a href="/talks/metrics/">Choosing metrics</a> by <a href="/speakers/ada/">' in html
    assert (
        '<a href="https://example.org/slides.pdf">Slides<span class="visually-hidden"> of '
        "“Choosing metrics”</span></a>"
    ) in html
    assert (
        '<a href="https://example.org/video">Video<span class="visually-hidden"> of '
        "“Choosing metrics”</span></a>"
    ) in html
    assert html.index("/talks/metrics/") < html.index("/talks/unscheduled/")
    assert "A draft" not in html


def test_home_of_a_coming_workshop_sells_tickets(client):
    WorkshopFactory()

    html = client.get("/").content.decode()

    assert '<a class="button" href="/tickets/">Get your ticket</a>' in html
    assert "Took place" not in html
    assert "record-heading" not in html


@pytest.mark.parametrize("count", [3, 30])
def test_home_record_queries_are_constant(client, workshop, django_assert_num_queries, count):
    for number in range(count):
        talk = TalkFactory(slug=f"talk-{number}", speakers=[SpeakerFactory(), SpeakerFactory()])
        SlotFactory(
            workshop=workshop,
            talk=talk,
            start=workshop.starts_at + dt.timedelta(minutes=5 * number),
            end=workshop.starts_at + dt.timedelta(minutes=5 * number + 5),
        )
    cache.clear()

    # Workshop, menu pages, supporters, talks with slots, their speakers, their links.
    with django_assert_num_queries(6):
        response = client.get("/")

    assert response.content.decode().count('<a href="/talks/talk-') == count
