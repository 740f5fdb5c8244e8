"""The bench's rush by invoice with e-mail on a slow mail server, run tiny.

As ``make bench`` runs it (bench/run.py ``mail_rush``): buyers at once pay by invoice on two
gunicorn servers while a worker sends their e-mails to a mail server that takes 2 s a message.
The rush must measure the time to the order page with no buyer waiting for the mail server,
and the worker must deliver each buyer's e-mail once.
"""

import time
from collections import Counter
from types import SimpleNamespace

import pytest
import requests
from django.db import connection

from bench import run as bench_run
from tests.factories import WorkshopFactory
from tests.servers import gunicorn_servers, server_env
from tests.workshop.test_durability import worker
from workshop.models import OutgoingEmail

BUYERS = 4

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="The servers and worker share PostgreSQL."
    ),
]


@pytest.fixture(scope="module")
def slow_smtp():
    server = bench_run.slow_smtp_server()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def env(django_db_setup, slow_smtp):
    from django.conf import settings

    return server_env(
        settings,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(slow_smtp.port),
        EMAIL_USE_TLS="0",
        RATELIMIT_ENABLED="0",
        TRUSTED_PROXY_COUNT="1",
    )


@pytest.fixture(scope="module")
def servers(env):
    with gunicorn_servers(env, count=2, workers=1) as urls:
        yield [SimpleNamespace(url=url) for url in urls]


@pytest.mark.django_db(transaction=True)
def test_buyers_reach_the_payment_page_before_the_slow_mail_server_answers(
    servers, slow_smtp, env, monkeypatch
):
    monkeypatch.setattr(bench_run, "MAIL_BUYERS", BUYERS)
    WorkshopFactory()
    for server in servers:  # a server's first answers load its code: not what is measured
        for _ in range(2):
            requests.get(f"{server.url}/tickets/", timeout=60)

    with worker(env, "w-mail-rush") as process:
        summary = bench_run.mail_rush(servers, slow_smtp)
        deadline = time.monotonic() + 90
        while len(slow_smtp.handler.received) < BUYERS and time.monotonic() < deadline:
            assert process.poll() is None, "the worker stopped"
            time.sleep(0.2)

    assert summary["sent_to_payment"] == BUYERS, summary
    assert summary["smtp_seconds_per_message"] == 2
    # A buyer who waited for the mail server would have had their e-mail delivered before
    # their page. How far below 2 s the pages stay is the bench's measure, not this busy
    # machine's (about 1.5 s here for the 4, under the other tests' load).
    assert summary["emails_delivered_by_then"] < BUYERS, summary
    assert summary["to_payment_median_ms"] > 0, summary
    received = Counter(
        address for rcpt_tos, _ in slow_smtp.handler.received for address in rcpt_tos
    )
    assert received == {f"rush{n}@example.org": 1 for n in range(BUYERS)}
    assert OutgoingEmail.objects.filter(state="sent").count() == BUYERS
