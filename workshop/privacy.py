"""A person's own data: download it as JSON, or delete the account.

Each app that holds personal data ships a module with ``export_user_data(user)`` and
``erase_user_data(user)``, listed in ``settings.PRIVACY_PROVIDERS``, so that workshop never
imports tickets.
"""

import importlib
import json

from allauth.account.models import EmailAddress
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from workshop.ratelimit import limit


def providers():
    """Return (app label, module) of each of PRIVACY_PROVIDERS, in that order."""
    return [
        (apps.get_containing_app_config(path).label, importlib.import_module(path))
        for path in settings.PRIVACY_PROVIDERS
    ]


def account_data(user):
    addresses = EmailAddress.objects.filter(user=user).order_by("email")
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "email_addresses": [
            {"email": a.email, "verified": a.verified, "primary": a.primary} for a in addresses
        ],
        "connected_accounts": list(user.socialaccount_set.values_list("provider", flat=True)),
    }


def export_user_data(user):
    """Return everything the site keeps about ``user``, one section per app."""
    data = {"exported_at": timezone.now(), "account": account_data(user)}
    for label, module in providers():
        data[label] = module.export_user_data(user)
    return data


@transaction.atomic
def delete_account(user):
    """Erase each app's personal data of ``user``, then delete the account itself."""
    for _, module in providers():
        module.erase_user_data(user)
    user.delete()


def private(response):
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def data_overview(request):
    """Show what the site keeps, with the download and the account deletion."""
    return private(render(request, "account/data.html", {"form": DeleteAccountForm(request.user)}))


@login_required
def data_export(request):
    """Send the signed-in person's data as a JSON file."""
    data = export_user_data(request.user)
    body = json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="my-workshop-data-{stamp}.json"'
    return private(response)


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label="I understand that my account is deleted for good",
        error_messages={"required": "Tick the box to confirm that the account is to be deleted."},
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        # An account without a password (sign-in with a provider only) cannot confirm this way.
        if not self.user.has_usable_password() or not self.user.check_password(password):
            raise forms.ValidationError("This is not your password.")
        return password


@require_http_methods(["POST"])
@login_required
def data_delete(request):
    """Delete the signed-in person's account after they confirm with their password.

    Accounts that sign in only through GitHub or ORCID set a password first (the page says so),
    so that a borrowed, still signed-in browser is not enough to delete an account.
    """
    user = request.user
    if user.is_staff or not user.has_usable_password():
        context = {"form": DeleteAccountForm(user)}
        return private(render(request, "account/data.html", context, status=403))
    # The password check must not become a way to guess passwords.
    if limited := limit(request, "account-delete", per_ip="20/h", per_key="5/h", key=user.pk):
        return limited
    form = DeleteAccountForm(user, request.POST)
    if not form.is_valid():
        return private(render(request, "account/data.html", {"form": form}, status=400))
    delete_account(user)
    logout(request)
    return private(render(request, "account/data_deleted.html"))
