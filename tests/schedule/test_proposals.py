"""The call's rules for authors: submit, edit and withdraw, at and around the deadline."""

import datetime as dt
import uuid

import pytest

from schedule.models import Answer, Proposal, Talk
from schedule.proposals import (
    ProposalError,
    ProposalText,
    Refusal,
    submit_proposal,
    update_proposal,
    withdraw_proposal,
)
from speakers.models import Speaker
from tests.factories import ProposalFactory, QuestionFactory, SpeakerFactory, TalkFactory

pytestmark = pytest.mark.django_db

MICROSECOND = dt.timedelta(microseconds=1)
PROFILE = {"name": "Grace Okafor", "affiliation": "Example Lab", "short_bio": "Studies."}


def text_for(call, **overrides):
    values = {
        "title": "Honest baselines",
        "abstract": "Baselines that *mean* something.",
        "description": "",
        "submission_type": call.submission_types.get(name="Talk"),
        "track": call.tracks.get(name="Metrics"),
        "notes": "",
    }
    values.update(overrides)
    return ProposalText(**values)


def submit(call, user, *, now, **overrides):
    return submit_proposal(
        call=call, user=user, text=text_for(call, **overrides), answers={}, profile=PROFILE, now=now
    )


def test_submit_makes_an_unpublished_talk_and_profile(call, author):
    proposal, new = submit(call, author, now=call.opens_at)

    talk = proposal.talk
    speaker = Speaker.objects.get(user=author)
    assert new is True
    assert (proposal.state, proposal.submitted_by, proposal.call) == ("submitted", author, call)
    assert (talk.title, talk.slug, talk.kind, talk.track) == (
        "Honest baselines",
        "honest-baselines",
        "talk",
        "Metrics",
    )
    assert talk.published is False
    assert list(talk.speakers.all()) == [speaker]
    assert (speaker.name, speaker.email, speaker.published) == (
        "Grace Okafor",
        "grace@example.org",
        False,
    )
    assert len(proposal.code) == 8


def test_submit_reuses_the_authors_profile(call, author):
    speaker = SpeakerFactory(user=author, name="Grace O.")

    proposal, _ = submit_proposal(
        call=call, user=author, text=text_for(call), answers={}, now=call.opens_at
    )

    assert list(proposal.talk.speakers.all()) == [speaker]
    assert Speaker.objects.filter(user=author).count() == 1


def test_submit_takes_the_kind_of_its_type_and_a_free_slug(call, author):
    TalkFactory(slug="honest-baselines")
    poster = call.submission_types.get(name="Poster")

    proposal, _ = submit(call, author, now=call.opens_at, submission_type=poster, track=None)

    assert (proposal.talk.kind, proposal.talk.slug, proposal.talk.track) == (
        "poster",
        "honest-baselines-2",
        "",
    )


def test_submit_at_the_moment_the_call_opens_is_taken(call, author):
    proposal, _ = submit(call, author, now=call.opens_at)

    assert proposal.pk is not None


def test_submit_just_before_the_call_opens_is_refused(call, author):
    with pytest.raises(ProposalError) as error:
        submit(call, author, now=call.opens_at - MICROSECOND)

    assert error.value.refusal == Refusal.NOT_OPEN
    assert error.value.status_code == 403
    assert Proposal.objects.count() == 0


def test_submit_in_the_last_microsecond_is_taken(call, author):
    proposal, _ = submit(call, author, now=call.closes_at - MICROSECOND)

    assert proposal.pk is not None


def test_submit_at_the_deadline_is_refused_and_nothing_is_kept(call, author):
    with pytest.raises(ProposalError) as error:
        submit(call, author, now=call.closes_at)

    assert error.value.refusal == Refusal.CLOSED
    assert error.value.message.startswith("The call for proposals closed on ")
    assert (Proposal.objects.count(), Talk.objects.count(), Speaker.objects.count()) == (0, 0, 0)


def test_the_same_form_sent_twice_makes_one_proposal(call, author):
    key = uuid.uuid4()
    first, first_new = submit_proposal(
        call=call, user=author, text=text_for(call), answers={}, profile=PROFILE, key=key
    )
    again, again_new = submit_proposal(
        call=call, user=author, text=text_for(call), answers={}, profile=PROFILE, key=key
    )

    assert (first_new, again_new) == (True, False)
    assert again == first
    assert Proposal.objects.count() == 1


