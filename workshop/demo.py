"""Demo content: the seed workshop "Real-world Perspectives in Machine Learning for Science".

``load()`` creates what is missing and never changes a row that exists, so what someone
edited on the demo site (a page, the workshop's dates) survives the next `make run`.

The workshop took place on 2 December 2022. A workshop that has ended sells no tickets, so the
demo creates it a few weeks ahead instead, and the home page says so in development: every
journey (buying, paying, checking in, speaking) can then be walked.
"""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from workshop.models import Page, Supporter, Workshop

WORKSHOP_SLUG = "pydata-global-2022-mlsci"

DESCRIPTION = """\
This is a workshop organised on December 2nd, during [PyData Global 2022](https://pydata.org/global2022/) \
with financial support by the [Software Sustainability Institute](https://www.software.ac.uk/about/fellows/jesper-soren-dramsch).

Check out the [talks](/talks/), [speakers](/speakers/), and [schedule](/schedule/), as well as \
additional [resources](/resources/).

## Description

Numerous scientific disciplines have noticed a reproducibility crisis of published results. While this \
important topic was being addressed, the danger of non-reproducible and unsustainable research artefacts \
using machine learning in science arose. The brunt of this has been avoided by better education of \
reviewers who nowadays have the skills to spot insufficient validation practices. However, there is more \
potential to further ease the review process, improve collaboration and make results and models available \
to fellow scientists. This workshop will teach practical lessons that can be directly applied to elevate \
the quality of ML applications in science by scientists.

It seems like we avoided the worst signs of the reproducibility crisis in science when applying machine \
learning in science. Thanks to better education for reviewers, easier access to tools, and a better \
understanding of zero-knowledge models.

However, there is much more potential for ML in science. The real world comes with many pitfalls that make \
the application of machine learning very promising, but the verification of scientific results is complex. \
Nevertheless, many open-source contributors in the field have worked hard to develop practices and \
resources to ease this process.

We discuss pitfalls and solutions in model evaluation, where the choice of appropriate metrics and adequate \
splits of the data is important. We discuss benchmarks, testing, and machine learning reproducibility, \
where we go into detail on pipelines. Pipelines are a great showcase to avoid the main reproducibility \
pitfalls, as well as, a tool to bridge the gap between ML experts and domain scientists. Interaction with \
domain scientists, involving existing knowledge, and communication are a constant undercurrent in \
producing trustworthy, validated, and reliable machine learning solutions.

Overall, this workshop relies on existing high-quality resources like the Turing Way, more applied \
tutorials like [Jesper Dramsch’s Euroscipy tutorial on ML reproducibility](https://dramsch.net/articles/euroscipy-2022/), \
and professional tools like the Ersilia Hub. Where we utilize real-world examples from different \
scientific disciplines, e.g. weather and biomedicine.

In this workshop, we present a series of talks from invited speakers that are experts in the application \
of data science and machine learning to real-world applications. Each talk will be followed by an \
interactive session to take the theory into practical examples the participants can directly implement \
to improve their own research. Finally, we close on a discussion that invited active participation and \
engagement with the speakers as a group.

![Logo in Helvetica saying "Metrics & Evaluation & Explanation & Pipelines & Testing & Reproduction."](/static/images/ampersands-ml-workshop.svg)
"""

WORKSHOP = {
    "title": "Real-world Perspectives in Machine Learning for Science",
    "tagline": "A PyData Global workshop on trustworthy, reproducible machine learning in science",
    "description": DESCRIPTION,
    "keywords": "Metrics, Evaluation, Explanation, Pipelines, Testing, Reproduction",
    "time_zone": "UTC",
    "format": Workshop.Format.ONLINE,
    "joining_details": (
        "Join the live stream and the discussion rooms on the PyData Global conference "
        "platform with the e-mail address of your ticket. (Demo: no real link.)"
    ),
    "contact_email": "workshop@example.org",
    "ticket_info": (
        "The workshop is part of PyData Global 2022. Tickets are for the online workshop; "
        "financial-aid tickets are available on request."
    ),
    "currency": "EUR",
    "organiser_name": "ML for Science Workshop Organisers (demo)",
    "organiser_address": "Example Street 1\n12345 Example City",
    "bank_details": (
        "ML for Science Workshop Organisers (demo)\nIBAN DE00 0000 0000 0000 0000 00 (not a real "
        "account)\nBIC DEMODEXXXXX"
    ),
}

