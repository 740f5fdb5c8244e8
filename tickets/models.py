import datetime as dt
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Lower
from django.urls import reverse
from django.utils import timezone

from tickets.money import format_amount, price_problem, quantize
from workshop.models import OutgoingEmail, Workshop
from workshop.security import secret_matches

# Letters and digits that cannot be mistaken for each other when read aloud or typed.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def random_code(length):
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def new_order_secret():
    return secrets.token_urlsafe(32)


def seat_holding_rules(now):
    """Return the ways an order holds its seats at ``now``, as field lookups: any one suffices.

    Paid orders and payments Stripe is still processing hold them; pending orders hold them while
    they wait for an invoice to be paid or while their card reservation runs. The database filter
    (``holding_seats_q``), ``Order.holds_seats`` and every seat count are made from these.
    """
    return (
        {"status__in": Order.SEAT_HOLDING_STATUSES},
        {"status": Order.Status.PENDING, "payment_method": Order.Method.INVOICE},
        {"status": Order.Status.PENDING, "reserved_until__gt": now},
    )


def holding_seats_q(now, prefix=""):
    """Return a filter for orders (or, with ``prefix``, rows reaching them) holding seats."""
    query = Q(pk__in=[])
    for rule in seat_holding_rules(now):
        query |= Q(**{f"{prefix}{lookup}": value for lookup, value in rule.items()})
    return query


def satisfies(obj, lookup, value):
    """Evaluate one field lookup of a seat-holding rule on an object in memory."""
    name, _, operator = lookup.partition("__")
    actual = getattr(obj, name)
    if operator == "in":
        return actual in value
    if operator == "gt":
        return actual is not None and actual > value
    return actual == value


def count_of(queryset):
    """Return a subquery counting the rows of ``queryset`` (0 for none)."""
    counted = queryset.order_by().values("ticket_type").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted), 0)


class TicketTypeQuerySet(models.QuerySet):
    def listed(self, *, workshop, unlocked_ids=()):
        """Return the types shown on the tickets page: visible ones and those a voucher unlocks."""
        return self.filter(Q(visible=True) | Q(id__in=list(unlocked_ids)), workshop=workshop)

    def on_sale(self, now=None):
        """Return the types whose sale window is open now."""
        now = now or timezone.now()
        return self.filter(
            Q(sale_starts_at__isnull=True) | Q(sale_starts_at__lte=now),
            Q(sale_ends_at__isnull=True) | Q(sale_ends_at__gt=now),
        )

    def with_seats_taken(self, now=None):
        """Annotate ``seats_taken`` (seats of holding orders and running waiting-list offers)
        and ``seats_waiting`` (people waiting in line), as tickets/services/capacity.py counts.
        """
        now = now or timezone.now()
        entries = WaitingListEntry.objects.filter(ticket_type=OuterRef("pk"))
        return self.annotate(
            seats_taken=Count(
                "tickets",
                filter=holding_seats_q(now, prefix="tickets__order__")
                & Q(tickets__refund__isnull=True),
            )
            + count_of(entries.holding_seats(now)),
            seats_waiting=count_of(entries.in_line()),
        )


