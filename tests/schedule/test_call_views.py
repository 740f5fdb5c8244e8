"""The call's pages: the public call, and an author submitting, editing and withdrawing."""

import datetime as dt
import uuid
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.utils import timezone

from schedule.models import Proposal, Talk
from speakers.models import Speaker
from tests.factories import (
    CallFactory,
    ProposalFactory,
    QuestionFactory,
    SpeakerFactory,
    SubmissionTypeFactory,
    TalkFactory,
    TrackFactory,
)
from tests.schedule.conftest import proposal_data
from tests.speakers.conftest import verified_user
from workshop import cache as page_cache

pytestmark = pytest.mark.django_db


def main_of(response):
    return response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]


def freeze(monkeypatch, moment):
    """Hold the clock (and the page cache's) at ``moment``; return a setter to move it."""
    clock = {"now": moment}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    monkeypatch.setattr(page_cache, "time", SimpleNamespace(time=lambda: clock["now"].timestamp()))
    return lambda new: clock.update(now=new)


@pytest.fixture
def own_proposal(call, author):
    # As a first proposal makes it: unpublished.
    speaker = SpeakerFactory(user=author, name="Grace Okafor", published=False)
    return ProposalFactory(
        call=call,
        submission_type=call.submission_types.get(name="Talk"),
        talk=TalkFactory(title="Honest baselines", published=False, track="Metrics"),
        authors=[speaker],
    )


# -- /call/ -----------------------------------------------------------------------------------


def test_call_page_without_a_call_is_not_found(client, workshop):
    response = client.get("/call/")

    assert response.status_code == 404


def test_open_call_shows_its_deadline_offer_and_questions(client, workshop, call, monkeypatch):
    workshop.time_zone = "Europe/Berlin"
    workshop.save()
    call.closes_at = dt.datetime(2030, 9, 30, 21, 59, tzinfo=dt.UTC)
    call.save()
    freeze(monkeypatch, dt.datetime(2030, 9, 1, tzinfo=dt.UTC))
    QuestionFactory(call=call, text="Will you attend in person?", kind="yes_no", required=True)
    QuestionFactory(call=call, text="Level?", kind="choice", options="Beginner\nExpert")

    html = main_of(client.get("/call/"))

    assert (
        'Open until <strong><time datetime="2030-09-30T23:59+0200">Monday 30 September 2030, '
        "23:59 CEST</time></strong> (the workshop's time zone)." in html
    )
    assert "<p>We welcome <em>talks</em> on machine learning for science.</p>" in html
    assert "<li><strong>Talk</strong>, 30 minutes</li>" in html
    assert "<li><strong>Poster</strong>, 60 minutes</li>" in html
    assert "<li><strong>Metrics</strong></li>" in html
    assert "<li>Will you attend in person? (yes or no)</li>" in html
    assert "<li>Level? (one of: Beginner, Expert) (optional)</li>" in html
    assert '<a class="button" href="/call/submit/">Submit a proposal</a>' in html


def test_call_not_open_yet_says_when_it_opens(client, call, monkeypatch):
    freeze(monkeypatch, call.opens_at - dt.timedelta(hours=1))

    html = main_of(client.get("/call/"))

    assert "The call opens on <strong><time" in html
    assert "/call/submit/" not in html


def test_closed_call_says_it_closed(client, call, monkeypatch):
    freeze(monkeypatch, call.closes_at)

    html = main_of(client.get("/call/"))

    assert "The call closed on <strong><time" in html
    assert "/call/submit/" not in html


def test_call_page_is_stored_only_until_the_deadline(client, call, monkeypatch):
    move = freeze(monkeypatch, call.closes_at - dt.timedelta(seconds=30))

    first = client.get("/call/").content.decode()
    move(call.closes_at - dt.timedelta(seconds=1))
    still = client.get("/call/").content.decode()
    move(call.closes_at)
    after = client.get("/call/").content.decode()

    assert "Open until" in first
    assert still == first
    assert "The call closed on" in after


@pytest.mark.parametrize("size", [1, 8])
def test_call_page_uses_constant_queries(client, workshop, django_assert_num_queries, size):
    call = CallFactory(workshop=workshop)
    for _ in range(size):
        SubmissionTypeFactory(call=call)
        TrackFactory(call=call)
        QuestionFactory(call=call)

    with django_assert_num_queries(6):
        response = client.get("/call/")

    assert response.status_code == 200


# -- Submitting -------------------------------------------------------------------------------


def test_submitting_needs_signing_in(client, call):
    response = client.get("/call/submit/")

    assert (response.status_code, response["Location"]) == (
        302,
        "/accounts/login/?next=/call/submit/",
    )