# When the workshop took place; the demo moves it to MOVED_AHEAD_DAYS after the day it is loaded.
HELD_STARTS_AT = dt.datetime(2022, 12, 2, 13, 0, tzinfo=dt.UTC)
DURATION = dt.timedelta(hours=5)
MOVED_AHEAD_DAYS = 30

SUPPORTERS = [
    {
        "name": "Software Sustainability Institute",
        "url": "https://www.software.ac.uk/",
        "description": "Financial support through the SSI Fellowship programme.",
        "position": 1,
    },
    {
        "name": "PyData Global 2022",
        "url": "https://pydata.org/global2022/",
        "description": "The conference this workshop is part of.",
        "position": 2,
    },
]

PAGES = [
    {
        "slug": "resources",
        "title": "Resources",
        "summary": "Reading and tools on reproducible machine learning in science.",
        "menu_position": 1,
        "body": """\
Material the talks build on, to read before or after the workshop:

- [The Turing Way](https://the-turing-way.netlify.app/): a handbook for reproducible, ethical and \
collaborative data science.
- [Jesper Dramsch’s EuroSciPy 2022 tutorial on ML reproducibility](https://dramsch.net/articles/euroscipy-2022/).
- [Ersilia Model Hub](https://www.ersilia.io/): open-source AI/ML models for biomedicine.
- [scikit-learn: common pitfalls and recommended practices](https://scikit-learn.org/stable/common_pitfalls.html).
""",
    },
    {
        "slug": "code-of-conduct",
        "title": "Code of conduct",
        "summary": "How we treat each other at the workshop.",
        "menu_position": 2,
        "body": """\
This workshop follows the [PyData Code of Conduct](https://pydata.org/code-of-conduct/). Be kind, \
be welcoming, and respect each other. Harassment of any kind is not tolerated.

Report a problem to the organisers at any time by e-mail; reports are treated confidentially.
""",
    },
    {
        "slug": "privacy",
        "title": "Privacy",
        "summary": "What personal data the workshop keeps and why.",
        "menu_position": 3,
        "body": """\
We keep the names and e-mail addresses of ticket buyers and attendees to send tickets and workshop \
information, and the profiles speakers publish. Card payments are handled by Stripe; we never see card \
numbers.

- **Your data**: signed in, open *Your data* on your account pages to download everything we keep about \
you as a file, or to delete your account. Orders stay in our accounts for bookkeeping, with your name and \
e-mail address removed; invoices already issued are kept as the law requires.
- **After the workshop**: names and e-mail addresses of buyers and attendees are removed 90 days after \
the workshop ends.
- **Abuse protection**: to stop bots from holding every seat, we count unpaid orders per e-mail \
address and per network address; network addresses are stored only as a one-way keyed hash.
- **Questions**: write to the organisers at the contact address on the home page.
""",
    },
    {
        "slug": "about",
        "title": "About",
        "summary": "Who organises the workshop.",
        "menu_position": 4,
        "body": """\
The workshop is organised by volunteers from the scientific Python community as part of \
PyData Global 2022. This site is a demo: the people and talks other than the workshop itself are fictional.
""",
    },
]


def demo_dates(today):
    """Return the start and end of the demo workshop when it is loaded on ``today``."""
    day = today + dt.timedelta(days=MOVED_AHEAD_DAYS)
    starts_at = dt.datetime.combine(day, HELD_STARTS_AT.timetz())
    return starts_at, starts_at + DURATION


def load():
    """Create the demo workshop, its supporters and pages where missing; return the workshop."""
    workshop = Workshop.objects.filter(slug=WORKSHOP_SLUG).first()
    if workshop is None:
        starts_at, ends_at = demo_dates(timezone.now().date())
        # Another workshop someone made current stays current.
        is_current = not Workshop.objects.filter(is_current=True).exists()
        workshop = Workshop.objects.create(
            slug=WORKSHOP_SLUG,
            starts_at=starts_at,
            ends_at=ends_at,
            is_current=is_current,
            **WORKSHOP,
        )
    for supporter in SUPPORTERS:
        Supporter.objects.get_or_create(
            workshop=workshop, name=supporter["name"], defaults=supporter
        )
    for page in PAGES:
        Page.objects.get_or_create(slug=page["slug"], defaults={**page, "published": True})
    return workshop


def moved_from(workshop):
    """Return when the demo workshop really took place if the demo moved it, else None.

    Said only in development: a site in production is not the demo.
    """
    if settings.PRODUCTION or workshop is None or workshop.slug != WORKSHOP_SLUG:
        return None
    return HELD_STARTS_AT if workshop.starts_at != HELD_STARTS_AT else None
