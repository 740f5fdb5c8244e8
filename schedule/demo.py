"""Demo programme: fictional talks on the workshop's themes across two online stages.

``load(workshop)`` creates what is missing and never changes a row that exists, so a talk's
abstract edited on the demo site survives the next `make run`. Speakers are looked up by
slug; the speakers app's demo runs first and owns them, so a missing one is created with
minimal fictional details. The slots are placed only in an empty schedule: a demo slot put
back among slots an organiser moved could clash with them.
"""

import datetime as dt

from django.utils import timezone

from schedule.models import Call, Question, Room, Slot, SubmissionType, Talk, Track
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
    """Create the demo rooms and talks that are missing, and the slots in an empty schedule."""
    main, hands_on = [
        Room.objects.get_or_create(
            name=name, defaults={"position": position, "stream_url": url, "description": text}
        )[0]
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
    load_call(workshop)
    if Slot.objects.filter(workshop=workshop).exists():
        return
    for start_h, start_m, end_h, end_m, room, what, is_break in plan:
        talk = talks.get(what)
        Slot.objects.create(
            workshop=workshop,
            start=at(workshop, start_h, start_m),
            end=at(workshop, end_h, end_m),
            room=room,
            talk=talk,
            title="" if talk else what,
            is_break=is_break,
        )


CALL_INTRO = """We invite contributions on machine learning as scientists use it: how to
evaluate, explain, test and reproduce it. Talks are streamed on the main stage; posters are
shown in the hands-on sessions. Everyone gets a review by two members of the programme
committee."""
SUBMISSION_TYPES = [
    ("Talk", Talk.Kind.TALK, 30, "A talk with time for questions."),
    ("Lightning talk", Talk.Kind.LIGHTNING, 5, "Five minutes, one idea."),
    ("Poster", Talk.Kind.POSTER, 60, "Shown and discussed in a hands-on session."),
]
CALL_TRACKS = ["Metrics", "Evaluation", "Explanation", "Pipelines", "Testing", "Reproduction"]
CALL_QUESTIONS = [
    ("Can you present live during the workshop's hours?", Question.Kind.YES_NO, "", True),
    (
        "Who is your talk for?",
        Question.Kind.CHOICE,
        "Researchers new to machine learning\nPractitioners\nEveryone",
        False,
    ),
]


def load_call(workshop):
    """Open a call for proposals that closes two weeks before the workshop, if it has none."""
    if Call.objects.filter(workshop=workshop).exists():
        return
    closes_at = workshop.starts_at - dt.timedelta(days=14)
    opens_at = min(timezone.now() - dt.timedelta(days=14), closes_at - dt.timedelta(days=1))
    call = Call.objects.create(
        workshop=workshop, opens_at=opens_at, closes_at=closes_at, intro=CALL_INTRO
    )
    for position, (name, kind, minutes, description) in enumerate(SUBMISSION_TYPES):
        SubmissionType.objects.create(
            call=call,
            name=name,
            kind=kind,
            duration=minutes,
            description=description,
            position=position,
        )
    for position, name in enumerate(CALL_TRACKS):
        Track.objects.create(call=call, name=name, position=position)
    for position, (text, kind, options, required) in enumerate(CALL_QUESTIONS):
        Question.objects.create(
            call=call, text=text, kind=kind, options=options, required=required, position=position
        )


def _talk(slug, title, kind, track, speaker_slug, abstract):
    values = {
        "title": title,
        "kind": kind,
        "track": track,
        "abstract": abstract,
        "language": "en",
        "published": True,
    }
    talk, created = Talk.objects.get_or_create(slug=slug, defaults=values)
    if created and speaker_slug:
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