def test_first_proposal_asks_about_the_author(author_client, call):
    html = main_of(author_client.get("/call/submit/"))

    assert "<legend>About you</legend>" in html
    assert 'name="profile-name"' in html
    assert 'name="submission_key"' in html


def test_author_with_a_profile_proposes_as_themselves(client, call):
    user = verified_user(username="ada", email="ada@example.org")
    SpeakerFactory(user=user, name="Ada Lindqvist")
    client.force_login(user)

    html = main_of(client.get("/call/submit/"))

    assert "About you" not in html
    assert "You propose as <strong>Ada Lindqvist</strong>" in html


def test_submitting_a_proposal(author_client, author, call):
    response = author_client.post("/call/submit/", proposal_data(call), follow=True)

    proposal = Proposal.objects.get()
    assert response.redirect_chain == [(f"/call/proposals/{proposal.code}/", 302)]
    html = main_of(response)
    assert "Thank you: your proposal has been received." in html
    assert "<h1>Honest baselines</h1>" in html
    assert "State: <strong>Submitted</strong>" in html
    assert (proposal.talk.title, proposal.talk.published) == ("Honest baselines", False)
    speaker = Speaker.objects.get(user=author)
    assert (speaker.name, speaker.affiliation, speaker.published) == (
        "Grace Okafor",
        "Example Lab",
        False,
    )


def test_a_double_click_makes_one_proposal(author_client, call):
    data = proposal_data(call, submission_key=str(uuid.uuid4()))

    author_client.post("/call/submit/", data)
    second = author_client.post("/call/submit/", data, follow=True)

    proposal = Proposal.objects.get()
    assert second.redirect_chain == [(f"/call/proposals/{proposal.code}/", 302)]
    assert "This proposal had already been received." in main_of(second)


def test_ten_proposals_an_hour_per_account_and_mistakes_do_not_count(author_client, call):
    cache.clear()
    mistakes = [
        author_client.post("/call/submit/", proposal_data(call, title=" ")).status_code
        for _ in range(12)
    ]
    sent = [
        author_client.post(
            "/call/submit/",
            proposal_data(call, title=f"Talk {n}", submission_key=str(uuid.uuid4())),
        ).status_code
        for n in range(11)
    ]
    cache.clear()

    assert mistakes == [400] * 12
    assert sent == [302] * 10 + [429]
    assert Proposal.objects.count() == 10


def test_missing_fields_are_named_and_nothing_is_kept(author_client, call):
    response = author_client.post(
        "/call/submit/", proposal_data(call, title=" ", abstract="", **{"profile-name": ""})
    )

    html = main_of(response)
    assert response.status_code == 400
    assert "Please correct the fields marked below." in html
    assert html.count("This field is required.") == 3
    assert (Proposal.objects.count(), Talk.objects.count(), Speaker.objects.count()) == (0, 0, 0)


def test_oversized_text_is_refused_by_name(author_client, call):
    response = author_client.post("/call/submit/", proposal_data(call, abstract="x" * 2001))

    assert response.status_code == 400
    assert "Ensure this value has at most 2000 characters (it has 2001)." in main_of(response)
    assert Proposal.objects.count() == 0


@pytest.mark.parametrize("value", ["999999", str(2**70), "talk", ""])
def test_an_unknown_type_is_refused(author_client, call, value):
    response = author_client.post("/call/submit/", proposal_data(call, submission_type=value))

    assert response.status_code == 400
    assert Proposal.objects.count() == 0


def test_questions_are_asked_and_answered(author_client, call):
    attend = QuestionFactory(call=call, text="Will you attend?", kind="yes_no", required=True)
    level = QuestionFactory(call=call, text="Level?", kind="choice", options="Beginner\nExpert")
    field = f"question_{attend.pk}"

    missing = author_client.post("/call/submit/", proposal_data(call))
    wrong = author_client.post("/call/submit/", proposal_data(call, **{field: "maybe"}))
    answered = author_client.post(
        "/call/submit/", proposal_data(call, **{field: "yes", f"question_{level.pk}": "Expert"})
    )

    assert missing.status_code == wrong.status_code == 400
    assert "Select a valid choice. maybe is not one of the available choices." in main_of(wrong)
    assert answered.status_code == 302
    proposal = Proposal.objects.get()
    assert sorted(proposal.answers.values_list("question__text", "value")) == [
        ("Level?", "Expert"),
        ("Will you attend?", "yes"),
    ]


