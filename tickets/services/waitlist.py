"""The waiting list of a sold-out ticket type: joining, confirming, offers and their end.

A visitor joins with an e-mail address and is in line once they follow the signed link sent
to it. When seats are free, the first in line each get an offer: a voucher for one ticket,
theirs alone until the offer expires (TICKETS_WAITLIST_OFFER_HOURS), e-mailed with a personal
link. A running offer holds its seat in the count every sale uses (capacity.seats_taken), and
free seats go to the people in line before any new buyer (capacity.check_capacity). An offer
not used in time passes to the next in line: process_waiting_lists, run every minute or so,
does that and makes the offers for seats freed by the clock (reservations running out).

Every write here first locks the ticket type row, the lock that order creation takes
(capacity.lock_ticket_types), and reads the clock only then, so a change to the line and a
sale never decide apart.
"""

import datetime as dt
import enum
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import OperationalError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tickets.models import TicketType, Voucher, WaitingListEntry, random_code
from tickets.services import capacity
from tickets.services.errors import Busy, OrderError
from workshop.cache import TICKETS, bump_content_version

logger = logging.getLogger(__name__)

Status = WaitingListEntry.Status
CONFIRM_SALT = "tickets.waitlist.confirm"
OFFER_SALT = "tickets.waitlist.offer"
# 32 letters and digits to the power 16: an offer's code is never guessed.
OFFER_CODE_LENGTH = 16


class Joined(enum.Enum):
    """What asking to join did."""

    JOINED = "joined"
    CONFIRMATION_RESENT = "confirmation resent"
    ALREADY_WAITING = "already waiting"
    ALREADY_OFFERED = "already offered"


class BadLink(OrderError):
    """A waiting-list link that was altered or belongs to no entry."""


class LinkExpired(OrderError):
    """A confirmation link older than TICKETS_WAITLIST_CONFIRM_DAYS."""


# -- Links -----------------------------------------------------------------------------


def sign(entry, salt):
    # The address is signed too: a link never reaches another entry that got the same id.
    return signing.dumps({"entry": entry.pk, "email": entry.email.casefold()}, salt=salt)


def unsign(token, salt, max_age=None):
    """Return the entry a signed link names; raise BadLink or LinkExpired."""
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkExpired(
            "This confirmation link has expired. Join the waiting list again to get a new one."
        ) from None
    except signing.BadSignature:
        raise BadLink("This waiting-list link is not valid.") from None
    entry = (
        WaitingListEntry.objects.select_related("ticket_type__workshop")
        .filter(pk=data.get("entry"))
        .first()
    )
    if entry is None or entry.email.casefold() != data.get("email"):
        raise BadLink("This waiting-list link is not valid.")
    return entry


def confirm_url(entry):
    return settings.SITE_URL + reverse("tickets:waitlist_confirm", args=[sign(entry, CONFIRM_SALT)])


def offer_url(entry):
    return settings.SITE_URL + reverse("tickets:waitlist_offer", args=[sign(entry, OFFER_SALT)])


def entry_of_offer(token):
    """Return the entry of an offer link; raise BadLink. Its end is the entry's, not the link's."""
    return unsign(token, OFFER_SALT)


def entry_to_confirm(token):
    """Return the entry of a confirmation link; raise BadLink or LinkExpired."""
    max_age = settings.TICKETS_WAITLIST_CONFIRM_DAYS * 86400
    return unsign(token, CONFIRM_SALT, max_age=max_age)


# -- Joining ---------------------------------------------------------------------------


def join_problem(ticket_type, now):
    """Return why nobody may join this type's waiting list now, or None."""
    if ticket_type.sales_not_started(now) or not ticket_type.is_on_sale(now):
        return f"“{ticket_type.name}” is not on sale now, so it has no waiting list."
    counted = TicketType.objects.with_seats_taken(now).get(pk=ticket_type.pk)
    if counted.seats_left != 0:
        return f"“{ticket_type.name}” is not sold out: you can buy a ticket now."
    return None


