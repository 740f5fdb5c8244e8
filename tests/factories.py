"""Test data: one factory per model."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from schedule.models import (
    Call,
    Proposal,
    Question,
    Room,
    Slot,
    SubmissionType,
    Talk,
    TalkLink,
    Track,
)
from speakers.models import Speaker
from tickets.models import Order, Ticket, TicketType, Voucher
from workshop.models import Page, Supporter, Workshop
from workshop.roles import ensure_roles


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class OrganiserFactory(UserFactory):
    """A staff account in the organisers' group named by ``role`` (workshop/roles.py), if any."""

    class Meta:
        skip_postgeneration_save = True

    is_staff = True

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        if not extracted:
            return
        # The migration made the groups; a flushed database (transactional tests) has none.
        if not Group.objects.filter(name=extracted).exists():
            ensure_roles()
        user.groups.add(Group.objects.get(name=extracted))


class WorkshopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workshop
        django_get_or_create = ["slug"]

    title = "Real-world Perspectives in Machine Learning for Science"
    slug = factory.Sequence(lambda n: f"workshop{n}")
    tagline = "A workshop"
    description = "Learn **things**."
    starts_at = dt.datetime(2030, 12, 2, 13, 0, tzinfo=dt.UTC)
    ends_at = dt.datetime(2030, 12, 2, 18, 0, tzinfo=dt.UTC)
    time_zone = "UTC"
    contact_email = "workshop@example.org"
    is_current = True


class SupporterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supporter

    workshop = factory.SubFactory(WorkshopFactory)
    name = factory.Sequence(lambda n: f"Supporter {n}")
    url = "https://example.org/"


class PageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Page

    title = factory.Sequence(lambda n: f"Page {n}")
    slug = factory.Sequence(lambda n: f"page-{n}")
    body = "Some *text*."
    published = True


class SpeakerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Speaker

    name = factory.Sequence(lambda n: f"Speaker {n}")
    slug = factory.Sequence(lambda n: f"speaker-{n}")
    affiliation = "Example University"
    short_bio = "Works on things."
    bio = "Works on *many* things."
    published = True


# == schedule ==
class TalkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Talk
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Talk {n}")
    slug = factory.Sequence(lambda n: f"talk-{n}")
    kind = Talk.Kind.TALK
    abstract = "An *abstract*."
    track = "Evaluation"
    published = True

    @factory.post_generation
    def speakers(self, create, extracted, **kwargs):
        if create and extracted:
            self.speakers.set(extracted)


class TalkLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TalkLink

    talk = factory.SubFactory(TalkFactory)
    title = "Paper"
    url = "https://example.org/paper"
    kind = TalkLink.Kind.PAPER


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    name = factory.Sequence(lambda n: f"Room {n}")
    position = factory.Sequence(lambda n: n)
    stream_url = "https://example.org/stream"


class SlotFactory(factory.django.DjangoModelFactory):
    """A 30-minute slot at the start of the current workshop; pass ``workshop`` to choose."""

    class Meta:
        model = Slot

    workshop = factory.LazyFunction(lambda: Workshop.objects.current() or WorkshopFactory())
    room = factory.SubFactory(RoomFactory)
    start = factory.LazyAttribute(lambda slot: slot.workshop.starts_at)
    end = factory.LazyAttribute(lambda slot: slot.start + dt.timedelta(minutes=30))
    talk = factory.SubFactory(TalkFactory)
    title = ""


# == the call for proposals ==
class CallFactory(factory.django.DjangoModelFactory):
    """A call of the current workshop, open now: since 10 days, for 20 more days."""

    class Meta:
        model = Call
        django_get_or_create = ["workshop"]

    workshop = factory.LazyFunction(lambda: Workshop.objects.current() or WorkshopFactory())
    opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=10))
    closes_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=20))
    intro = "We welcome *talks* on machine learning for science."


class SubmissionTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubmissionType

    call = factory.SubFactory(CallFactory)
    name = factory.Sequence(lambda n: f"Talk {n}")
    kind = Talk.Kind.TALK
    duration = 30


class TrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Track

    call = factory.SubFactory(CallFactory)
    name = factory.Sequence(lambda n: f"Track {n}")


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    call = factory.SubFactory(CallFactory)
    text = factory.Sequence(lambda n: f"Question {n}?")


class ProposalFactory(factory.django.DjangoModelFactory):
    """A submitted proposal; its talk is unpublished. Pass ``authors`` (speakers)."""

    class Meta:
        model = Proposal
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"P{n:07d}")
    call = factory.SubFactory(CallFactory)
    talk = factory.SubFactory(TalkFactory, published=False, abstract="A proposed *talk*.")
    submission_type = factory.LazyAttribute(
        lambda proposal: SubmissionTypeFactory(call=proposal.call)
    )
    state = Proposal.State.SUBMITTED

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        if create and extracted:
            self.talk.speakers.set(extracted)


class TicketTypeFactory(factory.django.DjangoModelFactory):
    """A visible ticket type on sale now, 25.00 in the workshop's currency, 100 seats."""

    class Meta:
        model = TicketType

    workshop = factory.LazyFunction(lambda: Workshop.objects.current() or WorkshopFactory())
    name = factory.Sequence(lambda n: f"Ticket type {n}")
    price = "25.00"
    capacity = 100


class VoucherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Voucher

    workshop = factory.LazyFunction(lambda: Workshop.objects.current() or WorkshopFactory())
    code = factory.Sequence(lambda n: f"VOUCHER{n}")


class OrderFactory(factory.django.DjangoModelFactory):
    """A paid card order without tickets; add them with TicketFactory(order=...)."""

    class Meta:
        model = Order

    workshop = factory.LazyFunction(lambda: Workshop.objects.current() or WorkshopFactory())
    code = factory.Sequence(lambda n: f"ORD{n:05d}")
    buyer_name = "Ada Buyer"
    buyer_email = "ada@example.org"
    status = Order.Status.PAID
    payment_method = Order.Method.STRIPE
    subtotal = "25.00"
    total = "25.00"
    currency = "EUR"


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    order = factory.SubFactory(OrderFactory)
    ticket_type = factory.SubFactory(TicketTypeFactory)
    attendee_name = "Ada Attendee"
    attendee_email = "ada@example.org"
    code = factory.Sequence(lambda n: f"TCK{n:07d}")
    price = "25.00"
