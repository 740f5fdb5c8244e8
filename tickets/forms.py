import re

from django import forms

from tickets.models import Order

# Optional details for the invoice; the billing address is the field invoice_details.
BILLING_FIELDS = ("billing_name", "vat_number", "po_number")
# Django's EmailField allows 320 characters; the models' e-mail columns hold 254.
EMAIL_MAX_LENGTH = 254
# VAT and similar tax numbers: a country prefix or digits, at most 30 characters.
VAT_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9.\-/]{3,29}")


def billing_fields():
    """Return the checkout's fields for the invoice: name, address, VAT and PO number."""
    return {
        "billing_name": forms.CharField(
            label="Name on the invoice",
            max_length=200,
            required=False,
            help_text="Organisation or person; empty means your name.",
        ),
        "invoice_details": forms.CharField(
            label="Billing address",
            max_length=1000,
            required=False,
            widget=forms.Textarea(attrs={"rows": 4}),
            help_text="Needed for payment by invoice or for an invoice with your details.",
        ),
        "vat_number": forms.CharField(label="VAT number (optional)", max_length=30, required=False),
        "po_number": forms.CharField(
            label="Purchase order number (optional)", max_length=50, required=False
        ),
    }


class CheckoutForm(forms.Form):
    """The buyer, each attendee, the payment method and the code of conduct."""

    buyer_name = forms.CharField(label="Your name", max_length=200)
    buyer_email = forms.EmailField(label="Your e-mail address", max_length=EMAIL_MAX_LENGTH)
    accept_code_of_conduct = forms.BooleanField(
        label="I accept the code of conduct and the privacy notice.",
        error_messages={"required": "Please accept the code of conduct to continue."},
    )

    def __init__(self, *args, quantity, methods, **kwargs):
        super().__init__(*args, **kwargs)
        self.quantity = quantity
        for number in range(1, quantity + 1):
            self.fields[f"attendee_{number}_name"] = forms.CharField(
                label=f"Attendee {number}: name", max_length=200
            )
            self.fields[f"attendee_{number}_email"] = forms.EmailField(
                label=f"Attendee {number}: e-mail address", max_length=EMAIL_MAX_LENGTH
            )
        if any(value != Order.Method.FREE for value, _ in methods):
            self.fields.update(billing_fields())
        if len(methods) > 1:
            self.fields["payment_method"] = forms.ChoiceField(
                label="Payment", choices=methods, widget=forms.RadioSelect, initial=methods[0][0]
            )
        self.methods = methods
        # Keep the code of conduct last, after the attendees.
        self.fields["accept_code_of_conduct"] = self.fields.pop("accept_code_of_conduct")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("invoice_details", "").strip():
            return cleaned
        if self.chosen_payment_method() == Order.Method.INVOICE:
            self.add_error("invoice_details", "Give the invoice address for payment by invoice.")
        elif any(cleaned.get(name) for name in BILLING_FIELDS):
            self.add_error("invoice_details", "Give the billing address for your invoice.")
        return cleaned

    def clean_vat_number(self):
        value = "".join(self.cleaned_data["vat_number"].split()).upper()
        if value and not VAT_NUMBER.fullmatch(value):
            raise forms.ValidationError(
                "Enter the VAT number in letters and digits, e.g. DE123456789."
            )
        return value

    def billing(self):
        """Return the optional billing details for the invoice."""
        return {name: self.cleaned_data.get(name, "") for name in BILLING_FIELDS}

    def attendee_rows(self):
        return [
            (self[f"attendee_{n}_name"], self[f"attendee_{n}_email"])
            for n in range(1, self.quantity + 1)
        ]

    def buyer(self):
        return {"name": self.cleaned_data["buyer_name"], "email": self.cleaned_data["buyer_email"]}

    def attendees(self):
        return [
            {
                "name": self.cleaned_data[f"attendee_{n}_name"],
                "email": self.cleaned_data[f"attendee_{n}_email"],
            }
            for n in range(1, self.quantity + 1)
        ]

    def chosen_payment_method(self):
        if "payment_method" in self.cleaned_data:
            return self.cleaned_data["payment_method"]
        return self.methods[0][0] if self.methods else Order.Method.FREE


class AttendeeForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    email = forms.EmailField(label="E-mail address", max_length=EMAIL_MAX_LENGTH)


class ResendLinksForm(forms.Form):
    email = forms.EmailField(label="Your e-mail address")


class WaitingListForm(forms.Form):
    name = forms.CharField(label="Your name (optional)", max_length=200, required=False)
    email = forms.EmailField(
        label="Your e-mail address",
        max_length=EMAIL_MAX_LENGTH,
        help_text="We send a link to confirm it; the offer of a seat comes to it too.",
    )
