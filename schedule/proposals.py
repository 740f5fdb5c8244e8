"""The call for proposals: what authors may do with their proposals, and when.

Every write takes the locks that decide it, then reads the clock: the call's row first
(its dates decide whether authors may still write), then the proposal's. So a proposal
sent at the last moment and an organiser moving the deadline are judged one after the
other, and two clicks on "Submit" make one proposal.
"""

import dataclasses
import datetime as dt
import enum
import secrets

from django.db import transaction
from django.utils import timezone

from schedule.models import Answer, Availability, Call, Proposal, Talk
from speakers.models import Speaker
from speakers.services import create_unpublished_profile, invite_speaker
from workshop.slugs import unique_slug

State = Proposal.State
# Letters and digits that cannot be mistaken for one another when read aloud or copied.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


class Refusal(enum.Enum):
    """Why a change to a proposal is refused."""

    NOT_OPEN = "not open"
    CLOSED = "closed"
    NOT_EDITABLE = "decided"
    WITHDRAWN = "withdrawn"
    OWN_PROPOSAL = "own proposal"
    BAD_SCORE = "bad score"
    NOT_ACCEPTED = "not accepted"
    NOT_AUTHOR = "not an author"
    TOO_MANY_AUTHORS = "too many authors"
    ALREADY_AUTHOR = "already an author"

    @property
    def status_code(self):
        """Return the HTTP status that answers this refusal."""
        return REFUSAL_STATUS[self]


REFUSAL_STATUS = {
    Refusal.NOT_OPEN: 403,
    Refusal.CLOSED: 403,
    Refusal.OWN_PROPOSAL: 403,
    Refusal.NOT_EDITABLE: 409,
    Refusal.WITHDRAWN: 409,
    Refusal.NOT_ACCEPTED: 409,
    Refusal.BAD_SCORE: 400,
    Refusal.NOT_AUTHOR: 404,
    Refusal.TOO_MANY_AUTHORS: 409,
    Refusal.ALREADY_AUTHOR: 409,
}
# Authors of one proposal, the one who sent it included.
MOST_AUTHORS = 6


class ProposalError(Exception):
    """A change the call's rules refuse; ``message`` says why in the person's words."""

    def __init__(self, refusal, message):
        self.refusal = refusal
        self.status_code = refusal.status_code
        self.message = message
        super().__init__(message)


def local_time(call, moment):
    """Return ``moment`` as the call page writes it, in the workshop's zone."""
    local = timezone.localtime(moment, call.workshop.tzinfo)
    return f"{local:%A %-d %B %Y, %H:%M} {local.tzname()}"


def call_closed(call):
    return ProposalError(
        Refusal.CLOSED,
        f"The call for proposals closed on {local_time(call, call.closes_at)}: proposals can "
        "no longer be sent or changed.",
    )


def check_open(call, now):
    """Refuse writes outside the call's dates."""
    status = call.status(now)
    if status == Call.Status.NOT_OPEN:
        raise ProposalError(
            Refusal.NOT_OPEN,
            f"The call for proposals opens on {local_time(call, call.opens_at)}.",
        )
    if status == Call.Status.CLOSED:
        raise call_closed(call)


def check_editable(proposal, call, now):
    """Refuse a change to a proposal that is no longer only submitted, or after the deadline."""
    if proposal.state == State.WITHDRAWN:
        raise ProposalError(Refusal.WITHDRAWN, "This proposal has been withdrawn.")
    if proposal.state != State.SUBMITTED:
        raise ProposalError(
            Refusal.NOT_EDITABLE,
            f"This proposal is {proposal.get_state_display().lower()}: it can no longer be "
            "changed.",
        )
    check_open(call, now)


def check_withdrawable(proposal, call, now):
    """Refuse withdrawing but a submitted proposal before the deadline or an accepted one."""
    # Accepted authors may still say they cannot come, whenever that happens.
    if proposal.state != State.ACCEPTED:
        check_editable(proposal, call, now)


def passes(check, proposal, now):
    """Return whether ``check`` lets the author make this change now (for offering it)."""
    try:
        check(proposal, proposal.call, now)
    except ProposalError:
        return False
    return True


def may_edit(proposal, now):
    return passes(check_editable, proposal, now)


def may_withdraw(proposal, now):
    return passes(check_withdrawable, proposal, now)


@dataclasses.dataclass(frozen=True)
class ProposalText:
    """What an author writes: the talk's text and the proposal's details."""

    title: str
    abstract: str
    description: str
    submission_type: object
    track: object = None
    notes: str = ""
    # (start, end) pairs when the authors can present; none: at any time.
    availability: tuple = ()


def lock_call(call):
    return Call.objects.select_for_update(of=("self",)).select_related("workshop").get(pk=call.pk)


def lock_proposal(proposal):
    return (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("talk", "submission_type")
        .get(pk=proposal.pk)
    )


def new_code():
    """Return a proposal code no other proposal has."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not Proposal.objects.filter(code=code).exists():
            return code


def talk_slug(title, talk=None):
    others = Talk.objects.exclude(pk=talk.pk) if talk else Talk.objects.all()
    return unique_slug(others, title, fallback="talk")


def author_profile(user, profile):
    """Return ``user``'s speaker profile, made from ``profile`` (a dict) if they have none."""
    speaker = Speaker.objects.filter(user=user).first()
    if speaker is not None:
        return speaker
    if not profile:
        raise ValueError("A first proposal needs the author's profile.")
    return create_unpublished_profile(user=user, email=user.email, **profile)


