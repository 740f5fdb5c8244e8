"""Validators for the identifiers a speaker gives: ORCID iD, GitHub and Mastodon handles."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

ORCID_PATTERN = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
GITHUB_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
MASTODON_PATTERN = re.compile(
    r"^@(?P<user>[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*)@(?P<host>(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})$"
)
# Addresses that the app's own URLs use below /speakers/.
RESERVED_SLUGS = {"me", "invitation"}

validate_web_url = URLValidator(schemes=["http", "https"])


def orcid_checksum(digits):
    """Return the ISO 7064 MOD 11-2 check character for the first 15 digits of an ORCID iD."""
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def validate_orcid(value):
    """Accept an ORCID iD written 0000-0002-1825-0097 whose check character is right."""
    if not ORCID_PATTERN.match(value):
        raise ValidationError(
            "Enter an ORCID iD in the form 0000-0002-1825-0097.", code="orcid_format"
        )
    digits = value.replace("-", "")
    if orcid_checksum(digits[:15]) != digits[15]:
        raise ValidationError(
            "This ORCID iD's check digit is wrong; please copy it from your ORCID record.",
            code="orcid_checksum",
        )


def validate_github(value):
    """Accept a GitHub user name (letters, digits and single hyphens, at most 39 characters)."""
    if not GITHUB_PATTERN.match(value):
        raise ValidationError(
            "Enter a GitHub user name such as octocat (letters, digits and hyphens).",
            code="github_format",
        )


def validate_mastodon(value):
    """Accept a Mastodon address written @name@server.example."""
    if not MASTODON_PATTERN.match(value):
        raise ValidationError(
            "Enter a Mastodon address in the form @name@server.example.", code="mastodon_format"
        )


def validate_not_reserved(value):
    """Refuse slugs that the speaker pages' own addresses use."""
    if value in RESERVED_SLUGS:
        raise ValidationError(f"“{value}” is reserved; choose another slug.", code="reserved")


def normalise_orcid(value):
    """Return the bare iD from "https://orcid.org/0000-...", with a lower-case x made upper."""
    value = value.strip()
    for prefix in ("https://orcid.org/", "http://orcid.org/", "orcid.org/"):
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
    return value.strip("/").upper()


def normalise_github(value):
    """Return the user name from "@name" or "https://github.com/name"."""
    value = value.strip()
    for prefix in ("https://github.com/", "http://github.com/", "github.com/", "@"):
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
    return value.strip("/")


def normalise_mastodon(value):
    """Return "@name@server" from "name@server" or "https://server/@name"."""
    value = value.strip()
    match = re.match(r"^https?://([^/\s]+)/@([^/\s]+?)/?$", value)
    if match:
        return f"@{match[2]}@{match[1]}"
    if value and not value.startswith("@"):
        return f"@{value}"
    return value
