import datetime as dt
import io
import stat
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from schedule.models import Room, Slot, Talk
from speakers.models import Speaker
from tests.factories import UserFactory, WorkshopFactory
from tickets.models import TicketType, Voucher
from workshop import demo
from workshop.models import Page, Supporter, Workshop

pytestmark = pytest.mark.django_db


def test_load_demo_creates_seed_workshop_thirty_days_ahead():
    out = io.StringIO()

    call_command("load_demo", stdout=out)

    workshop = Workshop.objects.current()
    day = timezone.now().date() + dt.timedelta(days=30)
    assert workshop.title == "Real-world Perspectives in Machine Learning for Science"
    assert workshop.starts_at == dt.datetime.combine(day, dt.time(13, 0, tzinfo=dt.UTC))
    assert workshop.ends_at == dt.datetime.combine(day, dt.time(18, 0, tzinfo=dt.UTC))
    assert demo.moved_from(workshop) == dt.datetime(2022, 12, 2, 13, 0, tzinfo=dt.UTC)
    assert f"It took place on 2 December 2022; the demo holds it on {day:%-d %B %Y}" in (
        out.getvalue()
    )
    assert workshop.format == Workshop.Format.ONLINE
    assert workshop.keyword_list == [
        "Metrics", "Evaluation", "Explanation", "Pipelines", "Testing", "Reproduction",
    ]  # fmt: skip
    assert "reproducibility crisis" in workshop.description
    assert Page.objects.published().filter(slug="resources").exists()


def snapshot():
    models = [Workshop, Supporter, Page, Speaker, Talk, Room, Slot, TicketType, Voucher]
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


def test_load_demo_twice_changes_nothing():
    call_command("load_demo", stdout=io.StringIO())
    first = snapshot()

    call_command("load_demo", stdout=io.StringIO())

    second = snapshot()
    for rows in (*first.values(), *second.values()):
        for row in rows:
            row.pop("updated_at", None)
    assert first == second


def test_load_demo_keeps_what_was_edited():
    call_command("load_demo", stdout=io.StringIO())
    Workshop.objects.update(title="Our workshop", ends_at=dt.datetime(2031, 5, 1, tzinfo=dt.UTC))
    Speaker.objects.filter(slug="ada-lindqvist").update(bio="My own bio.", published=False)
    Talk.objects.filter(slug="pipelines-as-a-bridge").update(abstract="My own abstract.")
    Talk.objects.get(slug="testing-scientific-ml-code").speakers.clear()
    Page.objects.filter(slug="about").update(body="Our team.")
    Supporter.objects.filter(position=1).update(description="Thanks!")
    Room.objects.filter(name="Main stage").update(stream_url="https://stream.example/main")
    TicketType.objects.filter(name="Supporter ticket").update(price=Decimal("30.00"))
    Voucher.objects.get(code="SPEAKER2022").ticket_types.clear()
    welcome = Slot.objects.get(title="Welcome")
    welcome.title = "Hello"
    welcome.save()
    Slot.objects.filter(title="Break").delete()
    before = snapshot()

    call_command("load_demo", stdout=io.StringIO())

    assert snapshot() == before
    workshop = Workshop.objects.get()
    assert workshop.title == "Our workshop"
    assert Speaker.objects.get(slug="ada-lindqvist").bio == "My own bio."
    assert Talk.objects.get(slug="pipelines-as-a-bridge").abstract == "My own abstract."
    assert not Talk.objects.get(slug="testing-scientific-ml-code").speakers.exists()
    assert Page.objects.get(slug="about").body == "Our team."
    assert Room.objects.get(name="Main stage").stream_url == "https://stream.example/main"
    assert TicketType.objects.get(name="Supporter ticket").price == Decimal("30.00")
    assert not Voucher.objects.get(code="SPEAKER2022").ticket_types.exists()
    assert list(Slot.objects.filter(talk=None).values_list("title", flat=True)) == [
        "Hello",
        "Closing discussion with all speakers",
    ]


def test_load_demo_creates_what_is_missing():
    call_command("load_demo", stdout=io.StringIO())
    Speaker.objects.filter(slug="jonas-weber").delete()
    Page.objects.filter(slug="privacy").delete()
    TicketType.objects.filter(name="Community ticket").delete()

    call_command("load_demo", stdout=io.StringIO())

    assert Speaker.objects.get(slug="jonas-weber").name == "Jonas Weber"
    assert Page.objects.get(slug="privacy").published
    assert TicketType.objects.get(name="Community ticket").price == 0


def test_load_demo_leaves_another_current_workshop_current():
    ours = WorkshopFactory(slug="our-2031-workshop", is_current=True)

    call_command("load_demo", stdout=io.StringIO())

    assert Workshop.objects.current() == ours
    assert Workshop.objects.get(slug=demo.WORKSHOP_SLUG).is_current is False


def test_moved_from_is_said_only_in_development(settings):
    call_command("load_demo", stdout=io.StringIO())
    workshop = Workshop.objects.get()

    settings.PRODUCTION = True

    assert demo.moved_from(workshop) is None


def test_moved_from_is_none_for_the_date_it_was_held():
    workshop = WorkshopFactory(
        slug=demo.WORKSHOP_SLUG,
        starts_at=demo.HELD_STARTS_AT,
        ends_at=demo.HELD_STARTS_AT + demo.DURATION,
    )

    assert demo.moved_from(workshop) is None


def test_ensure_demo_speaker_leaves_a_profile_linked_elsewhere(tmp_path):
    call_command("load_demo", stdout=io.StringIO())
    someone = UserFactory(email="ada@example.net")
    Speaker.objects.filter(slug="ada-lindqvist").update(user=someone)
    out = io.StringIO()

    call_command("ensure_demo_speaker", password_file=str(tmp_path / "password.txt"), stdout=out)

    assert Speaker.objects.get(slug="ada-lindqvist").user == someone
    assert "linked elsewhere; left as it is" in out.getvalue()


def test_ensure_organiser_creates_superuser_with_generated_password(tmp_path):
    password_file = tmp_path / "organiser-password.txt"
    out = io.StringIO()

    call_command("ensure_organiser", password_file=str(password_file), stdout=out)

    user = get_user_model().objects.get(username="organiser")
    password = password_file.read_text().splitlines()[2].removeprefix("password: ")
    assert user.is_superuser and user.is_staff
    assert len(password) >= 24
    assert user.check_password(password)
    assert password in out.getvalue()
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600


def test_ensure_organiser_is_idempotent_and_never_prints_again(tmp_path):
    password_file = tmp_path / "pw.txt"
    call_command("ensure_organiser", password_file=str(password_file), stdout=io.StringIO())
    password = password_file.read_text()
    out = io.StringIO()

    call_command("ensure_organiser", password_file=str(password_file), stdout=out)

    assert get_user_model().objects.filter(username="organiser").count() == 1
    assert password_file.read_text() == password
    assert "exists" in out.getvalue()
    assert password.splitlines()[2] not in out.getvalue()


def test_ensure_organiser_passwords_differ_between_machines(tmp_path, django_user_model):
    call_command("ensure_organiser", password_file=str(tmp_path / "a"), stdout=io.StringIO())
    django_user_model.objects.all().delete()

    call_command("ensure_organiser", password_file=str(tmp_path / "b"), stdout=io.StringIO())

    assert (tmp_path / "a").read_text() != (tmp_path / "b").read_text()
