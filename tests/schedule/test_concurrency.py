"""Two organisers placing clashing slots at the same moment, on PostgreSQL."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from schedule import models
from schedule.models import Slot
from schedule.services import save_slot
from tests.factories import RoomFactory, TalkFactory, WorkshopFactory
from tests.schedule.conftest import at

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises all writers; row locking must be proven on PostgreSQL.",
    ),
]

EDITORS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_clashing_slots_only_one_is_saved(monkeypatch):
    workshop = WorkshopFactory()
    room = RoomFactory()
    talks = [TalkFactory() for _ in range(EDITORS)]
    check = models.slot_errors

    def slow_check(slot):
        # Widen the gap between reading the other slots and writing this one.
        errors = check(slot)
        time.sleep(0.05)
        return errors

    monkeypatch.setattr(models, "slot_errors", slow_check)
    barrier = threading.Barrier(EDITORS)
    outcomes = []

    def place(talk):
        try:
            barrier.wait()
            slot = Slot(
                workshop=workshop,
                room=room,
                talk=talk,
                start=at(workshop, 14),
                end=at(workshop, 14, 30),
            )
            save_slot(slot=slot)
            outcomes.append("saved")
        except ValidationError as error:
            outcomes.append(error.message_dict["start"][0].split("“")[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=place, args=(talk,)) for talk in talks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["Overlaps "] * (EDITORS - 1) + ["saved"]
    assert Slot.objects.filter(workshop=workshop).count() == 1
