from django import forms

from tickets.models import Order


class CheckoutForm(forms.Form):
    """The buyer, each attendee, the payment method and the code of conduct."""

    buyer_name = forms.CharField(label="Your name", max_length=200)
    buyer_email = forms.EmailField(label="Your e-mail address")
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
                label=f"Attendee {number}: e-mail address"
            )
        if any(value == Order.Method.INVOICE for value, _ in methods):
            self.fields["invoice_details"] = forms.CharField(
                label="Invoice address (for payment by invoice)",
                required=False,
                widget=forms.Textarea(attrs={"rows": 4}),
                help_text="Organisation, address, and a purchase order number if you need one.",
            )
        if len(methods) > 1:
            self.fields["payment_method"] = forms.ChoiceField(
                label="Payment", choices=methods, widget=forms.RadioSelect, initial=methods[0][0]
            )
        self.methods = methods
        # Keep the code of conduct last, after the attendees.
        self.fields["accept_code_of_conduct"] = self.fields.pop("accept_code_of_conduct")

    def clean(self):
        cleaned = super().clean()
        if (
            self.chosen_payment_method() == Order.Method.INVOICE
            and not cleaned.get("invoice_details", "").strip()
        ):
            self.add_error("invoice_details", "Give the invoice address for payment by invoice.")
        return cleaned

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
    email = forms.EmailField(label="E-mail address")


class ResendLinksForm(forms.Form):
    email = forms.EmailField(label="Your e-mail address")
