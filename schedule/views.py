from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from schedule import exports, fragments, services
from schedule.display import (
    SESSION_KEY,
    build_days,
    choose_zone,
    next_change,
    zone_label,
    zone_options,
)
from schedule.forms import TalkLinkFormSet, TalkSpeakerForm
from schedule.models import Proposal, Slot, Talk
from speakers.models import Speaker
from workshop.cache import cache_public_page, store_page_until
from workshop.current import current_workshop


def _chosen_zone(request):
    """Return what the page's times depend on besides the address: the zone kept in the session."""
    return request.session.get(SESSION_KEY, "")


def _zone_context(request, workshop):
    """Return the time-zone choice and what the zone form needs."""
    choice = choose_zone(request, workshop)
    when = workshop.starts_at if workshop else timezone.now()
    return choice, {
        "zone": choice,
        "zone_label": zone_label(choice.zone, when),
        "event_zone_label": zone_label(choice.event_zone, when),
        "zone_options": zone_options(choice.zone.key),
    }


def _speaker_of(user):
    return getattr(user, "speaker", None) if user.is_authenticated else None


def _my_talks(request):
    speaker = _speaker_of(request.user)
    return list(speaker.talks.open_to_speaker_edits().order_by("title")) if speaker else []


@require_safe
@cache_public_page(vary=_chosen_zone)
def talk_list(request):
    """List the published talks with their speakers, time and room."""
    workshop = current_workshop(request)
    choice, context = _zone_context(request, workshop)
    with timezone.override(choice.zone):
        context.update(
            talk_items=fragments.talk_items(choice.zone, timezone.now()),
            my_talks=_my_talks(request),
        )
        return render(request, "schedule/talk_list.html", context)


def _visible_talk(request, slug):
    """Return the talk at ``slug`` if the viewer may see it: published, or theirs, or staff."""
    talk = get_object_or_404(Talk.objects.with_schedule(), slug=slug)
    if not talk.published and not (
        _may_preview(request.user, talk) or _may_edit(request.user, talk)
    ):
        raise Http404("No such talk.")
    return talk


def _may_preview(user, talk):
    """Return whether ``user`` is staff who may see the unpublished ``talk``.

    A proposal's talk only to those who read proposals: a reviewer would find the authors of
    an anonymised proposal there, and other staff have no business with the call.
    """
    if not user.is_staff:
        return False
    return (
        user.has_perm("schedule.view_proposal") or not Proposal.objects.filter(talk=talk).exists()
    )


def _may_edit(user, talk):
    speaker = _speaker_of(user)
    return (
        bool(speaker)
        and Talk.objects.open_to_speaker_edits()
        .filter(pk=talk.pk, speakers__pk=speaker.pk)
        .exists()
    )


