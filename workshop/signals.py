"""Make cached public pages stale when the workshop, its pages or its supporters change."""

from workshop.cache import CONTENT, watch_models
from workshop.models import Page, Supporter, Workshop


def connect():
    """Connect the signals; called once from WorkshopConfig.ready()."""
    watch_models(Workshop, Page, Supporter, scope=CONTENT)
