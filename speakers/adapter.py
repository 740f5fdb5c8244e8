from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.http import Http404
from django.urls import reverse

# The session key under which an invitation token waits for its holder to sign in.
INVITATION_SESSION_KEY = "speakers_invitation_token"


def user_display(user):
    """Name a user by their e-mail address in allauth's messages and pages."""
    return user.email or "your account"


class AccountAdapter(DefaultAccountAdapter):
    """allauth's adapter, sending someone who came with an invitation link back to claim it."""

    def get_login_redirect_url(self, request):
        if request.session.get(INVITATION_SESSION_KEY):
            return reverse("speakers:invitation_pending")
        return super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request):
        if request.session.get(INVITATION_SESSION_KEY):
            return reverse("speakers:invitation_pending")
        return super().get_signup_redirect_url(request)


class NoSocialApp(SocialApp.DoesNotExist, Http404):
    """No sign-in application for this provider: callers that expect DoesNotExist still work."""


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """allauth's adapter, answering 404 for a provider that has no application set up.

    The ORCID and GitHub sign-in addresses exist before an organiser adds their applications;
    without this, opening them answers 500.
    """

    def get_app(self, request, provider, client_id=None):
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise NoSocialApp(f"Sign-in with {provider} is not set up.") from None