class TicketType(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="ticket_types")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="In the workshop's currency. 0 for a free ticket.",
    )
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seats for sale. Empty means unlimited."
    )
    sale_starts_at = models.DateTimeField(null=True, blank=True)
    sale_ends_at = models.DateTimeField(null=True, blank=True)
    visible = models.BooleanField(
        default=True, help_text="Hidden types are sold only with a voucher that unlocks them."
    )
    min_per_order = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    max_per_order = models.PositiveSmallIntegerField(default=10, validators=[MinValueValidator(1)])
    invoice_allowed = models.BooleanField(
        default=False,
        help_text="Offer payment by invoice / bank transfer for orders of only such types.",
    )
    position = models.PositiveSmallIntegerField(default=0)

    objects = TicketTypeQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=0), name="ticket_type_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(max_per_order__gte=models.F("min_per_order")),
                name="ticket_type_max_at_least_min",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.min_per_order and self.max_per_order and self.max_per_order < self.min_per_order:
            raise ValidationError({"max_per_order": "Must be at least the minimum per order."})
        if self.sale_starts_at and self.sale_ends_at and self.sale_ends_at <= self.sale_starts_at:
            raise ValidationError({"sale_ends_at": "Sales must end after they start."})
        currency = self.workshop.currency if self.workshop_id else ""
        if currency and (problem := price_problem(self.price, currency)):
            raise ValidationError({"price": problem})
        if currency and self.price is not None:
            self.check_voucher_prices(currency)

    def check_voucher_prices(self, currency):
        """Refuse a price that a voucher for this type would bring below what Stripe charges.

        Checked here as well as on the voucher, so that neither save leaves a price that only
        the checkout would refuse.
        """
        applying = Q(ticket_types__isnull=True) if self.visible else Q(pk__in=[])
        if self.pk:
            applying |= Q(ticket_types=self)
        for voucher in Voucher.objects.filter(applying, workshop_id=self.workshop_id).distinct():
            price = voucher.discounted_price(self.price, currency)
            if problem := price_problem(price, currency):
                cost = format_amount(price, currency)
                message = f"With the voucher {voucher.code} this ticket would cost {cost}."
                raise ValidationError({"price": f"{message} {problem}"})

    def is_on_sale(self, now=None):
        now = now or timezone.now()
        started = self.sale_starts_at is None or self.sale_starts_at <= now
        return started and (self.sale_ends_at is None or self.sale_ends_at > now)

    def sales_not_started(self, now=None):
        now = now or timezone.now()
        return self.sale_starts_at is not None and self.sale_starts_at > now

    @property
    def seats_left(self):
        """Return the seats a new buyer may take, or None when unlimited.

        Seats free while people wait in line are theirs. Needs ``with_seats_taken``.
        """
        if self.capacity is None:
            return None
        return max(self.capacity - self.seats_taken - self.seats_waiting, 0)


class Voucher(models.Model):
    class Discount(models.TextChoices):
        NONE = "none", "No discount (only unlocks ticket types)"
        PERCENT = "percent", "Percentage off each ticket"
        FIXED = "fixed", "Fixed amount off each ticket"

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="vouchers")
    code = models.CharField(max_length=50, help_text="Case does not matter; stored in capitals.")
    discount = models.CharField(max_length=10, choices=Discount.choices, default=Discount.NONE)
    value = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Percent (0-100) or amount in the workshop's currency.",
    )
    ticket_types = models.ManyToManyField(
        TicketType,
        blank=True,
        related_name="vouchers",
        help_text="Types the voucher applies to; hidden ones listed here are unlocked. "
        "Empty means every visible type.",
    )
    max_uses = models.PositiveIntegerField(
        null=True, blank=True, help_text="Orders that may use it. Empty means unlimited."
    )
    valid_until = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True, help_text="For organisers only.")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["workshop", "code"], name="voucher_code_per_workshop")
        ]

    def __str__(self):
        return self.code

    def save(self, *args, **kwargs):
        self.code = self.code.strip().upper()
        super().save(*args, **kwargs)

    def clean(self):
        if self.discount == self.Discount.PERCENT and self.value > 100:
            raise ValidationError({"value": "A percentage cannot be more than 100."})
        if self.workshop_id:
            self.check_prices(self.chosen_ticket_types())

    def chosen_ticket_types(self):
        """Return the types the voucher is for: those a form is saving, else the saved ones.

        A form sets ``ticket_types_chosen`` before the model is cleaned, because the many-to-many
        rows are written only after ``clean()``; checking the saved ones would judge the old
        choice (and refuse a change that mends it).
        """
        chosen = getattr(self, "ticket_types_chosen", None)
        if chosen is not None:
            return list(chosen)
        return list(self.ticket_types.all()) if self.pk else []

    def check_prices(self, ticket_types):
        """Refuse a value that gives a price the workshop's currency cannot charge.

        ``ticket_types`` are the types chosen; none means every visible type of the workshop.
        """
        currency = self.workshop.currency
        if self.discount == self.Discount.FIXED and (
            problem := price_problem(self.value, currency)
        ):
            raise ValidationError({"value": problem.replace("A price", "An amount")})
        types = ticket_types or self.workshop.ticket_types.filter(visible=True)
        for ticket_type in types:
            price = self.discounted_price(ticket_type.price, currency)
            if problem := price_problem(price, currency):
                cost = format_amount(price, currency)
                message = f"With this voucher “{ticket_type.name}” would cost {cost}. {problem}"
                raise ValidationError({"value": message})

    def discounted_price(self, price, currency):
        """Return what a ticket of this list price costs with the voucher."""
        if self.discount == self.Discount.PERCENT:
            price = price * (100 - min(self.value, Decimal(100))) / 100
        elif self.discount == self.Discount.FIXED:
            price = max(price - self.value, Decimal(0))
        return quantize(price, currency)

    def is_valid_at(self, now):
        return self.valid_until is None or self.valid_until > now


