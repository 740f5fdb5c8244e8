"""Demo programme: fictional talks on the workshop's themes across two online stages.

``load(workshop)`` is idempotent. Speakers are looked up by slug; the speakers app's demo
runs first and owns them, so a missing one is created with minimal fictional details and
an existing one is never changed here.
"""

import datetime as dt

from schedule.models import Room, Slot, Talk
from speakers.models import Speaker

ROOMS = [
    ("Main stage", 1, "https://example.org/demo-stream/main-stage", "Talks, streamed live."),
    (
        "Hands-on stage",
        2,
        "https://example.org/demo-stream/hands-on",
        "Interactive sessions in small groups.",
    ),
]

# slug: (name, affiliation) - fictional people, used only if the speakers demo lacks them.
SPEAKERS = {
    "ada-lindqvist": ("Ada Lindqvist", "Institute of Imaginary Climate Science (fictional)"),
    "kofi-mensah": ("Kofi Mensah", "Example University Hospital (fictional)"),
    "mei-tanaka": ("Mei Tanaka", "Open Science Lab Example (fictional)"),
    "ruben-castillo": ("Rubén Castillo", "Pipeline Works Example (fictional)"),
    "priya-raman": ("Priya Raman", "Testing Collective Example (fictional)"),
    "jonas-weber": ("Jonas Weber", "Reproducibility Office Example (fictional)"),
}

TALKS = [
    # slug, title, kind, track, speaker slug, abstract
    (
        "choosing-metrics-that-matter",
        "Choosing metrics that matter",
        Talk.Kind.TALK,
        "Metrics",
        "ada-lindqvist",
        "Accuracy hides more than it shows. We compare metrics for imbalanced scientific data "
        "and show how a metric choice changes a paper's conclusion.",
    ),
    (
        "evaluation-beyond-the-random-split",
        "Evaluation beyond the random split",
        Talk.Kind.TALK,
        "Evaluation",
        "kofi-mensah",
        "Patients, sites and years leak through random splits. Grouped and temporal splits give "
        "honest estimates; we walk through both with a biomedical example.",
    ),
    (
        "explaining-models-to-domain-scientists",
        "Explaining models to domain scientists",
        Talk.Kind.TALK,
        "Explanation",
        "mei-tanaka",
        "Feature attributions are easy to compute and easy to misread. How to explain a model so "
        "that a domain expert can check it against what they know.",
    ),
    (
        "pipelines-as-a-bridge",
        "Pipelines as a bridge between ML and science",
        Talk.Kind.TALK,
        "Pipelines",
        "ruben-castillo",
        "A pipeline keeps preprocessing inside cross-validation and documents every step. We "
        "build one for weather data and share it with the domain team.",
    ),
    (
        "testing-scientific-ml-code",
        "Testing scientific machine-learning code",
        Talk.Kind.TALK,
        "Testing",
        "priya-raman",
        "Unit tests for data loaders, property tests for transforms and regression tests for "
        "models: a practical tour with pytest.",
    ),
    (
        "reproduction-from-notebook-to-release",
        "Reproduction: from notebook to release",
        Talk.Kind.TALK,
        "Reproduction",
        "jonas-weber",
        "Pinned environments, seeds, data versions and a release checklist that lets a "
        "reviewer rerun your results in an afternoon.",
    ),
    (
        "lightning-talks",
        "Lightning talks: lessons from the field",
        Talk.Kind.LIGHTNING,
        "",
        "",
        "Five-minute stories from participants about machine learning in their research.",
    ),
]

INTERACTIVE = "Hands-on: {theme}"

UTC = dt.UTC


def at(workshop, hour, minute):
    day = workshop.starts_at.astimezone(UTC).date()
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def load(workshop):
    """Create or reset the demo rooms, talks and slots of ``workshop``."""
    main, hands_on = [
        _upsert(
            Room, {"name": name}, {"position": position, "stream_url": url, "description": text}
        )
        for name, position, url, text in ROOMS
    ]
    talks = {}
    for slug, title, kind, track, speaker_slug, abstract in TALKS:
        talks[slug] = _talk(slug, title, kind, track, speaker_slug, abstract)
        if kind == Talk.Kind.TALK:
            interactive = _talk(
                f"{slug}-hands-on",
                INTERACTIVE.format(theme=track),
                Talk.Kind.INTERACTIVE,
                track,
                speaker_slug,
                f"Put the ideas of “{title}” into practice on example data, in small groups.",
            )
            talks[f"{slug}-hands-on"] = interactive
    plan = [
        (13, 0, 13, 10, None, "Welcome", False),
        (13, 10, 13, 40, main, "choosing-metrics-that-matter", False),
        (13, 40, 14, 10, main, "evaluation-beyond-the-random-split", False),
        (13, 40, 14, 10, hands_on, "choosing-metrics-that-matter-hands-on", False),
        (14, 10, 14, 40, main, "explaining-models-to-domain-scientists", False),
        (14, 10, 14, 40, hands_on, "evaluation-beyond-the-random-split-hands-on", False),
        (14, 40, 15, 0, None, "Break", True),
        (15, 0, 15, 30, main, "pipelines-as-a-bridge", False),
        (15, 0, 15, 30, hands_on, "explaining-models-to-domain-scientists-hands-on", False),
        (15, 30, 16, 0, main, "testing-scientific-ml-code", False),
        (15, 30, 16, 0, hands_on, "pipelines-as-a-bridge-hands-on", False),
        (16, 0, 16, 30, main, "reproduction-from-notebook-to-release", False),
        (16, 0, 16, 30, hands_on, "testing-scientific-ml-code-hands-on", False),
        (16, 30, 16, 45, None, "Break", True),
        (16, 45, 17, 15, main, "lightning-talks", False),
        (16, 45, 17, 15, hands_on, "reproduction-from-notebook-to-release-hands-on", False),
        (17, 15, 18, 0, None, "Closing discussion with all speakers", False),
    ]
    for start_h, start_m, end_h, end_m, room, what, is_break in plan:
        talk = talks.get(what)
        _upsert(
            Slot,
            {"workshop": workshop, "start": at(workshop, start_h, start_m), "room": room},
            {
                "end": at(workshop, end_h, end_m),
                "talk": talk,
                "title": "" if talk else what,
                "is_break": is_break,
            },
        )


def _talk(slug, title, kind, track, speaker_slug, abstract):
    talk = _upsert(
        Talk,
        {"slug": slug},
        {
            "title": title,
            "kind": kind,
            "track": track,
            "abstract": abstract,
            "language": "en",
            "published": True,
        },
    )
    if speaker_slug:
        talk.speakers.set([_speaker(speaker_slug)])
    return talk


def _speaker(slug):
    name, affiliation = SPEAKERS[slug]
    speaker, _created = Speaker.objects.get_or_create(
        slug=slug,
        defaults={
            "name": name,
            "affiliation": affiliation,
            "short_bio": f"{name} is a fictional demo speaker.",
            "bio": f"{name} is a fictional demo speaker of this workshop.",
        },
    )
    return speaker


def _upsert(model, lookup, values):
    """Create the row or reset its demo values, saving only when something differs.

    Saving unchanged rows would bump ``updated_at`` and with it the exports' ETags.
    """
    row = model.objects.filter(**lookup).first() or model(**lookup)
    changed = row.pk is None
    for field, value in values.items():
        if getattr(row, field) != value:
            setattr(row, field, value)
            changed = True
    if changed:
        row.save()
    return row
