"""Test data: one factory per model."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from speakers.models import Speaker
from workshop.models import Page, Supporter, Workshop


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


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