class WaitingListQuerySet(models.QuerySet):
    def holding_seats(self, now):
        """Return the entries whose offer holds a seat at ``now`` (see WaitingListEntry)."""
        return self.filter(status=WaitingListEntry.Status.OFFERED, offer_expires_at__gt=now)

    def in_line(self):
        """Return the confirmed entries still waiting, first in line first."""
        return self.filter(status=WaitingListEntry.Status.WAITING).order_by("confirmed_at", "id")


class WaitingListEntry(models.Model):
    """A visitor waiting for a seat of a sold-out ticket type, and the offer they get.

    An entry joins the line once its e-mail address is confirmed; the line is in the order of
    confirmation. When a seat frees up, the first in line gets an offer: a voucher for one
    ticket of the type, reserved for them until ``offer_expires_at``. While it runs, the offer
    holds its seat exactly as an order does (tickets/services/capacity.py).
    """

    class Status(models.TextChoices):
        UNCONFIRMED = "unconfirmed", "E-mail not confirmed yet"
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offer sent"
        USED = "used", "Offer used"
        EXPIRED = "expired", "Offer expired"
        REMOVED = "removed", "Removed"

    # At most one entry per address and type is in one of these at a time.
    ACTIVE_STATUSES = [Status.UNCONFIRMED, Status.WAITING, Status.OFFERED]

    ticket_type = models.ForeignKey(
        TicketType, on_delete=models.CASCADE, related_name="waiting_list"
    )
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UNCONFIRMED)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the address was confirmed: the place in line."
    )
    offer_voucher = models.OneToOneField(
        Voucher,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="waiting_list_entry",
        help_text="The voucher of the offer, usable for one ticket of this type.",
    )
    offer_sent_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    order = models.ForeignKey(
        "Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The order placed with the offer.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = WaitingListQuerySet.as_manager()

    class Meta:
        ordering = ["ticket_type", "confirmed_at", "id"]
        verbose_name = "waiting list entry"
        verbose_name_plural = "waiting list"
        constraints = [
            models.UniqueConstraint(
                "ticket_type",
                Lower("email"),
                condition=Q(status__in=["unconfirmed", "waiting", "offered"]),
                name="waiting_list_one_active_entry_per_address",
            ),
            models.CheckConstraint(
                condition=~Q(status="offered") | Q(offer_expires_at__isnull=False),
                name="waiting_list_offer_has_expiry",
            ),
        ]

    def __str__(self):
        return f"{self.email} ({self.ticket_type})"

    def holds_seat(self, now):
        """Return whether the offer holds its seat at ``now``: the rule of holding_seats."""
        return self.status == self.Status.OFFERED and self.offer_expires_at > now


class OrderQuerySet(models.QuerySet):
    def holding_seats(self, now):
        """Return the orders that hold their seats at ``now``."""
        return self.filter(holding_seats_q(now))

    def of_user(self, user):
        """Return the user's orders: placed signed in, or claimed (services.order_links).

        Not those merely bought with one of the account's addresses: anyone can add an address
        to their account, and its owner may confirm it without a second thought.
        """
        return self.filter(user=user)

    def with_code(self, code):
        """Return the orders with this code (one or none)."""
        # PostgreSQL refuses NUL characters in a query; no order code has one.
        return self.filter(code=code) if "\x00" not in code else self.none()

    def by_secret(self, code, secret):
        """Return the order whose secret link this is, or None (compared in constant time)."""
        order = self.with_code(code).first()
        return order if order is not None and secret_matches(secret, order.secret) else None


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending payment"
        PROCESSING = "processing", "Payment processing"
        PAID = "paid", "Paid"
        PARTLY_REFUNDED = "partly_refunded", "Partly refunded"
        REFUNDED = "refunded", "Refunded"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    class Method(models.TextChoices):
        STRIPE = "stripe", "Card (Stripe)"
        INVOICE = "invoice", "Invoice / bank transfer"
        FREE = "free", "Free"

    SEAT_HOLDING_STATUSES = [Status.PROCESSING, Status.PAID, Status.PARTLY_REFUNDED]
    PAID_STATUSES = [Status.PAID, Status.PARTLY_REFUNDED]

    workshop = models.ForeignKey(Workshop, on_delete=models.PROTECT, related_name="orders")
    code = models.CharField(max_length=12, unique=True, editable=False)
    secret = models.CharField(max_length=64, default=new_order_secret, editable=False)
    buyer_name = models.CharField(max_length=200)
    buyer_email = models.EmailField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ticket_orders",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    payment_method = models.CharField(max_length=10, choices=Method.choices)
    voucher = models.ForeignKey(
        Voucher, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    subtotal = models.DecimalField(max_digits=10, decimal_places=2)
    discount_total = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=10, decimal_places=2)
    refunded_amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3)
    stripe_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_session_url = models.URLField(max_length=1000, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    reserved_until = models.DateTimeField(null=True, blank=True)
    invoice_details = models.TextField(
        blank=True, help_text="Billing address for the invoice; required for invoice orders."
    )
    billing_name = models.CharField(
        max_length=200, blank=True, help_text="Name on the invoice; empty means the buyer's."
    )
    vat_number = models.CharField(max_length=30, blank=True, verbose_name="buyer's VAT number")
    po_number = models.CharField(max_length=50, blank=True, verbose_name="purchase order number")
    code_of_conduct_accepted_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_due_on = models.DateField(
        null=True, blank=True, help_text="Invoice orders: the day the bank transfer is due."
    )
    payment_reminder_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the buyer was reminded of the due date."
    )
    refund_owed = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        verbose_name="to return by bank transfer",
        help_text="Money received by bank transfer that the organisers must still send back "
        "to the buyer (nothing can be refunded to a bank account automatically).",
    )
    client_hash = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        db_index=True,
        help_text="Keyed hash of the buyer's network address, for the cap on unpaid seats.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(
                condition=Q(refund_owed__gte=0), name="order_refund_owed_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.code} ({self.buyer_name})"

    def get_absolute_url(self):
        return reverse("tickets:order_detail", args=[self.code, self.secret])

    @property
    def is_paid(self):
        return self.status in self.PAID_STATUSES

    @property
    def status_label(self):
        """Return the status as the buyer reads it: nothing was paid for a free order."""
        if self.status == self.Status.PAID and self.payment_method == self.Method.FREE:
            return "Confirmed"
        return self.get_status_display()

    @property
    def invoice(self):
        """Return the order's latest invoice, or None (prefetch ``invoices`` for lists)."""
        return next(iter(self.invoices.all()), None)

    @property
    def payment_last_day(self):
        """Return the last day an unpaid invoice order keeps its seats: due date plus grace."""
        if self.payment_due_on is None:
            return None
        return self.payment_due_on + dt.timedelta(days=self.workshop.payment_grace_days)

    def billing_documents(self):
        """Return the order's invoices and credit notes, oldest first (prefetch both for lists)."""
        documents = [*self.invoices.all(), *self.credit_notes.all()]
        return sorted(documents, key=lambda document: (document.created_at, document.number))

    def holds_seats(self, now=None):
        """Return whether the order holds its seats at ``now`` (see seat_holding_rules)."""
        rules = seat_holding_rules(now or timezone.now())
        return any(all(satisfies(self, *item) for item in rule.items()) for rule in rules)


