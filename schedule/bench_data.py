"""Benchmark data: rooms, published talks with speakers and links, and a full grid of slots.

Talks fill the days room by room in 30-minute slots around a welcome and a lunch break
(times from workshop/bench_data.py), so no room or speaker is double-booked.
"""

import datetime as dt

from schedule.models import Room, Slot, Talk, TalkLink
from speakers.models import Speaker
from workshop import bench_data as base

TRACKS = ("Metrics", "Evaluation", "Explanation", "Pipelines", "Testing", "Reproduction")
KINDS = [Talk.Kind.TALK] * 7 + [Talk.Kind.TUTORIAL, Talk.Kind.KEYNOTE, Talk.Kind.LIGHTNING]
LEVELS = [choice for choice, _ in Talk.Level.choices]


def slot_start(day, index):
    """Return the start of the ``index``-th talk slot of ``day``, skipping lunch."""
    if index < base.MORNING_SLOTS:
        time, offset = base.FIRST_TALK, index
    else:
        time, offset = base.LUNCH[1], index - base.MORNING_SLOTS
    return base.local_time(day, time) + dt.timedelta(minutes=base.SLOT_MINUTES * offset)


def generate(workshop, size, rng):
    """Create the rooms, ``size["talks"]`` talks and their slots; return the talks."""
    rooms = Room.objects.bulk_create(
        Room(
            name=f"Room {n}",
            position=n,
            stream_url=f"https://example.org/stream/room-{n}",
            description=base.sentence(rng, (4, 8)),
        )
        for n in range(1, size["rooms"] + 1)
    )
    speakers = list(Speaker.objects.order_by("id"))
    talks = Talk.objects.bulk_create(new_talk(n, rng) for n in range(size["talks"]))
    link_speakers(talks, speakers, len(rooms), rng)
    TalkLink.objects.bulk_create(
        TalkLink(
            talk=talk,
            title=f"Resource {k}",
            url=f"https://example.org/{talk.slug}/resource-{k}",
            kind=rng.choice(TalkLink.Kind.values),
            position=k,
        )
        for talk in talks
        for k in range(rng.randint(0, 2))
    )
    Slot.objects.bulk_create(
        [*plain_slots(workshop, size), *talk_slots(workshop, talks, rooms, size["days"])]
    )
    return talks


def new_talk(n, rng):
    title = base.sentence(rng, (3, 7)).rstrip(".").replace("*", "")
    return Talk(
        title=title,
        slug=f"talk-{n}",
        kind=rng.choice(KINDS),
        abstract=base.paragraph(rng, (2, 4)),
        description=base.markdown_text(rng, (2, 4)),
        track=rng.choice(TRACKS),
        level=rng.choice(LEVELS),
        slides_url=f"https://example.org/slides/talk-{n}" if rng.random() < 0.5 else "",
        video_url=f"https://example.org/video/talk-{n}" if rng.random() < 0.3 else "",
        published=True,
    )


def link_speakers(talks, speakers, rooms, rng):
    """Give talk n speaker n, and a fifth of them a second one who speaks three slots later."""
    through = Talk.speakers.through
    links = []
    for n, talk in enumerate(talks):
        links.append(through(talk=talk, speaker=speakers[n % len(speakers)]))
        if rng.random() < 0.2:
            other = speakers[(n + 3 * rooms) % len(speakers)]
            if other != speakers[n % len(speakers)]:
                links.append(through(talk=talk, speaker=other))
    through.objects.bulk_create(links)


def plain_slots(workshop, size):
    for offset in range(size["days"]):
        day = base.FIRST_DAY + dt.timedelta(days=offset)
        yield Slot(
            workshop=workshop,
            start=base.local_time(day, base.DAY_OPENS),
            end=base.local_time(day, base.FIRST_TALK),
            title="Welcome",
        )
        yield Slot(
            workshop=workshop,
            start=base.local_time(day, base.LUNCH[0]),
            end=base.local_time(day, base.LUNCH[1]),
            title="Lunch break",
            is_break=True,
        )


def talk_slots(workshop, talks, rooms, days):
    per_day = -(-len(talks) // (len(rooms) * days))  # slots per room and day, rounded up
    for n, talk in enumerate(talks):
        day_index, in_day = divmod(n, per_day * len(rooms))
        index, room = divmod(in_day, len(rooms))
        start = slot_start(base.FIRST_DAY + dt.timedelta(days=day_index), index)
        end = start + dt.timedelta(minutes=base.SLOT_MINUTES)
        yield Slot(workshop=workshop, start=start, end=end, room=rooms[room], talk=talk)


def flush():
    Slot.objects.all().delete()
    TalkLink.objects.all().delete()
    Talk.objects.all().delete()
    Room.objects.all().delete()
