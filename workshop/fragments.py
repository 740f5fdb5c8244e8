"""Keep rendered pieces of long pages (a talk, a speaker, a slot) under keys made of what they show.

A page listing 300 talks is rendered again after any change, but only the pieces whose inputs
changed are: each piece is kept in the cache under a hash of every value it is made from (the
full rows of its talk, slot, room, speakers and links, the time zone, the code that renders it),
so a changed value gives a new key and an unchanged piece is found again, whichever server or
code path made the change. Nothing needs invalidating; ``forget_fragments`` starts afresh.
"""

import hashlib
import logging
import secrets
from functools import cache as once
from pathlib import Path

from django.core.cache import cache
from django.db import models
from django.db.models.functions import Cast
from django.template.loader import get_template
from django.utils.safestring import SafeString

logger = logging.getLogger(__name__)

GENERATION_KEY = "fragments:generation"
FRAGMENT_KEY = "fragments:{kind}:{digest}"
# Unused pieces are left to expire; a day keeps every piece of a quiet site warm.
FRAGMENT_SECONDS = 24 * 3600


def row(instance):
    """Return every loaded value of a model instance: what a piece made from it may show.

    Fields left out of the query (``only()``, ``defer()``) are left out here too: a piece that
    showed one would load it with a query of its own per item, which the query-count tests of
    the pages forbid.
    """
    if instance is None:
        return None
    # The loaded values as the database gave them (a deferred field has none yet); reading
    # them through the model's descriptors would build an object per file field.
    loaded = vars(instance)
    names = (field.attname for field in instance._meta.concrete_fields)
    return tuple(loaded[name] for name in names if name in loaded)


def version_text(lookup):
    """Return the ``updated_at`` at ``lookup`` as the database writes it, for use as a version.

    Read as text, a version needs no parsing: turning hundreds of timestamps into datetimes took
    a third of the time of a page's first render after a change. Texts of one database sort as
    their times do (see ``schedule.exports.latest_version``).
    """
    return Cast(lookup, output_field=models.TextField())


@once
def code_version(*names):
    """Return a hash of the templates (names ending in .html) and modules that render a piece."""
    digest = hashlib.blake2b(digest_size=8)
    for name in names:
        if name.endswith(".html"):
            digest.update(get_template(name).template.source.encode())
        else:
            digest.update(Path(name).read_bytes())
    return digest.hexdigest()


def forget_fragments():
    """Make every kept piece unreachable, as after a deploy that changed how pieces look."""
    try:
        cache.set(GENERATION_KEY, secrets.token_hex(8), timeout=None)
    except Exception:  # any backend error: the pieces are an optimisation only
        logger.warning("Could not forget the kept page fragments.", exc_info=True)


def _generation():
    try:
        return cache.get(GENERATION_KEY, "")
    except Exception:
        return ""


def fragments(kind, items, *, inputs, render, code, complete=None):
    """Return the rendered piece of each item, rendering only those not kept under their inputs.

    ``inputs(item)``: what tells the piece apart, as plain values (see ``row``): every value it
    shows, or the versions (``updated_at``) of the rows it is made from; ``render(item)``: the
    piece as text; ``code``: the hash of what renders it (``code_version``); ``complete``: a
    function returning the given items loaded in full, when ``items`` hold only their versions,
    so that only the pieces to render are loaded in full.
    """
    prefix = (kind, code, _generation())
    keys = [_key(kind, prefix, inputs(item)) for item in items]
    try:
        found = cache.get_many(keys) if keys else {}
    except Exception:  # Redis down: render everything (the page cache has warned already)
        found = {}
    missing = [index for index, key in enumerate(keys) if key not in found]
    if missing:
        to_render = [items[index] for index in missing]
        if complete is not None:
            to_render = complete(to_render)
        new = {keys[index]: render(item) for index, item in zip(missing, to_render, strict=True)}
        found.update(new)
        try:
            cache.set_many(new, timeout=FRAGMENT_SECONDS)
        except Exception:
            pass  # kept next time, when the cache is back
    return [found[key] for key in keys]


def _key(kind, prefix, values):
    text = repr((prefix, values)).encode()
    return FRAGMENT_KEY.format(kind=kind, digest=hashlib.blake2b(text, digest_size=16).hexdigest())


def html_fragments(kind, items, *, template, name, inputs, includes=(), complete=None):
    """Return the pieces of ``items``, each rendered with ``template`` (``name``: the item).

    ``includes``: the templates ``template`` includes, so that a change to them shows too;
    ``inputs`` and ``complete`` as for ``fragments``.
    """
    compiled = get_template(template)
    pieces = fragments(
        kind,
        items,
        inputs=inputs,
        render=lambda item: compiled.render({name: item}),
        code=code_version(template, *includes),
        complete=complete,
    )
    return [SafeString(piece) for piece in pieces]
