import io
import stat

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from speakers.models import Speaker
from workshop.models import Page, Supporter, Workshop

pytestmark = pytest.mark.django_db


def test_load_demo_creates_seed_workshop():
    call_command("load_demo", stdout=io.StringIO())

    workshop = Workshop.objects.current()
    assert workshop.title == "Real-world Perspectives in Machine Learning for Science"
    assert workshop.local_starts_at.date().isoformat() == "2022-12-02"
    assert workshop.format == Workshop.Format.ONLINE
    assert workshop.keyword_list == [
        "Metrics", "Evaluation", "Explanation", "Pipelines", "Testing", "Reproduction",
    ]  # fmt: skip
    assert "reproducibility crisis" in workshop.description
    assert Page.objects.published().filter(slug="resources").exists()


def snapshot():
    models = [Workshop, Supporter, Page, Speaker]
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
