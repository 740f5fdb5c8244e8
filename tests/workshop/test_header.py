"""The header's links for the signed-in: their tickets, their speaker profile, the organisers'
pages; each shown only to whom it serves."""

import pytest

from tests.factories import SpeakerFactory, UserFactory

pytestmark = pytest.mark.django_db

MY_TICKETS = '<a href="/tickets/mine/">My tickets</a>'
MY_PROFILE = '<a href="/speakers/me/">My speaker profile</a>'
ORGANISERS = '<a href="/organisers/">Organisers</a>'


def header_of(response):
    html = response.content.decode()
    return html[html.index('<header class="site-header">') : html.index("</header>")]


def test_visitor_sees_sign_in_and_no_personal_links(client, workshop):
    header = header_of(client.get("/"))

    assert '<a href="/accounts/login/">Sign in</a>' in header
    for link in (MY_TICKETS, MY_PROFILE, ORGANISERS):
        assert link not in header


def test_attendee_sees_my_tickets_only(client, workshop):
    client.force_login(UserFactory())

    header = header_of(client.get("/"))

    assert MY_TICKETS in header
    assert MY_PROFILE not in header
    assert ORGANISERS not in header
    assert "Sign out" in header


def test_speaker_sees_their_profile(client, workshop):
    user = UserFactory()
    SpeakerFactory(user=user)
    client.force_login(user)

    header = header_of(client.get("/talks/"))

    assert MY_TICKETS in header
    assert MY_PROFILE in header
    assert ORGANISERS not in header


def test_staff_see_the_organisers_pages(organiser_client, workshop):
    header = header_of(organiser_client.get("/"))

    assert MY_TICKETS in header
    assert ORGANISERS in header
    assert 'href="/admin/"' not in header  # the dashboard links the admin


def test_current_page_is_marked(client, workshop):
    user = UserFactory()
    SpeakerFactory(user=user)
    client.force_login(user)

    tickets = header_of(client.get("/tickets/mine/"))
    profile = header_of(client.get("/speakers/me/"))

    assert '<a href="/tickets/mine/" aria-current="page">My tickets</a>' in tickets
    assert '<a href="/speakers/me/" aria-current="page">My speaker profile</a>' in profile


def test_header_links_cost_one_query(client, workshop, django_assert_num_queries):
    client.force_login(UserFactory())

    # Workshop, footer pages, session, user, whether the person has a speaker profile (the
    # organisers' link needs none: is_staff is on the user), the privacy link under the form.
    with django_assert_num_queries(6):
        response = client.get("/tickets/resend/")

    assert MY_TICKETS in header_of(response)