class Refund(models.Model):
    """Money going back to an order's buyer: by card through Stripe, or by bank transfer.

    A refund made here is decided under the order's row lock (tickets/services/refunds.py): its
    amount is counted in ``Order.refunded_amount`` from that moment, so that two refunds at
    once can never give back more than was paid, and its tickets (if any) stop admitting their
    holders. A card refund is then sent to Stripe, and the status Stripe gives it is recorded;
    one that fails no longer counts, and the money is still owed. Refunds made in Stripe's
    dashboard are recorded here when Stripe tells of them (``origin``).
    """

    class Method(models.TextChoices):
        CARD = "card", "Card (Stripe)"
        BANK_TRANSFER = "bank_transfer", "Bank transfer"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Origin(models.TextChoices):
        SITE = "site", "On this site"
        STRIPE_DASHBOARD = "stripe", "In Stripe's dashboard"

    # Statuses whose amount counts as given back (a pending refund is on its way).
    COUNTED_STATUSES = [Status.PENDING, Status.SUCCEEDED]

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=20, choices=Method.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.SITE)
    reason = models.CharField(max_length=200, blank=True)
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self):
        return f"{format_amount(self.amount, self.currency)} ({self.get_status_display()})"

    @property
    def counted(self):
        return self.status in self.COUNTED_STATUSES


