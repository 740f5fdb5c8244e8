"""Benchmark data: speakers with real-length Markdown bios (see workshop/bench_data.py)."""

from django.utils.text import slugify

from speakers.models import Speaker
from workshop.bench_data import markdown_text, sentence

FIRST_NAMES = (
    "Ada Kofi Mei Rubén Priya Jonas Amara Lars Sofia Tariq Ines Mateo Yuki Olu Hanna Ravi "
    "Lena Chidi Noor Pablo Zofia Emeka Aiko Farah Henrik Lucía Sven Wanjiru Tomás Leila"
).split()
LAST_NAMES = (
    "Lindqvist Mensah Tanaka Castillo Raman Weber Okafor Nilsson Rossi Haddad Moreau Silva "
    "Sato Adeyemi Berg Iyer Novak Eze Rahman Ortega Kowalska Obi Kimura Aziz Larsen Vega "
    "Holm Kamau Ferreira Karimi"
).split()
AFFILIATIONS = (
    "Institute of Imaginary Climate Science",
    "Example University Hospital",
    "Open Science Lab Example",
    "Pipeline Works Example",
    "Testing Collective Example",
    "Reproducibility Office Example",
    "Northern Example Observatory",
    "Example Genome Centre",
)


def generate(workshop, size, rng):
    """Create ``size["speakers"]`` published speakers; return them in creation order."""
    speakers = []
    for n in range(size["speakers"]):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        slug = slugify(f"{first} {last} {n}")
        website = f"https://example.org/people/{slug}"
        speakers.append(
            Speaker(
                name=f"{first} {last}",
                slug=slug,
                pronouns=rng.choice(("she/her", "he/him", "they/them", "")),
                affiliation=f"{rng.choice(AFFILIATIONS)} (fictional)",
                email=f"{slug}@example.org",
                short_bio=sentence(rng, (10, 20)),
                bio=markdown_text(rng, (4, 7), link=("my website", website)),
                website=website,
                mastodon=f"@{slug}@mastodon.example" if rng.random() < 0.5 else "",
                github=slug if rng.random() < 0.5 else "",
                published=True,
            )
        )
    return Speaker.objects.bulk_create(speakers)


def flush():
    Speaker.objects.all().delete()
