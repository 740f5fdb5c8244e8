"""Demo speakers: fictional people on the workshop's themes.

``load(workshop)`` creates the speakers that are missing and never changes one that exists,
so a bio edited on the demo site survives the next `make run`. It never touches the ``user``
link; ``manage.py ensure_demo_speaker`` makes the demo account.
"""

from speakers.models import Speaker

# The speaker that the demo account (speaker@example.org) signs in as.
DEMO_ACCOUNT_SPEAKER = "ada-lindqvist"

SPEAKERS = [
    {
        "slug": "ada-lindqvist",
        "name": "Ada Lindqvist",
        "pronouns": "she/her",
        "affiliation": "Institute of Imaginary Climate Science (fictional)",
        "email": "ada.lindqvist@example.org",
        "short_bio": "Ada (a fictional person) studies which **metrics** tell the truth about "
        "climate models.",
        "bio": "Ada Lindqvist is a *fictional* demo speaker. She works on evaluation metrics for "
        "imbalanced scientific data and has opinions about accuracy.\n\n"
        "- Metrics for rare events\n- Calibration of ensemble forecasts",
        "website": "https://example.org/ada-lindqvist",
        "mastodon": "@ada@mastodon.example",
        "orcid": "0000-0002-1825-0097",
    },
    {
        "slug": "kofi-mensah",
        "name": "Kofi Mensah",
        "pronouns": "he/him",
        "affiliation": "Example University Hospital (fictional)",
        "email": "kofi.mensah@example.org",
        "short_bio": "Kofi (fictional) designs honest **evaluation** splits for clinical data.",
        "bio": "Kofi Mensah is a *fictional* demo speaker who has seen patients leak across "
        "random splits more often than he would like. He writes about grouped and temporal "
        "validation.",
    },
    {
        "slug": "mei-tanaka",
        "name": "Mei Tanaka",
        "pronouns": "she/her",
        "affiliation": "Open Science Lab Example (fictional)",
        "email": "mei.tanaka@example.org",
        "short_bio": "Mei (fictional) makes model **explanations** that experts can check.",
        "bio": "Mei Tanaka is a *fictional* demo speaker working between machine learning and "
        "field ecology, on explanations that survive contact with experts.",
    },
    {
        "slug": "ruben-castillo",
        "name": "Rubén Castillo",
        "pronouns": "",
        "affiliation": "Pipeline Works Example (fictional)",
        "email": "ruben.castillo@example.org",
        "short_bio": "Rubén (fictional) builds data **pipelines** that can be rerun years later.",
        "bio": "Rubén Castillo is a *fictional* demo speaker. He cares about versioned data, "
        "declarative pipelines and the intern who has to run them next year.",
        "website": "https://example.org/ruben-castillo",
    },
    {
        "slug": "priya-raman",
        "name": "Priya Raman",
        "pronouns": "they/them",
        "affiliation": "Testing Collective Example (fictional)",
        "email": "priya.raman@example.org",
        "short_bio": "Priya (fictional) writes **tests** for scientific machine-learning code.",
        "bio": "Priya Raman is a *fictional* demo speaker who turns notebooks into tested "
        "packages: property-based tests, golden files and sanity checks on data.",
    },
    {
        "slug": "jonas-weber",
        "name": "Jonas Weber",
        "pronouns": "he/him",
        "affiliation": "Reproducibility Office Example (fictional)",
        "email": "jonas.weber@example.org",
        "short_bio": "Jonas (fictional) tries to **reproduce** published results.",
        "bio": "Jonas Weber is a *fictional* demo speaker. He reruns published analyses and "
        "collects what it took: seeds, environments, and the one missing preprocessing step.",
    },
]

DEFAULTS = {
    "pronouns": "",
    "website": "",
    "mastodon": "",
    "github": "",
    "orcid": "",
    "published": True,
}


def load(workshop):
    """Create the demo speakers that are missing; return them all by slug."""
    speakers = {}
    for entry in SPEAKERS:
        values = {**DEFAULTS, **entry}
        slug = values.pop("slug")
        speakers[slug], _created = Speaker.objects.get_or_create(slug=slug, defaults=values)
    return speakers