@require_safe
@cache_public_page(vary=_chosen_zone)
def talk_detail(request, slug):
    """Show one talk: abstract, speakers, time and room, links, and its calendar file."""
    workshop = current_workshop(request)
    talk = _visible_talk(request, slug)
    choice, context = _zone_context(request, workshop)
    slot = talk.scheduled_slot
    may_edit = _may_edit(request.user, talk)
    context.update(
        talk=talk,
        slot=slot,
        is_now=bool(slot and slot.is_running(timezone.now())),
        may_edit=may_edit,
        my_talks=_my_talks(request) if may_edit else [],
    )
    with timezone.override(choice.zone):
        return render(request, "schedule/talk_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def talk_edit(request, slug):
    """Let a speaker of the talk edit its abstract, description, slides and video links."""
    talk = get_object_or_404(Talk, slug=slug)
    if not _may_edit(request.user, talk):
        # An unpublished talk (a proposal, a draft) is not on the site: its address says
        # nothing of it either.
        if not talk.published:
            raise Http404("No such talk.")
        raise PermissionDenied("Only the talk's speakers may edit it.")
    form = TalkSpeakerForm(request.POST or None, instance=talk)
    links = TalkLinkFormSet(request.POST or None, instance=talk, prefix="links")
    if request.method == "POST" and form.is_valid() and links.is_valid():
        try:
            services.save_speaker_edit(form=form, links=links, user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
            # The links saved and rolled back keep their ids; show them again as posted.
            links = TalkLinkFormSet(request.POST, instance=talk, prefix="links")
        else:
            messages.success(request, "Your talk has been updated.")
            return redirect(talk)
    context = {"talk": talk, "form": form, "links": links}
    return render(request, "schedule/talk_edit.html", context)


@require_safe
@cache_public_page(vary=_chosen_zone)
def schedule(request):
    """Show the programme as a grid of rooms by time, one section per day."""
    workshop = current_workshop(request)
    choice, context = _zone_context(request, workshop)
    slots, rooms = exports.load_programme(workshop) if workshop else ([], [])
    now = timezone.now()
    for slot in slots:
        slot.is_now = slot.is_running(now)
    days = build_days(slots, rooms, choice.zone)
    with timezone.override(choice.zone):
        fragments.fill_slot_cells(days, choice.zone)
        context.update(days=days, rooms=rooms, now=now, room_columns=_room_columns(rooms))
        response = render(request, "schedule/schedule.html", context)
    # What is on now changes at the next start or end: no stored copy may outlive it.
    store_page_until(response, next_change(slots, now))
    return response


# The stylesheet knows the width the grid needs for up to this many rooms.
MOST_ROOM_COLUMNS = 8


def _room_columns(rooms):
    """Return the name of the stylesheet's class for the grid's width: rooms-0 to rooms-8."""
    return min(len(rooms), MOST_ROOM_COLUMNS)


def _export(request, body, content_type, name):
    """Answer an export with open CORS; cache_public_page adds ETag, Last-Modified and 304."""
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _programme_or_404(request):
    workshop = current_workshop(request)
    if workshop is None:
        raise Http404("No workshop yet.")
    slots, rooms = exports.load_programme(workshop)
    return workshop, slots, rooms


@require_safe
@cache_public_page()
def schedule_ics(request):
    """Serve the whole programme as an iCalendar file."""
    workshop, slots, _rooms = _programme_or_404(request)
    body = exports.build_ics(workshop, slots)
    return _export(request, body, "text/calendar; charset=utf-8", "schedule.ics")


@require_safe
@cache_public_page()
def schedule_xml(request):
    """Serve the programme as frab / c3voc schedule XML."""
    workshop, slots, rooms = _programme_or_404(request)
    body = exports.build_xml(workshop, slots, rooms)
    return _export(request, body, "application/xml; charset=utf-8", "schedule.xml")


@require_safe
@cache_public_page()
def schedule_json(request):
    """Serve the programme as frab / c3voc schedule JSON."""
    workshop, slots, rooms = _programme_or_404(request)
    body = exports.build_json(workshop, slots, rooms)
    return _export(request, body, "application/json", "schedule.json")


@require_safe
@cache_public_page()
def speaker_ics(request, slug):
    """Serve a published speaker's scheduled, published talks as an iCalendar file."""
    speaker = get_object_or_404(Speaker.objects.published(), slug=slug)
    workshop = current_workshop(request)
    if workshop is None:
        raise Http404("No workshop yet.")
    slots = list(Slot.objects.programme(workshop).filter(talk__speakers=speaker))
    body = exports.build_ics(workshop, slots, name=f"{speaker.name}: {workshop.title}")
    return _export(request, body, "text/calendar; charset=utf-8", f"{speaker.slug}.ics")


@require_safe
@cache_public_page()
def talk_ics(request, slug):
    """Serve one scheduled, published talk as an iCalendar file."""
    talk = get_object_or_404(Talk.objects.published().with_schedule(), slug=slug)
    slot = talk.scheduled_slot
    if slot is None:
        raise Http404("This talk is not scheduled yet.")
    slot.talk = talk
    body = exports.build_ics(slot.workshop, [slot])
    return _export(request, body, "text/calendar; charset=utf-8", f"{talk.slug}.ics")
