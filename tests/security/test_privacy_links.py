"""Every form that collects personal data links the privacy page, when there is one."""

import pytest
from django.core.management import call_command

from tests.factories import PageFactory, SpeakerFactory, TicketTypeFactory
from tests.security.conftest import verified_user
from workshop.models import Page

pytestmark = pytest.mark.django_db

LINK = '<p class="privacy-note">How we use your data: <a href="/privacy/">Privacy</a>.</p>'


@pytest.fixture
def privacy_page(workshop):
    return PageFactory(slug="privacy", title="Privacy", published=True)


@pytest.fixture
def signed_in(client):
    user = verified_user(username="ada", email="ada@example.org")
    client.force_login(user)
    return user


def form_pages(client, workshop, signed_in, invited):
    """Return {name: html} of every page with a form that collects personal data."""
    pages = {}
    SpeakerFactory(slug="ada-speaker", user=signed_in)
    ticket_type = TicketTypeFactory(workshop=workshop, price="0.00")
    pages["checkout"] = client.get(f"/tickets/checkout/?qty_{ticket_type.id}=1")
    pages["resend links"] = client.get("/tickets/resend/")
    pages["speaker profile"] = client.get("/speakers/me/")
    pages["account data"] = client.get("/accounts/data/")
    _, token = invited
    client.get(f"/speakers/invitation/{token}/")
    pages["invitation claim"] = client.get("/speakers/invitation/")
    client.logout()
    pages["sign up"] = client.get("/accounts/signup/")
    for name, response in pages.items():
        assert response.status_code == 200, name
    return {name: response.content.decode() for name, response in pages.items()}


def test_every_personal_data_form_links_the_privacy_page(
    client, workshop, privacy_page, signed_in, invited
):
    pages = form_pages(client, workshop, signed_in, invited)

    missing = [name for name, html in pages.items() if 'href="/privacy/"' not in html]
    assert missing == []
    assert all(LINK in html for name, html in pages.items() if name != "checkout")


def test_no_privacy_link_without_a_published_privacy_page(client, workshop, signed_in, invited):
    PageFactory(slug="privacy", title="Privacy", published=False)

    pages = form_pages(client, workshop, signed_in, invited)

    assert [name for name, html in pages.items() if "privacy-note" in html] == []


def test_privacy_link_costs_one_query_per_page(client, privacy_page, django_assert_num_queries):
    from django.template import Context, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    template = Template("{% load privacy_tags %}{% privacy_link %}{% privacy_link %}")

    with django_assert_num_queries(1):
        html = template.render(Context({"request": request}))

    assert html == LINK * 2


def test_demo_creates_published_privacy_page(workshop):
    call_command("load_demo", stdout=None)

    page = Page.objects.get(slug="privacy")
    assert page.published
    assert "Your data" in page.body
    assert "90 days after the workshop ends" in page.body