class TicketQuerySet(models.QuerySet):
    def admitting(self):
        """Return the tickets that let their holders in: of paid orders, not refunded."""
        return self.filter(order__status__in=Order.PAID_STATUSES, refund__isnull=True)


class Ticket(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tickets")
    ticket_type = models.ForeignKey(TicketType, on_delete=models.PROTECT, related_name="tickets")
    attendee_name = models.CharField(max_length=200)
    attendee_email = models.EmailField()
    code = models.CharField(max_length=16, unique=True, editable=False)
    price = models.DecimalField(max_digits=10, decimal_places=2, help_text="Price paid.")
    refund = models.ForeignKey(
        Refund,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        help_text="The refund that cancelled this ticket: it no longer admits its holder.",
    )
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The organiser who checked the attendee in.",
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        permissions = [("check_in", "Can check attendees in at the door")]

    def __str__(self):
        return f"{self.code} {self.attendee_name}"


class CheckInEvent(models.Model):
    """One line of a ticket's check-in log: a check-in, an undo or a refusal, with who and when."""

    class Action(models.TextChoices):
        CHECK_IN = "check_in", "Checked in"
        UNDO = "undo", "Check-in undone"
        REFUSED = "refused", "Refused"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="check_in_events")
    action = models.CharField(max_length=10, choices=Action.choices)
    created_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.ticket.code}: {self.get_action_display()}"


