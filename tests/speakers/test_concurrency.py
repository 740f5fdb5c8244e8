"""Several people claiming one invitation link at the same moment, on PostgreSQL."""

import threading
import time

import pytest
from django.db import connection, connections

from speakers import services
from speakers.models import Invitation, Speaker
from tests.factories import SpeakerFactory, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises all writers; row locking must be proven on PostgreSQL.",
    ),
]

CLAIMERS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_of_one_link_only_one_succeeds(monkeypatch):
    speaker = SpeakerFactory()
    _invitation, token = services.invite_speaker(speaker=speaker, email="s@example.org")
    users = [UserFactory() for _ in range(CLAIMERS)]
    find = services.find_invitation

    def slow_find(*args, **kwargs):
        # Widen the gap between the unlocked look-up and the locked claim.
        found = find(*args, **kwargs)
        time.sleep(0.05)
        return found

    monkeypatch.setattr(services, "find_invitation", slow_find)
    barrier = threading.Barrier(CLAIMERS)
    outcomes = []

    def claim(user):
        try:
            barrier.wait()
            services.claim_invitation(token=token, user=user)
            outcomes.append("claimed it")
        except services.InvitationError as error:
            outcomes.append(error.reason)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["claimed"] * (CLAIMERS - 1) + ["claimed it"]
    invitation = Invitation.objects.get()
    assert Speaker.objects.get(pk=speaker.pk).user == invitation.claimed_by
