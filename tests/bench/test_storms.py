"""The bench's two storms, run tiny: late payments at the reservations' end, and refunds.

On PostgreSQL with two gunicorn servers and the Stripe stand-in, as ``make bench`` runs them on
the rush's servers: a handful of seats and newcomers, so the test stays quick. The tables and
failures are checked without servers too.
"""

import pytest
from django.db import connection

from bench import report
from bench.storms import failures, run_storms, tables
from tests.factories import WorkshopFactory
from tests.servers import shop_servers
from tickets.stripe_standin import StripeStandIn

SEATS = 4
NEWCOMERS = 4


@pytest.fixture(scope="module")
def standin():
    with StripeStandIn() as server:
        yield server


@pytest.fixture(scope="module")
def servers(django_db_setup, standin):
    with shop_servers(standin, count=2, workers=1) as urls:
        yield urls


@pytest.fixture
def shop(servers, standin, transactional_db, settings):
    settings.STRIPE_SECRET_KEY = standin.api_key
    settings.STRIPE_WEBHOOK_SECRET = standin.webhook_secret
    settings.STRIPE_API_BASE = standin.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    return WorkshopFactory()


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="The storms need PostgreSQL's row locks."
)
def test_storms_never_oversell_and_balance_to_the_cent(servers, standin, shop):
    storms = run_storms(
        base_urls=servers, standin=standin, workshop=shop, seats=SEATS, newcomers=NEWCOMERS
    )

    late, refunds = storms["late payments"], storms["refunds"]
    assert failures(storms) == []
    assert late["payments"] >= SEATS
    assert 0 < late["seats_sold"] <= SEATS
    assert late["late_paid"] + late["late_refunded"] == SEATS
    assert refunds["money_refunded"] != "0"
    assert refunds["seats_sold"] <= SEATS
    assert "| money taken |" in "\n".join(tables(storms))


def summary(**changes):
    return {
        "seats": 4,
        "newcomers": 4,
        "seats_sold": 4,
        "payments": 6,
        "money_taken": "150.00",
        "money_refunded": "50.00",
        "valid_ticket_value": "100.00",
        "currency": "EUR",
        "newcomers_sent_to_pay": 2,
        "newcomers_refused": 2,
        "problems": [],
        "wall_seconds": 1.5,
        **changes,
    }


def test_storm_tables_show_the_figures_and_problems_fail_the_bench():
    storms = {
        "late payments": summary(),
        "refunds": summary(problems=["oversold: 5 of 4 seats"]),
    }

    text = "\n".join(tables(storms))

    assert "| storm | late payments | refunds |" in text
    assert "| money taken | 150.00 EUR | 150.00 EUR |" in text
    assert "| problems | none | oversold: 5 of 4 seats |" in text
    run = {"pages": [], "storms": storms}
    assert report.failures(run) == ["refunds storm: oversold: 5 of 4 seats"]
