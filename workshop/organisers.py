"""The organisers' pages outside the admin: access rule and the dashboard.

The dashboard shows panels that each app contributes from its own ``dashboard`` module
(``panels(workshop)`` returning (template name, context) pairs); finding them by name through
the app registry keeps workshop from importing the apps, as the demo loader does.
"""

import importlib
from functools import wraps

from django.apps import apps
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.module_loading import module_has_submodule
from django.utils.safestring import mark_safe

from workshop.current import current_workshop


def staff_required(view):
    """Let staff in; send anyone signed out to sign in, and refuse other people with 403.

    Django's ``staff_member_required`` sends signed-in non-staff to a sign-in form too, which
    suggests the wrong account; here they are told plainly. Pages with attendees' data are
    kept out of caches.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise PermissionDenied("Only organisers may open this page.")
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapper


def dashboard_modules():
    """Return every app's ``dashboard`` module, in the order of their POSITION."""
    modules = []
    for app_config in apps.get_app_configs():
        if module_has_submodule(app_config.module, "dashboard"):
            modules.append(importlib.import_module(f"{app_config.name}.dashboard"))
    return sorted(modules, key=lambda module: getattr(module, "POSITION", 100))


def render_panels(workshop):
    """Return the rendered HTML of every app's panels for the workshop.

    Panels are rendered without the request: they need no context processors, which would
    otherwise run their queries once per panel.
    """
    html = []
    for module in dashboard_modules():
        for template_name, context in module.panels(workshop):
            html.append(render_to_string(template_name, {"workshop": workshop, **context}))
    return mark_safe("".join(html))


@staff_required
def dashboard(request):
    """Show the organisers where sales, the schedule and the speakers stand."""
    workshop = current_workshop(request)
    context = {"checked_at": timezone.now()}
    if workshop is not None:
        context["panels"] = render_panels(workshop)
    return render(request, "organisers/dashboard.html", context)