def test_answers_are_kept_and_an_empty_one_removed(call, author):
    asked = QuestionFactory(call=call, text="Anything else?")
    attend = QuestionFactory(call=call, text="Will you attend?", kind="yes_no")
    proposal, _ = submit_proposal(
        call=call,
        user=author,
        text=text_for(call),
        answers={asked: "A demo.", attend: "yes"},
        profile=PROFILE,
    )

    update_proposal(proposal=proposal, text=text_for(call), answers={asked: "", attend: "no"})

    assert list(Answer.objects.values_list("question__text", "value")) == [
        ("Will you attend?", "no")
    ]


def test_update_changes_the_talk_and_its_slug(call, author):
    proposal, _ = submit(call, author, now=call.opens_at)

    update_proposal(
        proposal=proposal,
        text=text_for(call, title="Better baselines", track=call.tracks.get(name="Pipelines")),
        answers={},
        now=call.closes_at - MICROSECOND,
    )

    talk = Talk.objects.get(pk=proposal.talk_id)
    assert (talk.title, talk.slug, talk.track) == (
        "Better baselines",
        "better-baselines",
        "Pipelines",
    )


def test_update_at_the_deadline_is_refused_and_nothing_changes(call, author):
    proposal, _ = submit(call, author, now=call.opens_at)

    with pytest.raises(ProposalError) as error:
        update_proposal(
            proposal=proposal, text=text_for(call, title="Late"), answers={}, now=call.closes_at
        )

    assert error.value.refusal == Refusal.CLOSED
    assert Talk.objects.get().title == "Honest baselines"


NO_LONGER = "it can no longer be changed."


@pytest.mark.parametrize(
    ("state", "refusal", "message"),
    [
        ("withdrawn", Refusal.WITHDRAWN, "This proposal has been withdrawn."),
        ("accepted", Refusal.NOT_EDITABLE, f"This proposal is accepted: {NO_LONGER}"),
        ("confirmed", Refusal.NOT_EDITABLE, f"This proposal is confirmed: {NO_LONGER}"),
        ("rejected", Refusal.NOT_EDITABLE, f"This proposal is not accepted: {NO_LONGER}"),
    ],
)
def test_update_of_a_decided_proposal_is_refused(call, state, refusal, message):
    proposal = ProposalFactory(call=call, state=state)

    with pytest.raises(ProposalError) as error:
        update_proposal(proposal=proposal, text=text_for(call, title="Changed"), answers={})

    assert (error.value.refusal, error.value.message, error.value.status_code) == (
        refusal,
        message,
        409,
    )
    assert Talk.objects.get().title != "Changed"


def test_withdraw_before_the_deadline(call):
    proposal = ProposalFactory(call=call)

    withdraw_proposal(proposal=proposal, now=call.closes_at - MICROSECOND)

    proposal.refresh_from_db()
    assert (proposal.state, proposal.state_changed_at) == (
        "withdrawn",
        call.closes_at - MICROSECOND,
    )


def test_withdraw_at_the_deadline_is_refused(call):
    proposal = ProposalFactory(call=call)

    with pytest.raises(ProposalError) as error:
        withdraw_proposal(proposal=proposal, now=call.closes_at)

    assert error.value.refusal == Refusal.CLOSED
    assert Proposal.objects.get().state == "submitted"


def test_an_accepted_author_may_decline_after_the_deadline(call):
    proposal = ProposalFactory(call=call, state="accepted")

    withdraw_proposal(proposal=proposal, now=call.closes_at + dt.timedelta(days=3))

    assert Proposal.objects.get().state == "withdrawn"


def test_withdrawing_twice_is_refused(call):
    proposal = ProposalFactory(call=call, state="withdrawn")

    with pytest.raises(ProposalError) as error:
        withdraw_proposal(proposal=proposal)

    assert error.value.refusal == Refusal.WITHDRAWN


def test_speakers_edit_on_the_talk_page_only_talks_outside_the_call(call):
    plain = TalkFactory(title="Invited talk")
    submitted = ProposalFactory(call=call).talk
    confirmed = ProposalFactory(call=call, state="confirmed").talk

    editable = set(Talk.objects.open_to_speaker_edits())

    assert editable == {plain, confirmed}
    assert submitted not in editable
