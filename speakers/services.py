"""Business rules for speaker profiles: invitations, claiming a profile, recorded edits."""

import datetime as dt
import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from speakers import validators
from speakers.models import PROFILE_FIELDS, Invitation, Speaker, SpeakerRevision, hash_token
from workshop.models import Workshop
from workshop.slugs import unique_slug

# Tokens are 43 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 100


class InvitationError(Exception):
    """Why an invitation link cannot be used, with the HTTP status to answer it with."""

    MESSAGES = {
        "not_found": (
            404,
            "This invitation link is not valid. Please check that you copied all of it.",
        ),
        "claimed": (410, "This invitation has already been used."),
        "expired": (410, "This invitation has expired."),
        "withdrawn": (410, "This invitation has been withdrawn by the organisers."),
        "taken": (409, "This speaker profile already belongs to another account."),
        "has_profile": (409, "Your account already has a different speaker profile."),
    }

    def __init__(self, reason):
        self.reason = reason
        self.status_code, self.message = self.MESSAGES[reason]
        super().__init__(self.message)


def invitation_lifetime():
    return dt.timedelta(days=settings.SPEAKERS_INVITATION_DAYS)


def invitation_url(token):
    return settings.SITE_URL + reverse("speakers:invitation", kwargs={"token": token})


def send_invitation_email(invitation, token):
    """Queue the e-mail with the invitation link, in the transaction that made the token."""
    context = {
        "invitation": invitation,
        "speaker": invitation.speaker,
        "url": invitation_url(token),
        "days": settings.SPEAKERS_INVITATION_DAYS,
        "workshop": Workshop.objects.current(),
    }
    subject = render_to_string("speakers/email/invitation_subject.txt", context).strip()
    body = render_to_string("speakers/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email])


def _issue_token(invitation, now):
    """Give ``invitation`` a fresh token and expiry; return the token (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = hash_token(token)
    invitation.expires_at = now + invitation_lifetime()
    invitation.sent_at = now
    invitation.send_count += 1
    return token


@transaction.atomic
def invite_speaker(*, speaker, email, invited_by=None, purpose="", now=None):
    """Invite ``email`` to claim ``speaker``; withdraw earlier open invitations for it.

    ``purpose`` says why, when someone other than the organisers invites (a co-author).
    """
    now = now or timezone.now()
    speaker = Speaker.objects.select_for_update().get(pk=speaker.pk)
    if speaker.user_id:
        raise InvitationError("taken")
    Invitation.objects.open(now).filter(speaker=speaker).update(withdrawn_at=now)
    invitation = Invitation(
        speaker=speaker, email=email.strip(), created_by=invited_by, purpose=purpose
    )
    invitation.created_at = now
    token = _issue_token(invitation, now)
    invitation.save()
    send_invitation_email(invitation, token)
    return invitation, token


@transaction.atomic
def resend_invitation(*, invitation, now=None):
    """Send ``invitation`` again with a new token (the old link stops working) and a new expiry."""
    now = now or timezone.now()
    invitation = (
        Invitation.objects.select_for_update().select_related("speaker").get(pk=invitation.pk)
    )
    if invitation.claimed_at or invitation.withdrawn_at:
        raise InvitationError("claimed" if invitation.claimed_at else "withdrawn")
    token = _issue_token(invitation, now)
    invitation.save(update_fields=["token_hash", "expires_at", "sent_at", "send_count"])
    send_invitation_email(invitation, token)
    return invitation, token


@transaction.atomic
def withdraw_invitation(*, invitation, now=None):
    """Stop ``invitation``'s link from working; a claimed invitation stays as it is."""
    now = now or timezone.now()
    return Invitation.objects.filter(pk=invitation.pk, claimed_at=None, withdrawn_at=None).update(
        withdrawn_at=now
    )


def find_invitation(token, now=None):
    """Return the open invitation for ``token`` or raise InvitationError saying why not.

    The token is looked up by its hash, so no stored secret is compared byte by byte.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvitationError("not_found")
    invitation = (
        Invitation.objects.select_related("speaker").filter(token_hash=hash_token(token)).first()
    )
    if invitation is None:
        raise InvitationError("not_found")
    status = invitation.status(now)
    if status != Invitation.Status.OPEN:
        raise InvitationError(status)
    return invitation


@transaction.atomic
def claim_invitation(*, token, user, now=None):
    """Link the invited speaker profile to ``user``; return the speaker."""
    from allauth.account.models import EmailAddress

    now = now or timezone.now()
    found = find_invitation(token, now)
    # Check again under the lock so that two claims of one link cannot both succeed.
    invitation = Invitation.objects.select_for_update().get(pk=found.pk)
    status = invitation.status(now)
    if status != Invitation.Status.OPEN:
        raise InvitationError(status)
    speaker = Speaker.objects.select_for_update().get(pk=invitation.speaker_id)
    if speaker.user_id and speaker.user_id != user.pk:
        raise InvitationError("taken")
    own = Speaker.objects.filter(user=user).exclude(pk=speaker.pk).first()
    if own is not None and not invitation.purpose:
        raise InvitationError("has_profile")
    if own is not None:
        # A co-author with a profile already joins with it: the talks of the profile made for
        # the invitation move to theirs, and that profile (never published) stays unused.
        own.talks.add(*speaker.talks.all())
        speaker.talks.clear()
        speaker = own
    else:
        speaker.user = user
        speaker.save(update_fields=["user", "updated_at"])
    invitation.claimed_at = now
    invitation.claimed_by = user
    invitation.save(update_fields=["claimed_at", "claimed_by"])
    Invitation.objects.open(now).filter(speaker_id=invitation.speaker_id).update(withdrawn_at=now)
    # Whoever holds the link has received the e-mail sent to this address.
    EmailAddress.objects.filter(user=user, email__iexact=invitation.email).update(verified=True)
    return speaker


def profile_values(speaker):
    """Return the self-edited fields of ``speaker`` as JSON-ready values."""
    values = {}
    for name in PROFILE_FIELDS:
        value = getattr(speaker, name)
        values[name] = (value.name or "") if name == "photo" else value
    return values


@transaction.atomic
def update_speaker_profile(*, speaker, changed_by=None, now=None):
    """Save ``speaker``'s edited fields, keeping the previous values as a revision."""
    previous = Speaker.objects.select_for_update().get(pk=speaker.pk)
    old, new = profile_values(previous), profile_values(speaker)
    changed = [name for name in PROFILE_FIELDS if old[name] != new[name]]
    speaker.save()
    if not changed:
        return None
    return SpeakerRevision.objects.create(
        speaker=speaker,
        previous=old,
        changed_fields=changed,
        changed_by=changed_by,
        created_at=now or timezone.now(),
    )


def create_unpublished_profile(
    *, name, email, user=None, pronouns="", affiliation="", short_bio=""
):
    """Make a speaker profile, unpublished until the organisers or a confirmed talk publish it.

    Someone proposing a talk, or invited to one as a co-author, has no profile yet; nothing
    of theirs is public before the talk is accepted and confirmed.
    """
    slug = unique_slug(
        Speaker.objects.all(), name, reserved=validators.RESERVED_SLUGS, fallback="speaker"
    )
    return Speaker.objects.create(
        user=user,
        name=name,
        slug=slug,
        pronouns=pronouns,
        affiliation=affiliation,
        short_bio=short_bio,
        email=email,
        published=False,
    )
