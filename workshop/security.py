"""Security helpers: staff second factor, browser features, private pages, secrets, sign-in."""

import secrets
from functools import cache, wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.sites.shortcuts import get_current_site
from django.core.signals import setting_changed
from django.http import HttpResponseRedirect
from django.urls import reverse

# Paths that only organisers use; staff need a second factor before they get there.
STAFF_ONLY_PREFIXES = ("/admin/", "/organisers/")
# Within those, the ways out stay open so that nobody is trapped by the redirect.
ALWAYS_OPEN_PATHS = ("/admin/logout/",)
SECOND_FACTOR_TYPES = ("totp", "webauthn")


def has_second_factor(user):
    """Return whether the user has an authenticator app or a security key."""
    from allauth.mfa.utils import is_mfa_enabled

    return is_mfa_enabled(user, types=list(SECOND_FACTOR_TYPES))


class PermissionsPolicyMiddleware:
    """Send settings.PERMISSIONS_POLICY with every response that does not set its own.

    The site uses none of the browser's powerful features except the camera on the check-in
    page (which sets its own policy), so a script that got in could not use them either.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class ContentSecurityPolicyMiddleware:
    """Send settings.CONTENT_SECURITY_POLICY with every answer that does not set its own.

    The policy is the same for every page (templates carry no inline script or style, so no
    nonces are needed), so the header is built once per process, and again when the setting
    changes (tests). django-csp, used before, built it for every answer: a fifth of the time a
    stored page takes to serve. A view that needs another policy sets the header itself.
    Django's debug pages (404 and 500 while DEBUG is on) use inline styles: they get none.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code in {404, 500}:
            return response
        response.headers.setdefault("Content-Security-Policy", site_policy())
        return response


@cache
def site_policy():
    """Return the header value of settings.CONTENT_SECURITY_POLICY, directives in its order.

    Each directive maps to a list of sources, or to True for one that takes none (such as
    ``upgrade-insecure-requests``); None or False leaves it out.
    """
    parts = []
    for name, sources in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"].items():
        if sources is True:
            parts.append(name)
        elif sources:
            parts.append(" ".join([name, *sources]))
    return "; ".join(parts)


def _forget_site_policy(setting, **kwargs):
    if setting == "CONTENT_SECURITY_POLICY":
        site_policy.cache_clear()


setting_changed.connect(_forget_site_policy, dispatch_uid="workshop.security.csp")


class StaffMFAMiddleware:
    """Keep staff without a second factor out of the back office when REQUIRE_STAFF_MFA is on.

    Django's own admin sign-in form asks for a password only, so it is replaced by allauth's,
    which asks for the second factor too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if getattr(settings, "REQUIRE_STAFF_MFA", False):
            response = self.redirect_if_needed(request)
            if response is not None:
                return response
        return self.get_response(request)

    def redirect_if_needed(self, request):
        path = request.path_info
        if path == reverse("admin:login"):
            target = request.GET.get("next") or reverse("admin:index")
            query = urlencode({"next": target})
            return HttpResponseRedirect(f"{reverse('account_login')}?{query}")
        if not path.startswith(STAFF_ONLY_PREFIXES) or path.startswith(ALWAYS_OPEN_PATHS):
            return None
        user = request.user
        if not (user.is_authenticated and user.is_staff) or has_second_factor(user):
            return None
        messages.warning(
            request,
            "Organiser accounts need two-factor authentication. Set up an authenticator app "
            "or a security key to continue.",
        )
        return HttpResponseRedirect(reverse("mfa_index"))


def private_page(view):
    """Keep a page whose address holds a secret out of caches and other sites' Referer headers.

    Use it on order pages, invitation links and anything reached by a secret link.
    ``strict-origin`` sends other sites (and ours) only the origin, never the path with the
    secret. Not ``no-referrer``: under it browsers send ``Origin: null`` with the page's own
    form posts, which Django's CSRF check refuses (the order page's forms answered 403).
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "strict-origin"
        return response

    return wrapper


def secret_matches(given, stored):
    """Return whether a secret from a link equals the stored one, in constant time."""
    if not given or not stored:
        return False
    return secrets.compare_digest(str(given).encode(), str(stored).encode())


def unlock_sign_in(request, user):
    """Forget the failed sign-ins that lock ``user`` out (allauth's ``login_failed`` limit).

    allauth counts failures per address as typed at sign-in, lower-cased, under the key
    "<site domain>:<address>" (its adapter's login attempts key); every address of the
    account is cleared.
    """
    from allauth.account.models import EmailAddress
    from allauth.core import ratelimit

    domain = get_current_site(request).domain
    addresses = set(EmailAddress.objects.filter(user=user).values_list("email", flat=True))
    for address in {user.email, *addresses} - {""}:
        ratelimit.clear(request, action="login_failed", key=f"{domain}:{address.lower()}")