def join(*, ticket_type, email, name=""):
    """Put an address on a sold-out type's waiting list, unconfirmed, and send the link.

    An address already on the list is not added again: an unconfirmed one gets its link again.
    Raise OrderError when the type is not sold out or not on sale.
    """
    email, name = email.strip(), name.strip()
    try:
        with transaction.atomic():
            locked = capacity.lock_ticket_types([ticket_type.pk])[ticket_type.pk]
            existing = (
                WaitingListEntry.objects.filter(
                    ticket_type=locked,
                    email__iexact=email,
                    status__in=WaitingListEntry.ACTIVE_STATUSES,
                )
                .select_related("ticket_type__workshop")
                .first()
            )
            if existing is not None:
                return existing, answer_again(existing)
            if problem := join_problem(locked, timezone.now()):
                raise OrderError(problem)
            entry = WaitingListEntry.objects.create(ticket_type=locked, email=email, name=name)
            transaction.on_commit(lambda: send_confirmation_link(entry), robust=True)
    except OperationalError as error:
        if capacity.is_lock_failure(error):
            raise Busy("Many people are buying tickets right now. Please try again.") from error
        raise
    return entry, Joined.JOINED


def answer_again(entry):
    if entry.status == Status.UNCONFIRMED:
        transaction.on_commit(lambda: send_confirmation_link(entry), robust=True)
        return Joined.CONFIRMATION_RESENT
    return Joined.ALREADY_OFFERED if entry.status == Status.OFFERED else Joined.ALREADY_WAITING


def confirm(*, entry):
    """Confirm an entry's address: it joins the line now. Repeating it changes nothing.

    A seat free at that moment is offered at once.
    """
    with transaction.atomic():
        capacity.lock_ticket_types([entry.ticket_type_id])
        locked = WaitingListEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status == Status.UNCONFIRMED:
            locked.status = Status.WAITING
            locked.confirmed_at = timezone.now()
            locked.save(update_fields=["status", "confirmed_at", "updated_at"])
            bump_content_version(TICKETS)  # the ticket page leaves the seat to the line
            seats_freed([entry.ticket_type_id])
    entry.refresh_from_db()
    return entry


def position(entry):
    """Return the entry's place in line (1 is next), or None when it is not waiting."""
    if entry.status != Status.WAITING:
        return None
    ahead = WaitingListEntry.objects.in_line().filter(ticket_type_id=entry.ticket_type_id)
    ahead = ahead.filter(confirmed_at__lt=entry.confirmed_at) | ahead.filter(
        confirmed_at=entry.confirmed_at, id__lt=entry.id
    )
    return ahead.count() + 1


# -- Offers ----------------------------------------------------------------------------


@dataclass
class Processed:
    """What one run of process_waiting_lists did."""

    expired: int = 0
    offered: int = 0
    forgotten: int = 0


def seats_freed(type_ids):
    """Offer the seats of these types once the current transaction commits.

    Call it wherever seats may have come free (an order ended, a capacity raised); the
    periodic process_waiting_lists catches whatever is not announced, such as a reservation
    running out.
    """
    type_ids = sorted(set(type_ids))
    if not WaitingListEntry.objects.filter(
        ticket_type_id__in=type_ids, status__in=[Status.WAITING, Status.OFFERED]
    ).exists():
        return

    def offer():
        for type_id in type_ids:
            try:
                process_ticket_type(type_id)
            except OperationalError as error:
                # Busy: the next periodic run makes the offer.
                logger.warning("Waiting list of ticket type %s not processed: %s", type_id, error)

    transaction.on_commit(offer, robust=True)


def process_waiting_lists():
    """End the offers not used in time and offer every free seat to the next in line.

    The periodic job of the waiting list (manage.py process_waiting_lists): safe to run
    twice at once and after a gap. Also forgets addresses never confirmed.
    """
    done = Processed(forgotten=forget_unconfirmed())
    type_ids = (
        WaitingListEntry.objects.filter(status__in=[Status.WAITING, Status.OFFERED])
        .order_by("ticket_type_id")
        .values_list("ticket_type_id", flat=True)
        .distinct()
    )
    for type_id in list(type_ids):
        try:
            expired, offered = process_ticket_type(type_id)
        except OperationalError as error:
            logger.warning("Waiting list of ticket type %s not processed: %s", type_id, error)
            continue
        done.expired += expired
        done.offered += offered
    return done