def test_submitting_after_the_deadline_keeps_the_text_and_says_why(
    author_client, call, monkeypatch
):
    freeze(monkeypatch, call.closes_at)

    response = author_client.post("/call/submit/", proposal_data(call))

    html = main_of(response)
    assert response.status_code == 403
    assert "The call for proposals closed on " in html
    assert "proposals can no longer be sent or changed." in html
    assert "Baselines that *mean* something." in html
    assert Proposal.objects.count() == 0


def test_the_form_of_a_closed_call_is_not_offered(author_client, call, monkeypatch):
    freeze(monkeypatch, call.closes_at + dt.timedelta(days=1))

    response = author_client.get("/call/submit/")

    assert response.status_code == 403
    assert "The call for proposals closed on " in main_of(response)
    assert '<form method="post" class="profile-form' not in main_of(response)


def test_the_form_of_a_call_not_open_yet_is_not_offered(author_client, call, monkeypatch):
    freeze(monkeypatch, call.opens_at - dt.timedelta(days=1))

    response = author_client.get("/call/submit/")

    assert response.status_code == 403
    assert "The call for proposals opens on " in main_of(response)


# -- An author's proposals --------------------------------------------------------------------


def test_the_list_shows_only_the_authors_proposals(author_client, call, own_proposal):
    ProposalFactory(call=call, talk=TalkFactory(title="Someone else's", published=False))

    html = main_of(author_client.get("/call/proposals/"))

    assert f'<a href="/call/proposals/{own_proposal.code}/">Honest baselines</a>' in html
    assert "Submitted" in html
    assert "Someone else" not in html


def test_detail_offers_edit_and_withdraw_while_the_call_is_open(author_client, own_proposal):
    html = main_of(author_client.get(f"/call/proposals/{own_proposal.code}/"))

    assert '<p class="talk-kind">Talk · Metrics</p>' in html
    assert f'href="/call/proposals/{own_proposal.code}/edit/">Edit the proposal</a>' in html
    assert f'href="/call/proposals/{own_proposal.code}/withdraw/">Withdraw the proposal</a>' in html
    assert "<li>Grace Okafor, Example University</li>" in html


def test_detail_after_the_deadline_is_read_only(author_client, call, own_proposal, monkeypatch):
    freeze(monkeypatch, call.closes_at)

    html = main_of(author_client.get(f"/call/proposals/{own_proposal.code}/"))

    assert "The call has closed: the organisers are reviewing the proposals" in html
    assert "/edit/" not in html
    assert "/withdraw/" not in html


