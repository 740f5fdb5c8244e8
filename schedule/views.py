from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from schedule import exports, fragments, services
from schedule.display import SESSION_KEY, build_days, choose_zone, zone_label, zone_options
from schedule.forms import TalkLinkFormSet, TalkSpeakerForm
from schedule.models import Talk
from workshop.cache import cache_public_page
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
    return list(speaker.talks.order_by("title")) if speaker else []


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
    if not talk.published and not (request.user.is_staff or _may_edit(request.user, talk)):
        raise Http404("No such talk.")
    return talk


def _may_edit(user, talk):
    speaker = _speaker_of(user)
    return bool(speaker) and talk.speakers.filter(pk=speaker.pk).exists()


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
        raise PermissionDenied("Only the talk's speakers may edit it.")
    form = TalkSpeakerForm(request.POST or None, instance=talk)
    links = TalkLinkFormSet(request.POST or None, instance=talk, prefix="links")
    if request.method == "POST" and form.is_valid() and links.is_valid():
        services.save_speaker_edit(form=form, links=links, user=request.user)
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
        context.update(days=days, rooms=rooms, now=now)
        return render(request, "schedule/schedule.html", context)


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
def talk_ics(request, slug):
    """Serve one scheduled, published talk as an iCalendar file."""
    talk = get_object_or_404(Talk.objects.published().with_schedule(), slug=slug)
    slot = talk.scheduled_slot
    if slot is None:
        raise Http404("This talk is not scheduled yet.")
    slot.talk = talk
    body = exports.build_ics(slot.workshop, [slot])
    return _export(request, body, "text/calendar; charset=utf-8", f"{talk.slug}.ics")
