"""Amounts in each currency: the smallest price, Stripe's minor units and minimum charge.

Stripe counts every amount as an integer of the currency's minor unit: 10 ** ``exponent`` of
them make one unit (https://docs.stripe.com/currencies). Most currencies have two decimals; some
have none or three (ISO 4217), and Stripe adds its own rules on top, which decide the smallest
price (``step``) a ticket may have:

- zero-decimal currencies (JPY, KRW, ...) are sent in whole units, without multiplying;
- three-decimal currencies (KWD, BHD, JOD, OMR, TND) are sent in thousandths, but Stripe's
  partners need the last digit to be 0, so prices go in steps of 0.010;
- ISK is sent with two decimals but must be whole krónur; HUF and TWD are sent with two
  decimals and paid out only in whole units, so their prices are whole too.

Amounts are stored with two decimals (the database columns), which every ``step`` fits.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Stripe's zero-decimal currencies.
ZERO_DECIMAL = {
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA",
    "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
}  # fmt: skip
THREE_DECIMAL = {"BHD", "JOD", "KWD", "OMR", "TND"}
# Sent with two decimals, charged in whole units only (Stripe's special cases).
WHOLE_UNITS = {"HUF", "ISK", "TWD"}
# Other ISO 4217 minor units that are not two; Stripe does not charge in these currencies.
ISO_EXPONENTS = {"IQD": 3, "LYD": 3, "CLF": 4, "UYW": 4, "UYI": 0}
# Stripe's minimum charge per currency; other currencies need the equivalent of 0.50 USD,
# which depends on the day's exchange rate, so Stripe itself checks those at checkout.
MINIMUM_CHARGE = {
    "USD": "0.50", "AED": "2.00", "AUD": "0.50", "BGN": "1.00", "BRL": "0.50",
    "CAD": "0.50", "CHF": "0.50", "CZK": "15.00", "DKK": "2.50", "EUR": "0.50",
    "GBP": "0.30", "HKD": "4.00", "HUF": "175", "INR": "0.50", "JPY": "50",
    "MXN": "10", "MYR": "2", "NOK": "3.00", "NZD": "0.50", "PLN": "2.00",
    "RON": "2.00", "SEK": "3.00", "SGD": "0.50", "THB": "10",
}  # fmt: skip
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Currency:
    code: str
    # Minor units per unit are 10 ** exponent, as Stripe's API counts amounts.
    exponent: int
    # The smallest amount a price may have.
    step: Decimal
    # Decimals shown (ISO 4217's minor unit).
    places: int
    # Stripe's minimum charge, or None where it depends on the exchange rate.
    minimum: Decimal | None

    def __str__(self):
        return self.code


def currency(code):
    """Return what the shop knows about a currency from its ISO 4217 code (any case)."""
    code = (code or "").upper()
    minimum = Decimal(MINIMUM_CHARGE[code]) if code in MINIMUM_CHARGE else None
    if code in ZERO_DECIMAL:
        return Currency(code, 0, Decimal(1), 0, minimum)
    if code in THREE_DECIMAL:
        return Currency(code, 3, CENT, 3, minimum)
    if code in WHOLE_UNITS:
        return Currency(code, 2, Decimal(1), 0 if code == "ISK" else 2, minimum)
    if code in ISO_EXPONENTS:
        places = ISO_EXPONENTS[code]
        return Currency(code, places, Decimal(1) if places == 0 else CENT, places, minimum)
    return Currency(code, 2, CENT, 2, minimum)


def quantize(amount, code):
    """Round an amount to the currency's smallest price, half up."""
    return Decimal(amount).quantize(currency(code).step, rounding=ROUND_HALF_UP)


def to_minor_units(amount, code):
    """Return the amount as Stripe's integer in the currency's minor unit."""
    return int(quantize(amount, code).scaleb(currency(code).exponent))


def from_minor_units(value, code):
    """Return Stripe's integer amount in the currency's minor unit as a Decimal."""
    return quantize(Decimal(value).scaleb(-currency(code).exponent), code)


def format_amount(amount, code):
    """Show an amount with its currency's decimals: 25.00 EUR, 1500 JPY, 12.340 KWD."""
    places = currency(code).places
    return f"{Decimal(amount).quantize(Decimal(1).scaleb(-places))} {code}"


def price_problem(amount, code):
    """Return why a price cannot be charged in the currency, or '' when it can."""
    cur = currency(code)
    if amount is None:
        return ""
    if Decimal(amount) != quantize(amount, code):
        if cur.step == 1:
            return f"Prices in {code} have no smaller units."
        return f"Prices in {code} go in steps of {format_amount(cur.step, code)}."
    if cur.minimum is not None and 0 < amount < cur.minimum:
        return (
            f"A price above 0 must be at least {format_amount(cur.minimum, code)}, the smallest "
            "amount Stripe can charge; use 0 for free tickets."
        )
    return ""
