"""The reviewers' pages in Chromium at 375 and 1280 px: the list and a review, with the
anonymised proposal; valid HTML, axe, no sideways scrolling, screenshots in
tests/artifacts/call/."""

import pytest
from django.conf import settings

from schedule.models import Call, Review
from tests.browser.audit import create_person, session_cookie, submit_proposal
from tests.browser.test_call_journey import WIDTHS, assert_valid_html, check_step
from tests.factories import OrganiserFactory, SpeakerFactory
from workshop.roles import REVIEWER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def context_options(request):
    return {"viewport": {"width": WIDTHS[request.param], "height": 900}}


def test_a_reviewer_scores_an_anonymised_proposal(page, live_server):
    Call.objects.update(anonymised_review=True)
    author = create_person("author")
    SpeakerFactory(user=author, name="Grace Okafor", published=False)
    proposal = submit_proposal(author)
    reviewer = OrganiserFactory(username="rita", email="rita@example.org", role=REVIEWER)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session_cookie(reviewer),
                "url": live_server.url,
            }
        ]
    )

    page.goto("/organisers/reviews/")
    check_step(page, "reviews")
    assert_valid_html(page, "reviews")
    page.get_by_role("link", name=proposal.talk.title).click()
    assert page.get_by_text("Authors are hidden in this review.").is_visible()
    check_step(page, "review")
    assert_valid_html(page, "review")
    page.get_by_label("4", exact=True).check()
    page.get_by_label("Comment").fill("Clear and useful.")
    page.get_by_role("button", name="Save the review").click()

    assert "Your review of" in page.locator(".messages").inner_text()
    review = Review.objects.get()
    assert (review.reviewer, review.score, review.comment) == (reviewer, 4, "Clear and useful.")