def process_ticket_type(type_id):
    """Expire this type's lapsed offers and offer its free seats; return (expired, offered)."""
    with transaction.atomic():
        ticket_type = capacity.lock_ticket_types([type_id]).get(type_id)
        if ticket_type is None:
            return 0, 0
        now = timezone.now()
        expired = expire_offers(ticket_type, now)
        offered = 0
        for entry in next_in_line(ticket_type, now):
            make_offer(entry, ticket_type, now)
            offered += 1
    return expired, offered


def expire_offers(ticket_type, now):
    """Mark the type's offers that ran out as expired (they stopped holding seats already)."""
    lapsed = WaitingListEntry.objects.filter(
        ticket_type=ticket_type, status=Status.OFFERED, offer_expires_at__lte=now
    )
    return lapsed.update(status=Status.EXPIRED, updated_at=now)


def free_seats(ticket_type, now):
    """Return the seats of the (locked) type nobody holds, or 0 for an unlimited type."""
    if ticket_type.capacity is None:
        return 0
    taken = capacity.seats_taken([ticket_type.pk], now=now).get(ticket_type.pk, 0)
    return max(ticket_type.capacity - taken, 0)


def next_in_line(ticket_type, now):
    """Return the entries to offer the free seats to now: none while the type is off sale."""
    if not ticket_type.is_on_sale(now):
        return []
    free = free_seats(ticket_type, now)
    if not free:
        return []
    line = WaitingListEntry.objects.in_line().filter(ticket_type=ticket_type)
    return list(line.select_for_update()[:free])


def make_offer(entry, ticket_type, now):
    """Reserve a seat for the (locked) entry with a voucher of its own and e-mail the offer."""
    expires_at = now + dt.timedelta(hours=settings.TICKETS_WAITLIST_OFFER_HOURS)
    if ticket_type.sale_ends_at is not None:
        expires_at = min(expires_at, ticket_type.sale_ends_at)
    voucher = Voucher.objects.create(
        workshop_id=ticket_type.workshop_id,
        code=random_code(OFFER_CODE_LENGTH),
        max_uses=1,
        valid_until=expires_at,
        note=f"Waiting-list offer (entry {entry.pk}); ends with the offer.",
    )
    voucher.ticket_types.set([ticket_type])
    entry.status = Status.OFFERED
    entry.offer_voucher = voucher
    entry.offer_sent_at = now
    entry.offer_expires_at = expires_at
    entry.save()
    bump_content_version(TICKETS)
    transaction.on_commit(lambda: send_offer(entry), robust=True)


def forget_unconfirmed():
    """Delete entries whose confirmation link has expired; return how many."""
    days = settings.TICKETS_WAITLIST_CONFIRM_DAYS
    cutoff = timezone.now() - dt.timedelta(days=days)
    stale = WaitingListEntry.objects.filter(status=Status.UNCONFIRMED, created_at__lt=cutoff)
    deleted, _ = stale.delete()
    return deleted


# -- Organisers' actions ---------------------------------------------------------------------


def lock_entry(entry):
    """Lock the entry's ticket type, then the entry; return (locked type, locked entry)."""
    ticket_type = capacity.lock_ticket_types([entry.ticket_type_id])[entry.ticket_type_id]
    return ticket_type, WaitingListEntry.objects.select_for_update().get(pk=entry.pk)


def offer_now(*, entry):
    """Offer a free seat to this waiting entry now, ahead of its turn; raise OrderError."""
    with transaction.atomic():
        ticket_type, locked = lock_entry(entry)
        now = timezone.now()
        if locked.status != Status.WAITING:
            status = locked.get_status_display().lower()
            raise OrderError(f"No offer for {locked.email}: the entry is {status}.")
        if not ticket_type.is_on_sale(now):
            raise OrderError(f"“{ticket_type.name}” is not on sale now: no offer can be made.")
        if not free_seats(ticket_type, now):
            raise OrderError(
                f"No seat of “{ticket_type.name}” is free: raise its capacity first, or wait "
                "until one frees up."
            )
        make_offer(locked, ticket_type, now)
    return locked


