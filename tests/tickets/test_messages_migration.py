"""Migration 0013: deliveries made before their state was their e-mail's state."""

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tickets.models import AttendeeMessage, MessageDelivery
from workshop import mail as outgoing
from workshop.models import OutgoingEmail

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("tickets", "0011_payment_problems"), ("workshop", "0008_periodic_job")]
AFTER = [("tickets", "0014_remove_message_delivery_status")]


@pytest.fixture(autouse=True)
def latest_schema_afterwards():
    """Leave the database at every app's latest migration for the tests that follow.

    Going back to BEFORE also unapplies later migrations of other apps (a workshop column
    added after 0008); migrating forward to AFTER alone left them out, and the next tests in
    the same process failed with "no such column".
    """
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_old_deliveries_get_the_email_that_carries_them():
    apps = migrate(BEFORE)
    Workshop = apps.get_model("workshop", "Workshop")
    OldMessage = apps.get_model("tickets", "AttendeeMessage")
    OldDelivery = apps.get_model("tickets", "MessageDelivery")
    OldEmail = apps.get_model("workshop", "OutgoingEmail")
    sent_out = timezone.now() - dt.timedelta(hours=1)
    workshop = Workshop.objects.create(
        title="Old workshop",
        slug="old",
        starts_at=sent_out,
        ends_at=sent_out + dt.timedelta(hours=5),
    )
    message = OldMessage.objects.create(
        workshop=workshop, subject="Hello", body="Hi **all**.", status="partly_failed"
    )
    OldMessage.objects.filter(pk=message.pk).update(sent_at=sent_out)
    draft = OldMessage.objects.create(workshop=workshop, subject="Later", body="x")
    # "sent" meant queued in the log: the log says this one failed for good.
    OldEmail.objects.create(
        created_at=sent_out + dt.timedelta(seconds=1),
        subject="Hello",
        recipients='"Ann" <ann@example.org>',
        message={},
        state="failed",
        last_error="550 No such user",
    )
    rows = {
        "ann": ("sent", 1, ""),  # in the log
        "bea": ("sent", 1, ""),  # pruned from the log, or sent before it existed
        "cat": ("pending", 0, ""),
        "dan": ("failed", 2, "451 Later"),  # the retry job would have tried again
        "eve": ("failed", 5, "550 Gone"),  # the retry job had given up
        "fay": ("sending", 1, ""),  # its sender died mid-send
    }
    for name, (status, attempts, error) in rows.items():
        OldDelivery.objects.create(
            message=message,
            email=f"{name}@example.org",
            name=name.title(),
            status=status,
            attempts=attempts,
            last_error=error,
        )

    migrate(AFTER)

    assert AttendeeMessage.objects.get(pk=message.pk).status == "sent"
    assert AttendeeMessage.objects.get(pk=draft.pk).status == "draft"
    deliveries = {
        d.email.split("@")[0]: d for d in MessageDelivery.objects.select_related("outgoing_email")
    }
    found = {
        name: (d.state, d.outgoing_email and d.outgoing_email.attempts)
        for name, d in deliveries.items()
    }
    assert found == {
        "ann": ("failed", 0),
        "bea": ("sent", None),
        "cat": ("queued", 0),
        "dan": ("queued", 0),
        "eve": ("failed", 5),
        "fay": ("failed", 1),
    }
    assert deliveries["ann"].outgoing_email.last_error == "550 No such user"
    assert deliveries["dan"].outgoing_email.last_error == "451 Later"
    assert deliveries["fay"].outgoing_email.last_error.startswith("Sending was cut off")
    cat = deliveries["cat"].outgoing_email
    assert (cat.recipients, cat.dedupe_key) == (
        '"Cat" <cat@example.org>',
        f"message-delivery:{deliveries['cat'].pk}",
    )

    # The workers' sweep of overdue e-mails sends the two queued ones, as built by the send.
    mail.outbox.clear()
    assert outgoing.send_overdue_emails(now=timezone.now() + dt.timedelta(hours=1)) == 2
    assert sorted(m.to[0] for m in mail.outbox) == [
        '"Cat" <cat@example.org>',
        '"Dan" <dan@example.org>',
    ]
    assert mail.outbox[0].subject == "Hello"
    assert mail.outbox[0].body.startswith("Hi **all**.")
    assert "<strong>all</strong>" in mail.outbox[0].alternatives[0].content
    assert OutgoingEmail.objects.filter(state="sent").count() == 2
