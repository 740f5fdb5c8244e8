"""Make cached public pages stale when a speaker's profile changes."""

from speakers.models import Speaker
from workshop.cache import CONTENT, watch_models


def connect():
    """Connect the signals; called once from SpeakersConfig.ready()."""
    # Invitations and revisions are never shown on public pages.
    watch_models(Speaker, scope=CONTENT)
