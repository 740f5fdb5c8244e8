"""Reviewers' pages, and the organisers' ranking and decisions in the admin."""

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from schedule.models import Proposal, Review
from tests.factories import (
    OrganiserFactory,
    ProposalFactory,
    SpeakerFactory,
    TalkFactory,
)
from workshop.roles import PROGRAMME, REVIEWER

pytestmark = pytest.mark.django_db


def main_of(response):
    return response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]


@pytest.fixture
def reviewer(db):
    return OrganiserFactory(username="rita", email="rita@example.org", role=REVIEWER)


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.fixture
def proposal(call):
    author = SpeakerFactory(
        name="Grace Okafor", affiliation="Example Lab", email="grace@example.org", published=False
    )
    return ProposalFactory(
        call=call,
        code="ABCD2345",
        submission_type=call.submission_types.get(name="Talk"),
        talk=TalkFactory(title="Honest baselines", published=False, track="Metrics"),
        notes="I am Grace from Example Lab.",
        authors=[author],
    )


def test_reviewers_list_the_proposals_but_their_own(reviewer_client, reviewer, call, proposal):
    ProposalFactory(
        call=call,
        talk=TalkFactory(title="My own idea", published=False),
        authors=[SpeakerFactory(user=reviewer)],
    )

    html = main_of(reviewer_client.get("/organisers/reviews/"))

    assert '<a href="/organisers/reviews/ABCD2345/">Honest baselines</a>' in html
    assert "not reviewed yet" in html
    assert "My own idea" not in html


def test_the_list_filters_by_type_and_track(reviewer_client, call, proposal):
    poster = call.submission_types.get(name="Poster")
    pipelines = call.tracks.get(name="Pipelines")

    by_type = main_of(reviewer_client.get(f"/organisers/reviews/?type={poster.pk}"))
    by_track = main_of(reviewer_client.get(f"/organisers/reviews/?track={pipelines.pk}"))
    bad = reviewer_client.get("/organisers/reviews/?type=99999999999999999999&track=x")

    assert "Honest baselines" not in by_type
    assert "Honest baselines" not in by_track
    assert bad.status_code == 200
    assert "Honest baselines" in main_of(bad)


def test_a_review_page_shows_the_proposal_and_takes_a_score(reviewer_client, reviewer, proposal):
    page = main_of(reviewer_client.get("/organisers/reviews/ABCD2345/"))
    response = reviewer_client.post(
        "/organisers/reviews/ABCD2345/", {"score": "4", "comment": "Clear."}, follow=True
    )

    assert "By Grace Okafor (Example Lab)" in page
    assert "I am Grace from Example Lab." in page
    assert 'name="score" value="5"' in page
    assert response.redirect_chain == [("/organisers/reviews/", 302)]
    assert "Your review of “Honest baselines” is saved." in main_of(response)
    assert Review.objects.get().score == 4
    assert list(Review.objects.values_list("reviewer", "comment")) == [(reviewer.pk, "Clear.")]


def test_an_anonymised_review_hides_the_authors_and_their_notes(reviewer_client, call, proposal):
    call.anonymised_review = True
    call.save()

    html = main_of(reviewer_client.get("/organisers/reviews/ABCD2345/"))

    assert "Authors are hidden in this review." in html
    assert "Grace" not in html
    assert "Example Lab" not in html


def test_a_reviewer_cannot_open_their_own_proposal(reviewer_client, reviewer, call):
    ProposalFactory(
        call=call,
        code="MINE2345",
        talk=TalkFactory(title="My own idea", published=False),
        authors=[SpeakerFactory(user=reviewer)],
    )

    page = reviewer_client.get("/organisers/reviews/MINE2345/")
    post = reviewer_client.post("/organisers/reviews/MINE2345/", {"score": "5"})

    assert page.status_code == post.status_code == 403
    assert "You are an author of this proposal, so you cannot review it." in main_of(post)
    assert Review.objects.count() == 0


@pytest.mark.parametrize("score", ["0", "6", "five", ""])
def test_a_score_off_the_scale_is_refused(reviewer_client, proposal, score):
    response = reviewer_client.post("/organisers/reviews/ABCD2345/", {"score": score})

    assert response.status_code == 400
    assert Review.objects.count() == 0