class OrderEvent(models.Model):
    """One line of an order's history: a status change or a payment fact."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.from_status} → {self.to_status}: {self.note}"


class InvoiceSequence(models.Model):
    """The last number used for a prefix in a year of one series; locked while a number is taken."""

    class Series(models.TextChoices):
        INVOICE = "invoice", "Invoices"
        CREDIT_NOTE = "credit_note", "Credit notes"

    series = models.CharField(max_length=20, choices=Series.choices, default=Series.INVOICE)
    prefix = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["series", "prefix", "year"], name="invoice_sequence_per_series_and_year"
            )
        ]

    def __str__(self):
        return f"{self.get_series_display()} {self.prefix}-{self.year}: {self.last_number}"


class IssuedDocumentChanged(Exception):
    """An issued invoice or credit note was about to be changed or deleted: it never is."""


class IssuedDocumentQuerySet(models.QuerySet):
    """Invoices and credit notes are inserted once and never updated or deleted."""

    def update(self, **kwargs):
        raise IssuedDocumentChanged(
            f"{self.model.__name__} rows are never changed after issue; "
            "issue a credit note to correct an invoice."
        )

    def delete(self):
        raise IssuedDocumentChanged(f"{self.model.__name__} rows are never deleted.")


class IssuedDocument(models.Model):
    """What an invoice and a credit note share: a number and a snapshot of parties and items.

    Once saved the row is a record for the accounts: saving it again, updating it through a
    QuerySet (``update``, ``bulk_update``) or deleting it raises ``IssuedDocumentChanged``.
    """

    number = models.CharField(max_length=40, unique=True)
    issued_on = models.DateField()
    seller_name = models.CharField(max_length=200)
    seller_address = models.TextField(blank=True)
    seller_note = models.TextField(blank=True)
    buyer_name = models.CharField(max_length=200)
    buyer_email = models.EmailField()
    billing_address = models.TextField(blank=True)
    vat_number = models.CharField(max_length=30, blank=True, verbose_name="buyer's VAT number")
    po_number = models.CharField(max_length=50, blank=True, verbose_name="purchase order number")
    lines = models.JSONField(
        default=list, help_text="Description, quantity, unit price and amount of each item."
    )
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=10, decimal_places=2)
    discount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=10, decimal_places=2, help_text="Tax included.")
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    tax_label = models.CharField(max_length=30, blank=True)
    tax_amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = IssuedDocumentQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise IssuedDocumentChanged(f"{self.number} was issued and is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise IssuedDocumentChanged(f"{self.number} was issued and is never deleted.")

    @property
    def net_total(self):
        return self.total - self.tax_amount

    def items(self):
        """Return the lines with their amounts as Decimals."""
        return [
            {
                **line,
                "unit_price": Decimal(line["unit_price"]),
                "amount": Decimal(line["amount"]),
            }
            for line in self.lines
        ]


class Invoice(IssuedDocument):
    """A numbered invoice for an order: a snapshot of seller, buyer, items and totals.

    An order has one invoice, or a second one when a payment is accepted after the first was
    cancelled by a credit note (an invoice order paid after it expired).
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    bank_details = models.TextField(
        blank=True, help_text="Where to pay, for invoice orders (the workshop's at issue)."
    )

    kind = "Invoice"

    class Meta(IssuedDocument.Meta):
        pass


class CreditNote(IssuedDocument):
    """A numbered credit note cancelling all or part of an invoice (a cancellation invoice).

    Issued when an invoiced order is cancelled, expires unpaid or is refunded; the amounts are
    what is credited, shown with a minus sign.
    """

    class Settlement(models.TextChoices):
        NOTHING_DUE = "nothing_due", "Nothing was paid: nothing is due"
        CARD = "card", "Refunded to the card"
        BANK_TRANSFER = "bank_transfer", "To be returned by bank transfer"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="credit_notes")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    reason = models.CharField(max_length=200)
    settlement = models.CharField(max_length=20, choices=Settlement.choices)

    kind = "Credit note"

    class Meta(IssuedDocument.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(total__gt=0), name="credit_note_total_positive"),
        ]


class StripeEvent(models.Model):
    """A webhook event received from Stripe; its unique id makes each one processed once."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="stripe_events"
    )
    object_id = models.CharField(max_length=255, blank=True)
    payload = models.JSONField(default=dict)
    result = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.event_id} {self.type}"


class RejectedPayment(models.Model):
    """A payment Stripe took that did not match its order (amount, currency or order named).

    It is refunded in full at once, never recorded as the order's payment, and kept here so
    that organisers see it on the order and on the dashboard.
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="rejected_payments")
    stripe_payment_intent_id = models.CharField(max_length=255, unique=True)
    stripe_session_id = models.CharField(max_length=255, blank=True)
    # In the payment's own currency, exactly as Stripe took it (three decimals fit every one).
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=300)
    stripe_refund_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{format_amount(self.amount, self.currency)} for {self.order.code}: {self.reason}"


