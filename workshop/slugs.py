"""Slugs made from names and titles, unique among a model's rows."""

from django.utils.text import slugify


def unique_slug(queryset, text, *, max_length=100, reserved=(), fallback="item"):
    """Return a slug of ``text`` that no row of ``queryset`` and no ``reserved`` word has.

    A taken slug gets -2, -3... (shortened first so the number fits within ``max_length``).
    """
    base = slugify(text)[:max_length].strip("-") or fallback
    taken = set(
        queryset.filter(slug__startswith=base[: max_length - 8]).values_list("slug", flat=True)
    )
    taken.update(reserved)
    slug, number = base, 1
    while slug in taken:
        number += 1
        suffix = f"-{number}"
        slug = base[: max_length - len(suffix)].rstrip("-") + suffix
    return slug
