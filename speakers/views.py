import copy

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.generic import DetailView, ListView

from speakers import photos, services
from speakers.adapter import INVITATION_SESSION_KEY
from speakers.forms import SpeakerProfileForm
from speakers.models import Speaker
from workshop.cache import cache_public_page
from workshop.fragments import html_fragments
from workshop.ratelimit import limit
from workshop.uploads import handles_own_upload_limit


@method_decorator(cache_public_page(), name="dispatch")
class SpeakerListView(ListView):
    """List the published speakers with their published talks."""

    template_name = "speakers/speaker_list.html"
    context_object_name = "speakers"

    def get_queryset(self):
        return Speaker.objects.published().outline()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Each card is kept under the versions of its speaker and talks: a change re-renders
        # (and loads in full) only the cards it shows on.
        context["speaker_items"] = html_fragments(
            "speaker-item",
            context["speakers"],
            template="speakers/_speaker_item.html",
            name="speaker",
            inputs=lambda outline: outline,
            complete=_speakers_in_full,
        )
        return context


def _speakers_in_full(outlines):
    full = Speaker.objects.listed().in_bulk([pk for pk, _versions in outlines])
    return [full[pk] for pk, _versions in outlines]


@method_decorator(cache_public_page(), name="dispatch")
class SpeakerDetailView(DetailView):
    """Show a published speaker's profile and talks."""

    template_name = "speakers/speaker_detail.html"
    context_object_name = "speaker"

    def get_queryset(self):
        return Speaker.objects.published().with_public_talks()


def invalid_invitation(request, error):
    """Answer an unusable invitation link with its reason and status (404, 409 or 410)."""
    context = {"reason": error.reason, "message": error.message}
    return render(request, "speakers/invitation_invalid.html", context, status=error.status_code)


def invitation(request, token):
    """Keep a valid invitation token in the session and go on without it in the address."""
    # Per address against guessing; per token so that a leaked link cannot be hammered.
    if limited := limit(request, "speaker-invitation", per_ip="60/h", per_key="20/h", key=token):
        return limited
    try:
        services.find_invitation(token)
    except services.InvitationError as error:
        return invalid_invitation(request, error)
    request.session[INVITATION_SESSION_KEY] = token
    return redirect("speakers:invitation_pending")


def invitation_pending(request):
    """Ask the invited person to sign up or in, then to confirm taking over the profile."""
    token = request.session.get(INVITATION_SESSION_KEY)
    if request.method == "POST" and (
        limited := limit(
            request, "speaker-invitation-claim", per_ip="20/h", per_key="5/h", key=token
        )
    ):
        return limited
    try:
        invite = services.find_invitation(token)
    except services.InvitationError as error:
        request.session.pop(INVITATION_SESSION_KEY, None)
        return invalid_invitation(request, error)
    if not request.user.is_authenticated:
        # Signing up with the invited address needs no further verification mail.
        get_adapter(request).stash_verified_email(request, invite.email)
        next_query = urlencode({"next": reverse("speakers:invitation_pending")})
        context = {"invitation": invite, "next_query": next_query}
        return render(request, "speakers/invitation_welcome.html", context)
    if request.method == "POST":
        try:
            speaker = services.claim_invitation(token=token, user=request.user)
        except services.InvitationError as error:
            return invalid_invitation(request, error)
        finally:
            request.session.pop(INVITATION_SESSION_KEY, None)
        messages.success(request, f"The speaker profile “{speaker.name}” is now yours.")
        return redirect("speakers:my_profile")
    return render(request, "speakers/invitation_confirm.html", {"invitation": invite})


@handles_own_upload_limit
@csrf_exempt
@login_required
def my_profile(request):
    """Let a speaker edit their own profile, preview it and save it (public at once)."""
    # Upload handlers must be set before the CSRF check reads the body, hence the split.
    size_limit = photos.SizeLimitUploadHandler(request)
    request.upload_handlers.insert(0, size_limit)
    return edit_profile(request, size_limit)


@csrf_protect
def edit_profile(request, size_limit):
    speaker = Speaker.objects.filter(user=request.user).first()
    if speaker is None:
        return render(request, "speakers/no_profile.html")
    saved_name = speaker.name
    preview = None
    if request.method == "POST":
        form = SpeakerProfileForm(request.POST, request.FILES, instance=speaker)
        if "photo" in size_limit.too_large:
            form.add_error("photo", photos.too_large())
        if form.is_valid() and "preview" not in request.POST:
            services.update_speaker_profile(speaker=form.instance, changed_by=request.user)
            messages.success(request, "Your profile is saved and shown on the speakers page.")
            return redirect("speakers:my_profile")
        if form.is_valid():
            preview = preview_of(form.instance)
    else:
        form = SpeakerProfileForm(instance=speaker)
    talks = Speaker.objects.with_public_talks().get(pk=speaker.pk).public_talks
    # A photo chosen and checked is carried to the save (shown when this is a preview), so
    # that neither a preview nor a mistake in another field makes the speaker choose it again.
    new_photo = form.processed_photo if request.method == "POST" else None
    context = {
        "form": form,
        "speaker": speaker,
        "saved_name": saved_name,
        "preview": preview,
        "talks": talks,
        "new_photo_src": photos.data_url(new_photo.thumbnail) if new_photo and preview else None,
        "kept_photo": photos.keep(new_photo, speaker=speaker) if new_photo else None,
    }
    return render(request, "speakers/my_profile.html", context)


def preview_of(edited):
    """Return an unsaved copy of ``edited`` that shows the photo as stored until it is saved."""
    preview = copy.copy(edited)
    stored = Speaker.objects.only("photo", "thumbnail").get(pk=edited.pk)
    preview.photo, preview.thumbnail = stored.photo, stored.thumbnail
    return preview


@login_required
def edit_by_slug(request, slug):
    """Send a speaker to their own edit page; refuse everyone else's profile."""
    speaker = get_object_or_404(Speaker.objects.only("pk", "user_id", "published"), slug=slug)
    if speaker.user_id != request.user.pk:
        # An unpublished profile is not on the site: its address says nothing of it either.
        if not speaker.published:
            raise Http404("No such speaker.")
        raise PermissionDenied("You can only edit your own speaker profile.")
    return redirect("speakers:my_profile")
