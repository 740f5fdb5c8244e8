from allauth.account.adapter import DefaultAccountAdapter
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