@transaction.atomic
def submit_proposal(*, call, user, text, answers, profile=None, key=None, now=None):
    """Send a new proposal to ``call`` as ``user``; return (proposal, whether it is new).

    ``answers`` maps questions to their answers; ``profile`` makes the author's speaker
    profile if they have none; ``key`` is the form's one-time key, so that the same form
    sent twice makes one proposal.
    """
    call = lock_call(call)
    now = now or timezone.now()
    check_open(call, now)
    if key is not None:
        sent = Proposal.objects.filter(submitted_by=user, submission_key=key).first()
        if sent is not None:
            return sent, False
    speaker = author_profile(user, profile)
    talk = Talk(slug=talk_slug(text.title), published=False)
    write_text(talk, text)
    talk.speakers.add(speaker)
    proposal = Proposal(
        code=new_code(),
        call=call,
        talk=talk,
        submitted_by=user,
        submission_key=key,
        created_at=now,
        state_changed_at=now,
    )
    write_details(proposal, text)
    save_answers(proposal, answers)
    return proposal, True


@transaction.atomic
def update_proposal(*, proposal, text, answers, now=None):
    """Save an author's changes to their proposal while it is submitted and the call open."""
    call = lock_call(proposal.call)
    proposal = lock_proposal(proposal)
    now = now or timezone.now()
    check_editable(proposal, call, now)
    talk = proposal.talk
    if talk.title != text.title:
        talk.slug = talk_slug(text.title, talk)
    write_text(talk, text)
    write_details(proposal, text)
    save_answers(proposal, answers)
    return proposal


def write_text(talk, text):
    talk.title = text.title
    talk.abstract = text.abstract
    talk.description = text.description
    talk.kind = text.submission_type.kind
    talk.track = text.track.name if text.track else ""
    talk.save()


def write_details(proposal, text):
    proposal.submission_type = text.submission_type
    proposal.notes = text.notes
    proposal.save()
    proposal.availabilities.all().delete()
    Availability.objects.bulk_create(
        Availability(proposal=proposal, start=start, end=end) for start, end in text.availability
    )


def save_answers(proposal, answers):
    """Keep the given answers; an empty one removes the earlier answer."""
    for question, value in answers.items():
        if value:
            Answer.objects.update_or_create(
                proposal=proposal, question=question, defaults={"value": value}
            )
        else:
            Answer.objects.filter(proposal=proposal, question=question).delete()


@transaction.atomic
def withdraw_proposal(*, proposal, now=None):
    """Withdraw a submitted proposal before the deadline, or decline an accepted one."""
    call = lock_call(proposal.call)
    proposal = lock_proposal(proposal)
    now = now or timezone.now()
    check_withdrawable(proposal, call, now)
    return change_state(proposal, State.WITHDRAWN, now)


def change_state(proposal, state, now):
    proposal.state = state
    proposal.state_changed_at = now
    proposal.save(update_fields=["state", "state_changed_at", "updated_at"])
    return proposal


@transaction.atomic
def invite_coauthor(*, proposal, name, email, invited_by, now=None):
    """Add a co-author to ``proposal`` and e-mail them an invitation to join with an account.

    The co-author gets an unpublished speaker profile of their own, which the invitation
    (speakers.services) lets them take over; they are then an author like the one who sent it.
    """
    call = lock_call(proposal.call)
    proposal = lock_proposal(proposal)
    now = now or timezone.now()
    check_editable(proposal, call, now)
    talk = proposal.talk
    authors = list(talk.speakers.select_related("user"))
    if len(authors) >= MOST_AUTHORS:
        raise ProposalError(
            Refusal.TOO_MANY_AUTHORS, f"A proposal has at most {MOST_AUTHORS} authors."
        )
    if any(
        email.lower() in {a.email.lower(), (a.user.email if a.user else "").lower()}
        for a in authors
    ):
        raise ProposalError(Refusal.ALREADY_AUTHOR, f"{email} is already an author.")
    speaker = create_unpublished_profile(name=name, email=email)
    talk.speakers.add(speaker)
    inviter = next((a.name for a in authors if a.user_id == invited_by.pk), invited_by.email)
    purpose = (
        f"{inviter} invites you to join the proposal “{talk.title}” for "
        f"{call.workshop.title} as a co-author."
    )
    invite_speaker(speaker=speaker, email=email, invited_by=invited_by, purpose=purpose, now=now)
    return speaker


def workshop_days(workshop):
    """Return (day, first moment, last moment) of each of the workshop's days, in its zone."""
    zone = workshop.tzinfo
    day = timezone.localdate(workshop.starts_at, zone)
    days = []
    while True:
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
        next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        start, end = max(midnight, workshop.starts_at), min(next_midnight, workshop.ends_at)
        if start >= end:
            return days
        days.append((day, start, end))
        day += dt.timedelta(days=1)


def describe_availability(times, zone):
    """Return the times as the schedule check and the slot form name them."""
    parts = []
    for time in times:
        start, end = timezone.localtime(time.start, zone), timezone.localtime(time.end, zone)
        parts.append(f"{start:%a %-d %b %H:%M}–{end:%H:%M}")
    return ", ".join(parts)