@pytest.mark.parametrize("suffix", ["", "edit/", "withdraw/"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_persons_proposal_is_not_found(client, call, own_proposal, suffix, method):
    other = verified_user(username="mallory", email="mallory@example.org")
    SpeakerFactory(user=other)
    client.force_login(other)

    response = getattr(client, method)(
        f"/call/proposals/{own_proposal.code}/{suffix}", proposal_data(call, title="Taken over")
    )

    # The proposal's page takes no POST at all.
    assert response.status_code == (405 if (method, suffix) == ("post", "") else 404)
    own_proposal.refresh_from_db()
    own_proposal.talk.refresh_from_db()
    assert (own_proposal.state, own_proposal.talk.title) == ("submitted", "Honest baselines")


def test_edit_form_holds_the_proposal(author_client, own_proposal):
    html = main_of(author_client.get(f"/call/proposals/{own_proposal.code}/edit/"))

    assert 'value="Honest baselines"' in html
    assert (
        '<option value="{}" selected>Metrics</option>'.format(
            own_proposal.call.tracks.get(name="Metrics").pk
        )
        in html
    )
    assert "About you" not in html


def test_editing_a_proposal(author_client, call, own_proposal):
    response = author_client.post(
        f"/call/proposals/{own_proposal.code}/edit/",
        proposal_data(call, title="Better baselines", notes="I can bring a poster too."),
        follow=True,
    )

    html = main_of(response)
    assert "Your changes are saved." in html
    assert "<h1>Better baselines</h1>" in html
    assert "I can bring a poster too." in html


def test_editing_after_the_deadline_is_refused_with_the_text_kept(
    author_client, call, own_proposal, monkeypatch
):
    freeze(monkeypatch, call.closes_at)

    get = author_client.get(f"/call/proposals/{own_proposal.code}/edit/")
    post = author_client.post(
        f"/call/proposals/{own_proposal.code}/edit/", proposal_data(call, title="Late change")
    )

    assert get.status_code == post.status_code == 403
    assert "The call for proposals closed on " in main_of(get)
    assert 'value="Late change"' in main_of(post)
    assert Talk.objects.get(pk=own_proposal.talk_id).title == "Honest baselines"


def test_a_withdrawn_proposal_cannot_be_edited(author_client, call, own_proposal):
    own_proposal.state = "withdrawn"
    own_proposal.save()

    get = author_client.get(f"/call/proposals/{own_proposal.code}/edit/")
    post = author_client.post(f"/call/proposals/{own_proposal.code}/edit/", proposal_data(call))

    assert get.status_code == post.status_code == 409
    assert "This proposal has been withdrawn." in main_of(get)
    assert "This proposal has been withdrawn." in main_of(post)


def test_withdrawing_asks_first_then_withdraws(author_client, own_proposal):
    url = f"/call/proposals/{own_proposal.code}/withdraw/"

    asked = main_of(author_client.get(url))
    response = author_client.post(url, follow=True)

    assert "<h1>Withdraw “Honest baselines”</h1>" in asked
    assert Proposal.objects.get().state == "withdrawn"
    html = main_of(response)
    assert "Your proposal “Honest baselines” is withdrawn." in html
    assert "State: <strong>Withdrawn</strong>" in html
    assert "/edit/" not in html


def test_withdrawing_twice_says_it_is_withdrawn(author_client, own_proposal):
    url = f"/call/proposals/{own_proposal.code}/withdraw/"
    author_client.post(url)

    response = author_client.post(url)

    assert response.status_code == 409
    assert "This proposal has been withdrawn." in main_of(response)


def test_withdrawing_after_the_deadline_is_refused(author_client, call, own_proposal, monkeypatch):
    freeze(monkeypatch, call.closes_at)

    response = author_client.post(f"/call/proposals/{own_proposal.code}/withdraw/")

    assert response.status_code == 403
    assert Proposal.objects.get().state == "submitted"


# -- Never public before it is accepted and published -----------------------------------------


def test_a_proposal_is_on_no_public_page_or_export(client, author_client, call, own_proposal):
    client.logout()
    slug = own_proposal.talk.slug
    pages = ["/talks/", "/speakers/", "/schedule/", "/schedule.json", "/schedule.xml"]

    bodies = {path: client.get(path).content.decode() for path in pages}

    for path, body in bodies.items():
        assert "Honest baselines" not in body, path
        assert "Grace Okafor" not in body, path
    assert client.get(f"/talks/{slug}/").status_code == 404


def test_its_author_edits_it_as_a_proposal_not_as_a_talk(author_client, own_proposal):
    slug = own_proposal.talk.slug

    talks = main_of(author_client.get("/talks/"))
    page = author_client.get(f"/talks/{slug}/")
    edit = author_client.get(f"/talks/{slug}/edit/")

    assert f"/talks/{slug}/edit/" not in talks
    # An unpublished talk's edit page says nothing of it to those who may not edit it there.
    assert (page.status_code, edit.status_code) == (404, 404)


# -- Confirming an accepted proposal ----------------------------------------------------------


def test_an_accepted_author_confirms_and_the_talk_is_published(client, author_client, own_proposal):
    own_proposal.state = "accepted"
    own_proposal.save()
    url = f"/call/proposals/{own_proposal.code}/confirm/"

    detail = main_of(author_client.get(f"/call/proposals/{own_proposal.code}/"))
    asked = main_of(author_client.get(url))
    response = author_client.post(url, follow=True)

    assert f'<a class="button" href="{url}">Confirm that you will give it</a>' in detail
    assert "Confirm: I will give this talk" in asked
    html = main_of(response)
    assert "Thank you: “Honest baselines” is confirmed and on the programme." in html
    assert "State: <strong>Confirmed</strong>" in html
    client.logout()
    assert "Honest baselines" in client.get("/talks/").content.decode()
    assert "Grace Okafor" in client.get("/speakers/").content.decode()


def test_a_confirmation_used_twice_says_so(author_client, own_proposal):
    own_proposal.state = "accepted"
    own_proposal.save()
    url = f"/call/proposals/{own_proposal.code}/confirm/"
    author_client.post(url)

    again = author_client.post(url)
    page = author_client.get(url)

    assert again.status_code == page.status_code == 409
    assert "This talk is confirmed already." in main_of(again)


def test_a_confirmation_by_another_account_is_not_found(client, own_proposal):
    own_proposal.state = "accepted"
    own_proposal.save()
    client.force_login(verified_user(username="mallory", email="mallory@example.org"))

    response = client.post(f"/call/proposals/{own_proposal.code}/confirm/")

    assert response.status_code == 404
    assert Proposal.objects.get().state == "accepted"


def test_a_proposal_not_accepted_has_nothing_to_confirm(author_client, own_proposal):
    response = author_client.post(f"/call/proposals/{own_proposal.code}/confirm/")

    assert response.status_code == 409
    assert "This proposal is submitted, so there is nothing to confirm." in main_of(response)
    assert Talk.objects.published().count() == 0
