"""Benchmark data: the workshop, its pages and supporters, and shared text helpers.

``manage.py generate_bench_data`` calls ``generate(size, rng)`` here first, then each other
app's ``bench_data.generate(workshop, size, rng)``. Everything comes from the seeded ``rng``,
so two runs at one size write the same rows (only ``auto_now`` timestamps differ).
"""

import datetime as dt
import zoneinfo

from workshop.models import Page, Supporter, Workshop

WORKSHOP_SLUG = "bench-workshop"
TIME_ZONE = "Europe/Berlin"
FIRST_DAY = dt.date(2030, 6, 10)

# What each size holds; every app reads the keys it needs.
SIZES = {
    "small": {"days": 1, "rooms": 2, "talks": 20, "speakers": 20, "orders": 200},
    "large": {"days": 3, "rooms": 6, "talks": 300, "speakers": 300, "orders": 5000},
}

# The talk slots of a day, in the workshop's zone: mornings and afternoons around lunch.
DAY_OPENS = dt.time(8, 30)
FIRST_TALK = dt.time(9, 0)
LUNCH = (dt.time(12, 30), dt.time(13, 30))
SLOT_MINUTES = 30
MORNING_SLOTS = 7
DAY_CLOSES = dt.time(20, 0)

WORDS = (
    "model data metric evaluation pipeline reproducibility benchmark uncertainty calibration "
    "ensemble split leakage feature attribution explanation notebook package test seed "
    "environment release review climate biomedicine ecology weather satellite genome protein "
    "simulation sensor survey archive workflow baseline validation inference training scale "
    "sample bias variance error signal noise label annotation transfer domain expert field "
    "community software citation licence dataset version provenance audit report"
).split()


def local_time(day, time):
    """Return an aware datetime for ``time`` on ``day`` in the workshop's zone."""
    return dt.datetime.combine(day, time, tzinfo=zoneinfo.ZoneInfo(TIME_ZONE))


def sentence(rng, words=(8, 18)):
    """Return one made-up sentence of workshop vocabulary."""
    chosen = [rng.choice(WORDS) for _ in range(rng.randint(*words))]
    if rng.random() < 0.3:
        position = rng.randrange(1, len(chosen))
        chosen[position] = f"*{chosen[position]}*"
    return " ".join(chosen).capitalize() + "."


def paragraph(rng, sentences=(3, 6)):
    return " ".join(sentence(rng) for _ in range(rng.randint(*sentences)))


def markdown_text(rng, paragraphs=(3, 5), link=None):
    """Return several paragraphs of Markdown with a list and, if given, a link."""
    parts = [paragraph(rng) for _ in range(rng.randint(*paragraphs))]
    items = [f"- {sentence(rng, (4, 9))}" for _ in range(rng.randint(2, 5))]
    parts.insert(1, "\n".join(items))
    if link:
        parts.append(f"More at [{link[0]}]({link[1]}).")
    return "\n\n".join(parts)


def generate(size, rng):
    """Create the current bench workshop with supporters and pages; return it."""
    days = size["days"]
    Workshop.objects.filter(is_current=True).update(is_current=False)
    workshop = Workshop.objects.create(
        title="Benchmark Conference on Machine Learning for Science",
        slug=WORKSHOP_SLUG,
        tagline="Generated data for make bench",
        description=markdown_text(rng, (4, 6), link=("the talks", "/talks/")),
        keywords="Metrics, Evaluation, Explanation, Pipelines, Testing, Reproduction",
        starts_at=local_time(FIRST_DAY, DAY_OPENS),
        ends_at=local_time(FIRST_DAY + dt.timedelta(days=days - 1), DAY_CLOSES),
        time_zone=TIME_ZONE,
        format=Workshop.Format.HYBRID,
        venue=paragraph(rng),
        joining_details=paragraph(rng),
        contact_email="bench@example.org",
        ticket_info=paragraph(rng),
        currency="EUR",
        organiser_name="Bench Organisers",
        organiser_address="Example Street 1\n12345 Example City",
        is_current=True,
    )
    Supporter.objects.bulk_create(
        Supporter(
            workshop=workshop,
            name=f"Supporter {n}",
            url=f"https://example.org/supporter-{n}",
            description=sentence(rng, (4, 8)),
            position=n,
        )
        for n in range(1, 7)
    )
    Page.objects.bulk_create(
        Page(
            slug=slug,
            title=title,
            summary=sentence(rng, (6, 10)),
            body=markdown_text(rng),
            published=True,
            menu_position=position,
        )
        for position, (slug, title) in enumerate(
            [
                ("resources", "Resources"),
                ("code-of-conduct", "Code of conduct"),
                ("privacy", "Privacy"),
                ("about", "About"),
            ],
            start=1,
        )
    )
    return workshop


def flush():
    """Delete every workshop, supporter and page (the other apps flush theirs first)."""
    Supporter.objects.all().delete()
    Page.objects.all().delete()
    Workshop.objects.all().delete()
