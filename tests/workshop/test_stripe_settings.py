"""Production refuses the local Stripe stand-in; development lets the checkout reach it."""

import pytest

from tests.workshop.test_settings import PRODUCTION_ENV, run_django

STRIPE_KEYS = {"STRIPE_SECRET_KEY": "sk_live_abc123", "STRIPE_WEBHOOK_SECRET": "whsec_abc123"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"STRIPE_API_BASE": "http://127.0.0.1:8001"},
            "STRIPE_API_BASE must be Stripe's (https://api.stripe.com) when "
            "DJANGO_ENV=production, not 'http://127.0.0.1:8001': another address is the local "
            "stand-in, which takes no money.",
        ),
        (
            {"STRIPE_SECRET_KEY": "sk_test_standin", "STRIPE_WEBHOOK_SECRET": "whsec_standin"},
            "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are the local stand-in's development "
            "keys; give the keys of the Stripe account when DJANGO_ENV=production.",
        ),
        (
            {"STRIPE_WEBHOOK_SECRET": "whsec_standin"},
            "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are the local stand-in's development",
        ),
    ],
    ids=["address", "keys", "webhook-secret"],
)
def test_production_refuses_the_stripe_standin(env, message):
    result = run_django("print('started')", **{**PRODUCTION_ENV, **STRIPE_KEYS, **env})

    assert result.returncode == 1
    assert result.stdout == ""
    assert f"Configuration error: {message}" in result.stderr


def test_the_bench_runs_production_settings_against_the_standin():
    standin = {
        "STRIPE_API_BASE": "http://127.0.0.1:8001",
        "STRIPE_SECRET_KEY": "sk_test_standin",
        "STRIPE_WEBHOOK_SECRET": "whsec_standin",
    }

    refused = run_django("print(settings.STRIPE_API_BASE)", **PRODUCTION_ENV, **standin)
    bench = run_django(
        "print(settings.STRIPE_API_BASE)",
        **PRODUCTION_ENV,
        **standin,
        STRIPE_STANDIN_FOR_BENCH="1",
    )

    assert refused.returncode == 1
    assert bench.stdout.strip() == "http://127.0.0.1:8001"


def test_production_starts_with_stripes_address_and_real_keys():
    result = run_django("print(settings.STRIPE_API_BASE)", **PRODUCTION_ENV, **STRIPE_KEYS)

    assert result.stdout.strip() == "https://api.stripe.com"


def test_development_lets_forms_reach_the_standin_payment_page():
    code = "print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'])"

    local = run_django(code, STRIPE_API_BASE="http://127.0.0.1:8001")
    stripe = run_django(code)

    assert "'http://127.0.0.1:8001'" in local.stdout
    assert "127.0.0.1" not in stripe.stdout
    assert "'https://checkout.stripe.com'" in stripe.stdout
