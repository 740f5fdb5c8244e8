"""The organisers' decisions on proposals, the e-mails that tell the authors, and the
authors' confirmation that publishes the talk.

A decision and its e-mails are one transaction: the e-mails are written to the outgoing mail
log (workshop/mail.py) with the new state, or neither is. Each proposal remembers the decision
its authors were told of, so deciding the same again tells nobody twice.
"""

import dataclasses

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from schedule.models import Proposal
from schedule.proposals import ProposalError, Refusal, change_state, lock_proposal
from speakers.models import Speaker

State = Proposal.State
# What organisers may decide, and from which states: a decision may be changed until the
# authors confirm; withdrawn proposals stay withdrawn.
DECISIONS = {State.ACCEPTED, State.REJECTED}
DECIDABLE = {State.SUBMITTED, State.ACCEPTED, State.REJECTED}


@dataclasses.dataclass(frozen=True)
class Letter:
    """One e-mail telling one author a decision."""

    proposal: Proposal
    author: Speaker
    address: str
    subject: str
    body: str


def author_address(speaker):
    """Return where an author is written to: their account's address, else the contact one."""
    return (speaker.user.email if speaker.user_id else "") or speaker.email


def absolute(path):
    return settings.SITE_URL + path


def letter_values(proposal, author):
    return {
        "name": author.name,
        "title": proposal.talk.title,
        "workshop": proposal.call.workshop.title,
        "proposal_url": absolute(proposal.get_absolute_url()),
        "confirm_url": absolute(reverse("schedule:proposal_confirm", args=[proposal.code])),
    }


def templates_of(call, decision):
    if decision == State.ACCEPTED:
        return call.accept_subject, call.accept_body
    return call.reject_subject, call.reject_body


# A co-author who has not yet followed their invitation has no account: the proposal's pages
# answer them 404 until they join, so their letter says how to get there.
NOT_JOINED_NOTE = (
    "\n\nYou have not joined this proposal on the site yet, so the links above will only work"
    " once you have: follow the invitation to join it that we e-mailed to this address (if it"
    " has expired, write to the organisers for a new one)."
)


def with_joining_note(text, author, values):
    """Return ``text``, with NOT_JOINED_NOTE when it links an author without an account."""
    links = (values["proposal_url"], values["confirm_url"])
    if author.user_id or not any(link in text for link in links):
        return text
    return text + NOT_JOINED_NOTE


def letters_for(proposal, decision):
    """Return the e-mails telling each author of ``proposal`` the ``decision``.

    Authors without any address are left out (the preview names them).
    """
    subject, body = templates_of(proposal.call, decision)
    letters = []
    for author in proposal.talk.speakers.select_related("user").order_by("name", "pk"):
        values = letter_values(proposal, author)
        address = author_address(author)
        if address:
            letters.append(
                Letter(
                    proposal=proposal,
                    author=author,
                    address=address,
                    subject=" ".join(subject.format_map(values).split()),
                    body=with_joining_note(body.format_map(values), author, values),
                )
            )
    return letters


def refusal_to_decide(proposal, decision):
    """Return why ``proposal`` cannot take ``decision`` now, or None."""
    if proposal.state == decision:
        return f"already {proposal.get_state_display().lower()}"
    if proposal.state not in DECIDABLE:
        return f"{proposal.get_state_display().lower()}, so it cannot be decided"
    return None


@dataclasses.dataclass
class Outcome:
    """What a bulk decision did: the proposals decided, and those left as they were, why."""

    decided: list = dataclasses.field(default_factory=list)
    skipped: list = dataclasses.field(default_factory=list)
    letters: int = 0


@transaction.atomic
def decide_proposals(*, proposals, decision, decided_by=None, now=None):
    """Accept or reject ``proposals`` and queue the e-mails telling their authors.

    The proposals are locked in id order; each whose state allows it moves and its authors are
    e-mailed in this transaction; the others are reported with the reason.
    """
    if decision not in DECISIONS:
        raise ValueError(f"Not a decision: {decision}")
    ids = sorted(proposal.pk for proposal in proposals)
    locked = (
        Proposal.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("talk", "call__workshop")
        .order_by("pk")
    )
    now = now or timezone.now()
    outcome = Outcome()
    for proposal in locked:
        reason = refusal_to_decide(proposal, decision)
        if reason:
            outcome.skipped.append((proposal, reason))
            continue
        change_state(proposal, decision, now)
        outcome.letters += tell_authors(proposal, decision)
        log(proposal, decided_by, f"{proposal.get_state_display()}; the authors are told.")
        outcome.decided.append(proposal)
    return outcome


def tell_authors(proposal, decision):
    """Queue the decision's e-mails and remember it was told; return how many were sent."""
    letters = letters_for(proposal, decision)
    for letter in letters:
        EmailMessage(letter.subject, letter.body, None, [letter.address]).send()
    proposal.told_state = decision
    proposal.save(update_fields=["told_state", "updated_at"])
    return len(letters)


def log(proposal, user, message):
    """Keep what happened in the proposal's admin history."""
    if user is None:
        return
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=[proposal],
        action_flag=CHANGE,
        change_message=message,
        single_object=True,
    )


@transaction.atomic
def confirm_proposal(*, proposal, user, now=None):
    """Record that an accepted author will give the talk: publish it and its speakers."""
    proposal = lock_proposal(proposal)
    if not proposal.authored_by(user):
        # The views find proposals among the person's own; this guards other callers.
        raise ProposalError(Refusal.NOT_AUTHOR, "Only the proposal's authors can confirm it.")
    if proposal.state != State.ACCEPTED:
        raise not_confirmable(proposal)
    change_state(proposal, State.CONFIRMED, now or timezone.now())
    proposal.confirmed_by = user
    proposal.save(update_fields=["confirmed_by"])
    # Saved, not updated, so that the page cache learns of it (schedule/signals.py).
    talk = proposal.talk
    talk.published = True
    talk.save(update_fields=["published", "updated_at"])
    publish_speakers(talk)
    return proposal


def not_confirmable(proposal):
    """Return the refusal to confirm a proposal that is not (or no longer) accepted."""
    if proposal.state == State.CONFIRMED:
        return ProposalError(Refusal.NOT_ACCEPTED, "This talk is confirmed already.")
    return ProposalError(
        Refusal.NOT_ACCEPTED,
        f"This proposal is {proposal.get_state_display().lower()}, so there is nothing to confirm.",
    )


def publish_speakers(talk):
    """Publish the talk's speakers, one by one so the page cache learns of each change."""
    for speaker in talk.speakers.filter(published=False):
        speaker.published = True
        speaker.save(update_fields=["published", "updated_at"])