class Dispute(models.Model):
    """A buyer's dispute of a card payment with their bank (a chargeback), as Stripe tells it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open: answer it in the Stripe dashboard"
        WON = "won", "Won: the money stays"
        LOST = "lost", "Lost: the money went back to the buyer"
        CLOSED = "closed", "Closed without a chargeback"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="disputes")
    stripe_dispute_id = models.CharField(max_length=255, unique=True)
    stripe_charge_id = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=50, blank=True, help_text="Stripe's reason code.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    respond_by = models.DateTimeField(
        null=True, blank=True, help_text="Evidence must reach Stripe before this time."
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self):
        return f"{self.stripe_dispute_id} ({self.get_status_display()})"


class AttendeeMessageQuerySet(models.QuerySet):
    def with_delivery_counts(self):
        """Annotate each message with its recipients and how many e-mails are where.

        ``queued_count`` counts e-mails the mail server has not accepted yet (queued, or being
        sent right now); ``sent_count`` those it accepted; ``failed_count`` those given up.
        """
        email_state = "deliveries__outgoing_email__state"
        State = OutgoingEmail.State
        return self.annotate(
            recipient_count=Count("deliveries"),
            queued_count=Count(
                "deliveries", filter=Q(**{f"{email_state}__in": [State.QUEUED, State.SENDING]})
            ),
            sent_count=Count("deliveries", filter=MessageDelivery.sent_q("deliveries__")),
            failed_count=Count("deliveries", filter=Q(**{email_state: State.FAILED})),
        )


class AttendeeMessage(models.Model):
    """An e-mail from the organisers to the holders of paid tickets of one workshop."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        # Its recipients are frozen and an e-mail each is queued: how far each got is the
        # state of that e-mail (MessageDelivery.state), not of the message.
        SENT = "sent", "Sent out"

    workshop = models.ForeignKey(
        Workshop, on_delete=models.PROTECT, related_name="attendee_messages"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown.")
    ticket_types = models.ManyToManyField(
        TicketType,
        blank=True,
        related_name="attendee_messages",
        help_text="Send only to holders of these types. None chosen means every paid ticket.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attendee_messages",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was sent out: its e-mails were queued."
    )

    objects = AttendeeMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("send_message", "Can write and send messages to attendees")]

    def __str__(self):
        return self.subject


class MessageDelivery(models.Model):
    """One recipient of an attendee message, and the e-mail in the mail log that carries it.

    The e-mail's state is the delivery's: queued until the mail server accepts it, then sent,
    or failed after its last attempt (workshop/mail.py retries it and organisers may too).
    """

    message = models.ForeignKey(
        AttendeeMessage, on_delete=models.CASCADE, related_name="deliveries"
    )
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    # Set in the transaction that creates the delivery. The mail log deletes only sent e-mails
    # (after EMAIL_LOG_DAYS), so a delivery whose e-mail is gone was sent; unsent ones are
    # deleted only together with their delivery (tickets/privacy.py).
    outgoing_email = models.OneToOneField(
        OutgoingEmail,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="message_delivery",
    )

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "message deliveries"
        constraints = [
            models.UniqueConstraint(
                "message", Lower("email"), name="message_delivery_one_per_address"
            ),
        ]

    def __str__(self):
        return f"{self.email}: {self.get_state_display()}"

    @staticmethod
    def sent_q(prefix=""):
        """Return the filter of sent deliveries: their e-mail was sent, or has left the log."""
        return Q(**{f"{prefix}outgoing_email__state": OutgoingEmail.State.SENT}) | Q(
            **{f"{prefix}outgoing_email__isnull": True}
        )

    @property
    def state(self):
        """Return how far the e-mail got, one of OutgoingEmail.State."""
        if self.outgoing_email is None:
            return OutgoingEmail.State.SENT
        return OutgoingEmail.State(self.outgoing_email.state)

    def get_state_display(self):
        return self.state.label
