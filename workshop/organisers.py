"""The organisers' pages outside the admin: who may open them, and the dashboard.

Every page and action under /organisers/ names the permission it needs with
``organiser_required``; workshop/roles.py gives those permissions to the organisers' groups.
The dashboard shows the panels listed in ``settings.ORGANISER_DASHBOARD_PANELS`` (dotted paths
of ``Panel`` objects in each app's ``dashboard`` module) that the organiser may see.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.safestring import mark_safe

from workshop.current import current_workshop
from workshop.roles import DASHBOARD


def is_organiser_with(user, permission):
    """Return whether ``user`` is active staff holding ``permission``.

    Staff status is required too: the second-factor rule (workshop.security) applies to staff,
    so permissions given to an account without it must not open organiser pages.
    """
    return user.is_active and user.is_staff and user.has_perm(permission)


def not_allowed(request):
    return render(request, "403.html", status=403)


def organiser_required(permission):
    """Let organisers holding ``permission`` in; send anyone signed out to sign in, refuse others.

    Signed-in people without it get 403 (Django's ``permission_required`` would send them to
    a sign-in form, which suggests the wrong account). Organiser pages hold attendees' data, so
    no answer is kept by a cache.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if is_organiser_with(request.user, permission):
                response = view(request, *args, **kwargs)
            else:
                response = not_allowed(request)
            response["Cache-Control"] = "private, no-store"
            return response

        wrapper.organiser_permission = permission
        return wrapper

    return decorator


@dataclass(frozen=True)
class Panel:
    """A dashboard panel: the permission it needs, its template and its context."""

    permission: str
    template: str
    context: Callable


def dashboard_panels():
    """Return the panels of ORGANISER_DASHBOARD_PANELS, in that order."""
    return [import_string(path) for path in settings.ORGANISER_DASHBOARD_PANELS]


def render_panels(workshop, user):
    """Return the HTML of the panels ``user`` may see, for the workshop.

    Panels are rendered without the request: they need no context processors, which would
    otherwise run their queries once per panel. Panels the user may not see are not computed.
    """
    html = []
    for panel in dashboard_panels():
        if user.has_perm(panel.permission):
            context = {"workshop": workshop, **panel.context(workshop)}
            html.append(render_to_string(panel.template, context))
    return mark_safe("".join(html))


@organiser_required(DASHBOARD)
def dashboard(request):
    """Show the organisers where sales, the schedule and the speakers stand."""
    workshop = current_workshop(request)
    context = {"checked_at": timezone.now()}
    if workshop is not None:
        context["panels"] = render_panels(workshop, request.user)
    return render(request, "organisers/dashboard.html", context)