def test_an_oversized_comment_is_refused(reviewer_client, proposal):
    response = reviewer_client.post(
        "/organisers/reviews/ABCD2345/", {"score": "3", "comment": "x" * 5001}
    )

    assert response.status_code == 400
    assert "Ensure this value has at most 5000 characters (it has 5001)." in main_of(response)


def test_the_next_proposal_follows_a_saved_review(reviewer_client, call, proposal):
    ProposalFactory(call=call, code="NEXT2345", talk=TalkFactory(published=False))

    response = reviewer_client.post("/organisers/reviews/ABCD2345/", {"score": "3"})

    assert response["Location"] == "/organisers/reviews/NEXT2345/"


def test_a_withdrawn_proposal_takes_no_review(reviewer_client, proposal):
    Proposal.objects.filter(pk=proposal.pk).update(state="withdrawn")

    response = reviewer_client.post("/organisers/reviews/ABCD2345/", {"score": "3"})

    assert response.status_code == 409
    assert "This proposal has been withdrawn." in main_of(response)


# -- The admin: ranking and decisions ---------------------------------------------------------


@pytest.fixture
def decider_client(client):
    client.force_login(OrganiserFactory(username="pat", role=PROGRAMME))
    return client


def test_the_admin_ranks_proposals_by_mean_score(decider_client, call, proposal, reviewer):
    weaker = ProposalFactory(call=call, talk=TalkFactory(title="Weaker", published=False))
    Review.objects.create(proposal=proposal, reviewer=reviewer, score=5)
    Review.objects.create(proposal=weaker, reviewer=reviewer, score=2)

    html = decider_client.get("/admin/schedule/proposal/").content.decode()

    assert html.index("Honest baselines") < html.index("Weaker")
    assert '<td class="field-mean">5.00</td>' in html


def test_the_admin_previews_the_e_mail_before_accepting(decider_client, proposal):
    data = {"action": "accept", "_selected_action": [str(proposal.pk)]}

    preview = decider_client.post("/admin/schedule/proposal/", data)
    applied = decider_client.post("/admin/schedule/proposal/", {**data, "apply": "1"}, follow=True)

    html = preview.content.decode()
    assert "The e-mail, as Grace Okafor receives it" in html
    assert "Your proposal “Honest baselines” is accepted" in html
    assert "Accept 1 proposal and send the e-mails" in html
    assert "1 proposal accepted; 1 e-mail queued to the authors." in applied.content.decode()
    assert Proposal.objects.get().state == "accepted"
    assert len(mail.outbox) == 1


def test_reviewers_see_no_proposals_talks_in_the_admin(reviewer_client, proposal):
    TalkFactory(title="A published talk")

    html = reviewer_client.get("/admin/schedule/talk/").content.decode()

    assert "A published talk" in html
    assert "Honest baselines" not in html


def test_a_proposals_talk_page_is_not_found_to_reviewers(reviewer_client, call, proposal):
    # An author who spoke before has a published profile; the talk page would name them.
    call.anonymised_review = True
    call.save()
    proposal.talk.speakers.update(published=True)

    response = reviewer_client.get(f"/talks/{proposal.talk.slug}/")

    assert response.status_code == 404
    assert "Grace" not in response.content.decode()


def test_a_proposals_talk_page_is_shown_to_those_who_read_proposals(decider_client, proposal):
    response = decider_client.get(f"/talks/{proposal.talk.slug}/")

    assert response.status_code == 200
    assert "<h1>Honest baselines</h1>" in main_of(response)


def test_a_reviewer_invited_as_co_author_cannot_review_before_joining(
    reviewer_client, reviewer, proposal
):
    # Invited with another of the reviewer's addresses, in other letter case; not joined yet.
    EmailAddress.objects.create(user=reviewer, email="rita@lab.example", verified=True)
    proposal.talk.speakers.add(
        SpeakerFactory(name="Rita", email="RITA@Lab.example", user=None, published=False)
    )

    listed = main_of(reviewer_client.get("/organisers/reviews/"))
    page = reviewer_client.get("/organisers/reviews/ABCD2345/")
    post = reviewer_client.post("/organisers/reviews/ABCD2345/", {"score": "5"})

    assert "Honest baselines" not in listed
    assert page.status_code == post.status_code == 403
    assert "You are an author of this proposal, so you cannot review it." in main_of(post)
    assert Review.objects.count() == 0
