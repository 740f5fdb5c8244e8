"""Who reaches an order: its secret link, which the buyer may replace, and the account it joins.

An order joins an account only when it is placed signed in, or when it is claimed: the account
asks, a link is e-mailed to the order's address naming the account and what it will see, and
the account's holder follows it signed in. An address merely added to an account (allauth
asks its owner to confirm it, "someone, probably you") hands over no order.
"""

import datetime as dt

from allauth.account.models import EmailAddress
from django.core import signing
from django.db import transaction

from tickets import emails
from tickets.models import Order, new_order_secret
from tickets.services import capacity
from tickets.services.lifecycle import log

CLAIM_SALT = "tickets.order-claim"
CLAIM_MAX_AGE = dt.timedelta(days=7)


class ClaimError(Exception):
    """A claim link that cannot be used; ``status`` is the HTTP status to answer with."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


def rotate_secret(*, order, reason, actor=None):
    """Give the order a new secret link, e-mail it to the buyer; the old link stops working."""
    with transaction.atomic():
        order = capacity.lock_order(order)
        order.secret = new_order_secret()
        order.save(update_fields=["secret", "updated_at"])
        log(order, order.status, order.status, f"New order link: {reason}.", actor)
        # Through the mail log, in this transaction: the new link is sent if and only if it is
        # the one that works.
        emails.send_new_order_link(order, reason)
    return order


def change_buyer_email(*, order, actor=None):
    """After an organiser gave the order another address: a new link, sent to that address.

    The order also leaves its account unless the new address is one of that account's verified
    addresses: an order handed to someone else must not stay in the old holder's "My tickets".
    The new holder can claim it for their own account.
    """
    with transaction.atomic():
        order = capacity.lock_order(order)
        if order.user_id and not account_has_address(order.user_id, order.buyer_email):
            log(
                order,
                order.status,
                order.status,
                "Left its account: its e-mail address changed to one the account does not have.",
                actor,
            )
            order.user = None
            order.save(update_fields=["user", "updated_at"])
        return rotate_secret(order=order, reason="its e-mail address changed", actor=actor)


def account_has_address(user_id, email):
    return EmailAddress.objects.filter(user_id=user_id, email__iexact=email, verified=True).exists()


def guest_orders(email):
    """Return the orders bought with ``email`` that belong to no account."""
    return Order.objects.filter(user=None, buyer_email__iexact=email).order_by("created_at")


def send_claim_links(*, user):
    """E-mail each verified address of ``user`` a link to add its account-less orders.

    Return nothing: whether an address has orders is for its owner to read in the e-mail.
    """
    addresses = EmailAddress.objects.filter(user=user, verified=True).order_by("email")
    for address in addresses:
        orders = list(guest_orders(address.email).select_related("workshop"))
        if orders:
            token = claim_token(user=user, email=address.email, orders=orders)
            emails.send_claim_link(address.email, account=user.email, orders=orders, token=token)


def claim_token(*, user, email, orders):
    payload = {"user": user.pk, "email": email.casefold(), "orders": [o.pk for o in orders]}
    return signing.dumps(payload, salt=CLAIM_SALT, compress=True)


def read_claim(*, token, user):
    """Return the orders a claim link offers to ``user``, or raise ClaimError."""
    try:
        payload = signing.loads(token, salt=CLAIM_SALT, max_age=CLAIM_MAX_AGE)
    except signing.SignatureExpired:
        raise ClaimError(
            "This link has expired. Ask for a new one on My tickets.", status=410
        ) from None
    except signing.BadSignature:
        raise ClaimError("This link is not valid.", status=404) from None
    # The link names one account; to any other it says nothing.
    if payload["user"] != user.pk:
        raise ClaimError("This link is not valid.", status=404)
    # Orders claimed since, or whose address changed since, are no longer offered.
    return guest_orders(payload["email"]).filter(pk__in=payload["orders"])


def claim_orders(*, token, user):
    """Add the orders of a claim link to ``user``'s account; return the orders added."""
    with transaction.atomic():
        offered = read_claim(token=token, user=user)
        orders = list(offered.select_for_update(of=("self",)).order_by("pk"))
        for order in orders:
            order.user = user
            order.save(update_fields=["user", "updated_at"])
            log(order, order.status, order.status, "Added to the buyer's account.", user)
    return orders