def remove(*, entry):
    """Take an entry off the list; a running offer ends and its seat goes to the next."""
    with transaction.atomic():
        _, locked = lock_entry(entry)
        if locked.status not in WaitingListEntry.ACTIVE_STATUSES:
            status = locked.get_status_display().lower()
            raise OrderError(f"Cannot remove {locked.email}: the entry is {status} already.")
        end_offer(locked)
        locked.status = Status.REMOVED
        locked.save(update_fields=["status", "updated_at"])
        bump_content_version(TICKETS)
        seats_freed([locked.ticket_type_id])
    return locked


def end_offer(entry):
    """Make the voucher of the (locked) entry's offer unusable from now on."""
    if entry.offer_voucher_id is not None:
        Voucher.objects.filter(pk=entry.offer_voucher_id).update(valid_until=timezone.now())


def resend(*, entry):
    """E-mail again what the entry is waiting on: its confirmation link or its running offer."""
    entry.refresh_from_db()
    if entry.status == Status.UNCONFIRMED:
        send_confirmation_link(entry)
    elif entry.holds_seat(timezone.now()):
        send_offer(entry)
    else:
        raise OrderError(
            f"Nothing to send {entry.email}: the entry is {entry.get_status_display().lower()}."
        )


# -- Using an offer ----------------------------------------------------------------------


def offer_problem(entry, now):
    """Return why this entry's offer cannot be used at ``now``, or None when it can."""
    if entry.holds_seat(now):
        return None
    if entry.status == Status.USED:
        return "This waiting-list offer has already been used."
    if entry.status == Status.REMOVED:
        return "This waiting-list offer was withdrawn by the organisers."
    if entry.status in (Status.OFFERED, Status.EXPIRED):
        return (
            "This waiting-list offer has expired, and the seat has passed to the next person "
            "in line."
        )
    return "This waiting-list offer cannot be used."


def claim_offer(voucher, counts, *, now):
    """Return the running offer a new order uses through ``voucher``, or None for another voucher.

    Call it under the locks of create_order, with the time read once they were held. Raise
    OrderError when the voucher is an offer that was used, withdrawn or ran out.
    """
    if voucher is None:
        return None
    entry = WaitingListEntry.objects.filter(offer_voucher=voucher).first()
    if entry is None:
        return None
    if entry.ticket_type_id not in counts:
        raise OrderError("This waiting-list offer is for another ticket type.")
    if problem := offer_problem(entry, now):
        raise OrderError(problem)
    return entry


def use_offer(entry, order):
    """Record that the offer became this order, which now holds the seat instead."""
    entry.status = Status.USED
    entry.order = order
    entry.save(update_fields=["status", "order", "updated_at"])


# -- E-mails ---------------------------------------------------------------------------


def mail(entry, subject, template, **context):
    workshop = entry.ticket_type.workshop
    context = {"entry": entry, "workshop": workshop, "site_url": settings.SITE_URL, **context}
    send_mail(
        subject=subject,
        message=render_to_string(template, context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[entry.email],
    )


def send_confirmation_link(entry):
    days = settings.TICKETS_WAITLIST_CONFIRM_DAYS
    mail(
        entry,
        f"Confirm your place on the waiting list: {entry.ticket_type.name}",
        "tickets/email/waitlist_confirm.txt",
        link=confirm_url(entry),
        days=days,
    )


def send_offer(entry):
    entry.refresh_from_db()
    if entry.status != Status.OFFERED:
        return
    ticket_type = entry.ticket_type
    mail(
        entry,
        f"A seat is free for you: {ticket_type.name}",
        "tickets/email/waitlist_offer.txt",
        link=offer_url(entry),
        expires_at=timezone.localtime(entry.offer_expires_at, ticket_type.workshop.tzinfo),
    )
