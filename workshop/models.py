import datetime as dt
import zoneinfo
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.module_loading import import_string


@cache
def time_zone_names():
    """Return the IANA time zone names this machine knows, sorted."""
    return sorted(zoneinfo.available_timezones())


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not an IANA time zone name such as Europe/Berlin.")


class WorkshopQuerySet(models.QuerySet):
    def current(self):
        """Return the workshop the site is about: the one marked current, else the latest."""
        return self.order_by("-is_current", "-starts_at").first()


class Workshop(models.Model):
    class Format(models.TextChoices):
        ONLINE = "online", "Online"
        IN_PERSON = "in_person", "In person"
        HYBRID = "hybrid", "Hybrid"

    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=100,
        unique=True,
        help_text="Short name used in exports and calendar ids, e.g. pydata-global-2022-mlsci.",
    )
    tagline = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True, help_text="Markdown.")
    keywords = models.CharField(
        max_length=300, blank=True, help_text="Themes, separated by commas."
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="IANA name, e.g. Europe/Berlin. Times on the site are shown in this zone.",
    )
    format = models.CharField(max_length=20, choices=Format.choices, default=Format.ONLINE)
    venue = models.TextField(
        blank=True, help_text="Markdown. Address and directions for in-person or hybrid events."
    )
    joining_details = models.TextField(
        blank=True,
        help_text="Markdown. How to join online; shown only to holders of paid tickets.",
    )
    contact_email = models.EmailField(blank=True)
    ticket_info = models.TextField(blank=True, help_text="Markdown shown on the tickets page.")
    currency = models.CharField(
        max_length=3, default="EUR", help_text="ISO 4217 code of ticket prices, e.g. EUR."
    )
    organiser_name = models.CharField(max_length=200, blank=True)
    organiser_address = models.TextField(blank=True, help_text="Shown on invoices.")
    # Ticket prices include this tax; invoices show the part of the total it makes up.
    tax_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Percent included in ticket prices, shown on invoices, e.g. 19. 0 for none.",
    )
    tax_label = models.CharField(max_length=30, default="VAT", help_text="E.g. VAT or GST.")
    invoice_prefix = models.CharField(
        max_length=20,
        default="INV",
        validators=[RegexValidator(r"^[A-Z0-9]+$", "Capital letters and digits only.")],
        help_text="Invoice numbers read PREFIX-YEAR-0001; each prefix counts on its own.",
    )
    credit_note_prefix = models.CharField(
        max_length=20,
        default="CN",
        validators=[RegexValidator(r"^[A-Z0-9]+$", "Capital letters and digits only.")],
        help_text="Credit notes (which cancel all or part of an invoice) read PREFIX-YEAR-0001, "
        "numbered apart from invoices.",
    )
    invoice_note = models.TextField(
        blank=True,
        help_text="Printed on every invoice, e.g. the organiser's VAT number.",
    )
    bank_details = models.TextField(
        blank=True,
        help_text="Where invoice orders are paid: account holder, IBAN, BIC and bank. Shown on "
        "invoices, the order page and the e-mails of invoice orders.",
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MaxValueValidator(365)],
        help_text="Days an invoice order has to pay; never later than the day the workshop starts.",
    )
    payment_reminder_days = models.PositiveSmallIntegerField(
        default=3,
        validators=[MaxValueValidator(365)],
        help_text="Days before the due date that the buyer of an unpaid invoice order is "
        "reminded. 0: on the due date.",
    )
    payment_grace_days = models.PositiveSmallIntegerField(
        default=3,
        validators=[MaxValueValidator(365)],
        help_text="Days after the due date that an unpaid invoice order still holds its "
        "seats; then it expires, its seats are sold again and the buyer is told.",
    )
    buyer_cancellation_until = models.DateTimeField(
        null=True,
        blank=True,
        verbose_name="buyers may cancel until",
        help_text="Until then a buyer may cancel their own order on its page: free and unpaid "
        "orders at once, paid ones only if allowed below. Empty: buyers cannot cancel; they "
        "write to the organisers.",
    )
    buyer_cancellation_paid = models.BooleanField(
        default=False,
        verbose_name="buyers may cancel paid orders",
        help_text="A paid order cancelled by its buyer is refunded, less the fee below.",
    )
    buyer_cancellation_fee = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        verbose_name="cancellation fee",
        help_text="Kept from the refund of a paid order its buyer cancels, in the workshop's "
        "currency (never more than was paid). 0: refunded in full.",
    )
    is_current = models.BooleanField(
        default=True, help_text="The workshop the public site shows. Only one can be current."
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkshopQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        permissions = [("view_dashboard", "Can open the organisers' dashboard")]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=models.Q(is_current=True),
                name="one_current_workshop",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="workshop_ends_after_start",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("workshop:home")

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The workshop must end after it starts."})
        if self.currency:
            self.currency = self.currency.upper()
        if self.credit_note_prefix and self.credit_note_prefix == self.invoice_prefix:
            raise ValidationError(
                {"credit_note_prefix": "Use a prefix other than the invoices' own."}
            )
        for check in settings.WORKSHOP_CHECKS:
            import_string(check)(self)

    @property
    def tzinfo(self):
        return zoneinfo.ZoneInfo(self.time_zone)

    def invoice_due_date(self, placed_at):
        """Return the day an invoice order placed at ``placed_at`` is due: the payment terms
        later, but never after the day the workshop starts."""
        placed_on = timezone.localdate(placed_at, self.tzinfo)
        due = placed_on + dt.timedelta(days=self.payment_terms_days)
        return max(placed_on, min(due, timezone.localdate(self.starts_at, self.tzinfo)))

    def has_ended(self, now=None):
        """Return whether the workshop is over: then it sells no tickets and is a record."""
        return self.ends_at <= (now or timezone.now())

    @property
    def keyword_list(self):
        return [word.strip() for word in self.keywords.split(",") if word.strip()]

    @property
    def local_starts_at(self):
        return timezone.localtime(self.starts_at, self.tzinfo)

    @property
    def local_ends_at(self):
        return timezone.localtime(self.ends_at, self.tzinfo)

    @property
    def is_online(self):
        return self.format != self.Format.IN_PERSON


class Supporter(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="supporters")
    name = models.CharField(max_length=200)
    url = models.URLField(blank=True)
    logo = models.ImageField(upload_to="supporters/", blank=True)
    description = models.CharField(
        max_length=300, blank=True, help_text="What they support, e.g. financial support."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class PageQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True)

    def in_menu(self):
        """Return the published pages that have a menu position, in menu order."""
        return self.published().filter(menu_position__isnull=False).order_by("menu_position")


class Page(models.Model):
    """A free-form page such as resources, code of conduct, privacy or about."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=100, unique=True, help_text="The page is served at /<slug>/."
    )
    summary = models.CharField(
        max_length=300, blank=True, help_text="One sentence for search engines and link previews."
    )
    body = models.TextField(blank=True, help_text="Markdown.")
    published = models.BooleanField(default=False)
    menu_position = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Shown in the footer menu in this order; empty: not shown."
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["menu_position", "title"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("workshop:page", kwargs={"slug": self.slug})

    def clean(self):
        # Pages are served by a catch-all URL, so a slug that another view owns
        # (talks, tickets, admin...) would never be reachable.
        if self.slug:
            try:
                match = resolve(f"/{self.slug}/")
            except Resolver404:
                return
            if match.view_name != "workshop:page":
                raise ValidationError({"slug": f"/{self.slug}/ is already used by the site."})


class OutgoingEmailQuerySet(models.QuerySet):
    def failed(self):
        """Return the e-mails that will not be tried again unless an organiser asks."""
        return self.filter(state=OutgoingEmail.State.FAILED)

    def overdue(self, now):
        """Return the queued e-mails whose delivery should have run by ``now``."""
        return self.filter(state=OutgoingEmail.State.QUEUED, next_attempt_at__lte=now)


class OutgoingEmail(models.Model):
    """One e-mail the site sends: the message as given to Django, and how its delivery went.

    Every e-mail is written here by workshop.mail.QueuedEmailBackend, in the transaction of
    the change that caused it, and a worker delivers it (workshop.mail.deliver_email).
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    subject = models.TextField()
    recipients = models.TextField(help_text="To, Cc and Bcc, separated by commas.")
    # Everything needed to build the message again: addresses, headers, body, alternatives
    # and attachments (base64), as workshop.mail.serialise writes it.
    message = models.JSONField()
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The task that is sending it: the same task run again after its worker died may go on.
    claimed_by = models.CharField(max_length=64, blank=True)
    # Set by the code that queues it (workshop.mail.once) so that queuing again adds nothing.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)

    objects = OutgoingEmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]
        verbose_name = "outgoing e-mail"

    def __str__(self):
        return f"{self.subject} → {self.recipients}"


class WorkerHeartbeat(models.Model):
    """A task worker that is alive: it updates ``seen_at`` every few seconds while it runs."""

    worker_id = models.CharField(max_length=64, unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True)

    def __str__(self):
        return self.worker_id


class PeriodicJob(models.Model):
    """When a job of PERIODIC_TASKS (settings) is next due; workshop/scheduler.py enqueues it."""

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.name
