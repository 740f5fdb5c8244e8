"""The call's pages that refuse or ask, in Chromium at 375 and 1280 px: an author's edit and
withdraw pages, a confirmation with nothing to confirm, and a reviewer's own proposal. Valid
HTML, axe, no script, no sideways scrolling; screenshots in tests/artifacts/call/."""

import pytest
from django.conf import settings

from schedule.models import Proposal, Review
from tests.browser.audit import create_person, session_cookie, submit_proposal
from tests.browser.test_call_journey import WIDTHS, assert_valid_html, check_step
from tests.factories import OrganiserFactory, SpeakerFactory
from workshop.roles import REVIEWER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def context_options(request):
    return {"viewport": {"width": WIDTHS[request.param], "height": 900}}


def sign_in(page, live_server, user):
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": session_cookie(user)}
    page.context.add_cookies([{**cookie, "url": live_server.url}])


def test_an_author_edits_withdraws_and_has_nothing_to_confirm(page, live_server):
    author = create_person("author")
    SpeakerFactory(user=author, name="Grace Okafor", published=False)
    proposal = submit_proposal(author)
    sign_in(page, live_server, author)

    page.goto(f"/call/proposals/{proposal.code}/edit/")
    check_step(page, "edit")
    assert_valid_html(page, "edit")
    response = page.goto(f"/call/proposals/{proposal.code}/confirm/")
    assert response.status == 409
    assert "so there is nothing to confirm" in page.locator("main").inner_text()
    check_step(page, "nothing-to-confirm")
    assert_valid_html(page, "nothing-to-confirm")
    page.goto(f"/call/proposals/{proposal.code}/withdraw/")
    check_step(page, "withdraw")
    assert_valid_html(page, "withdraw")
    page.get_by_role("button", name="Withdraw the proposal").click()

    assert Proposal.objects.get().state == Proposal.State.WITHDRAWN
    assert page.locator(".proposal-state").inner_text() == "State: Withdrawn"
    check_step(page, "withdrawn")


def test_a_reviewer_is_told_they_cannot_review_their_own_proposal(page, live_server):
    reviewer = OrganiserFactory(username="rita", email="rita@example.org", role=REVIEWER)
    SpeakerFactory(user=reviewer, name="Rita Mensah", published=False)
    proposal = submit_proposal(reviewer)
    sign_in(page, live_server, reviewer)

    response = page.goto(f"/organisers/reviews/{proposal.code}/")

    assert response.status == 403
    assert "you cannot review it" in page.locator("main").inner_text()
    check_step(page, "review-own")
    assert_valid_html(page, "review-own")
    assert Review.objects.count() == 0
