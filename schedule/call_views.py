"""The call for proposals as the public and the authors see it.

``/call/`` is public. Everything under ``/call/proposals/`` is an author's own: a proposal
is looked up among the signed-in person's proposals, so anyone else's answers 404.
"""

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from schedule import decisions, proposals
from schedule.forms import ProposalForm
from schedule.models import Call, Proposal
from schedule.proposals import ProposalError
from speakers.forms import FirstProfileForm
from speakers.models import Speaker
from workshop.cache import cache_public_page, store_page_until
from workshop.current import current_workshop
from workshop.ratelimit import limit

PROFILE_PREFIX = "profile"


def call_or_404(request):
    """Return the current workshop's call for proposals, or answer 404."""
    workshop = current_workshop(request)
    call = (
        Call.objects.filter(workshop=workshop).select_related("workshop").first()
        if workshop
        else None
    )
    if call is None:
        raise Http404("There is no call for proposals.")
    return call


def next_change(call, now):
    """Return when the call next opens or closes (None once closed): its page changes then."""
    for moment in (call.opens_at, call.closes_at):
        if now < moment:
            return moment
    return None


@require_safe
@cache_public_page()
def call_detail(request):
    """Show the call: its dates, what it offers, what it asks, and the way to submit."""
    call = call_or_404(request)
    now = timezone.now()
    context = {
        "call": call,
        "status": call.status(now),
        "submission_types": list(call.submission_types.all()),
        "tracks": list(call.tracks.all()),
        "questions": list(call.questions.all()),
    }
    with timezone.override(call.workshop.tzinfo):
        response = render(request, "schedule/call.html", context)
    store_page_until(response, next_change(call, now))
    return response


def refused(request, error, proposal=None):
    """Answer a change the call's rules refuse with its reason and status; nothing changed."""
    context = {"message": error.message, "proposal": proposal}
    return render(request, "schedule/proposal_refused.html", context, status=error.status_code)


def form_key(request):
    """Return the one-time key the form was rendered with, or a new one for a new form."""
    try:
        return uuid.UUID(request.POST.get("submission_key", ""))
    except ValueError:
        return uuid.uuid4()


@login_required
@require_http_methods(["GET", "POST"])
def proposal_submit(request):
    """Let a signed-in author send a proposal while the call is open."""
    call = call_or_404(request)
    has_profile = Speaker.objects.filter(user=request.user).exists()
    if request.method == "GET":
        try:
            proposals.check_open(call, timezone.now())
        except ProposalError as error:
            return refused(request, error)
    data = request.POST if request.method == "POST" else None
    form = ProposalForm(data, call=call)
    profile_form = None if has_profile else FirstProfileForm(data, prefix=PROFILE_PREFIX)
    key = form_key(request)
    status = 200
    if data is not None:
        if form.is_valid() and (profile_form is None or profile_form.is_valid()):
            # Counted once the form is right: an author correcting mistakes is not held back,
            # and an invalid form writes nothing.
            if limited := limit(
                request, "proposal-submit", per_ip="30/h", per_key="10/h", key=str(request.user.pk)
            ):
                return limited
            try:
                proposal, new = proposals.submit_proposal(
                    call=call,
                    user=request.user,
                    text=form.text(),
                    answers=form.answers(),
                    profile=profile_form.cleaned_data if profile_form else None,
                    key=key,
                )
            except ProposalError as error:
                form.add_error(None, error.message)
                status = error.status_code
            else:
                if new:
                    messages.success(request, "Thank you: your proposal has been received.")
                else:
                    messages.info(request, "This proposal had already been received.")
                return redirect(proposal)
        else:
            status = 400
    context = {"call": call, "form": form, "profile_form": profile_form, "key": key}
    return render(request, "schedule/proposal_form.html", context, status=status)


def my_proposal(request, code):
    """Return the signed-in person's proposal ``code``; anyone else's is not found."""
    queryset = Proposal.objects.of_author(request.user).select_related(
        "talk", "call__workshop", "submission_type"
    )
    return get_object_or_404(queryset, code=code)


@login_required
@require_safe
def proposal_list(request):
    """List the signed-in person's proposals with their states."""
    mine = (
        Proposal.objects.of_author(request.user)
        .select_related("talk", "submission_type", "call__workshop")
        .order_by("-created_at", "-pk")
    )
    call = Call.objects.filter(workshop=current_workshop(request)).first()
    context = {"proposals": list(mine), "call": call}
    return render(request, "schedule/proposal_list.html", context)


@login_required
@require_safe
def proposal_detail(request, code):
    """Show an author their proposal, its state and what they may still do with it."""
    proposal = my_proposal(request, code)
    now = timezone.now()
    context = {
        "proposal": proposal,
        "talk": proposal.talk,
        "authors": list(proposal.talk.speakers.order_by("name")),
        "answers": list(proposal.answers.select_related("question")),
        "availability": list(proposal.availabilities.all()),
        "may_edit": proposals.may_edit(proposal, now),
        "may_withdraw": proposals.may_withdraw(proposal, now),
    }
    with timezone.override(proposal.call.workshop.tzinfo):
        return render(request, "schedule/proposal_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def proposal_edit(request, code):
    """Let an author change their proposal while it is submitted and the call open."""
    proposal = my_proposal(request, code)
    call = proposal.call
    if request.method == "GET":
        try:
            proposals.check_editable(proposal, call, timezone.now())
        except ProposalError as error:
            return refused(request, error, proposal)
    initial = ProposalForm.initial_of(proposal)
    form = ProposalForm(request.POST or None, call=call, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                proposals.update_proposal(
                    proposal=proposal, text=form.text(), answers=form.answers()
                )
            except ProposalError as error:
                form.add_error(None, error.message)
                status = error.status_code
            else:
                messages.success(request, "Your changes are saved.")
                return redirect(proposal)
        else:
            status = 400
    context = {"call": call, "form": form, "proposal": proposal}
    return render(request, "schedule/proposal_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def proposal_withdraw(request, code):
    """Ask an author to confirm withdrawing their proposal, then withdraw it."""
    proposal = my_proposal(request, code)
    if request.method == "GET":
        try:
            proposals.check_withdrawable(proposal, proposal.call, timezone.now())
        except ProposalError as error:
            return refused(request, error, proposal)
        return render(request, "schedule/proposal_withdraw.html", {"proposal": proposal})
    try:
        proposals.withdraw_proposal(proposal=proposal)
    except ProposalError as error:
        return refused(request, error, proposal)
    messages.success(request, f"Your proposal “{proposal.talk.title}” is withdrawn.")
    return redirect(proposal)


@login_required
@require_http_methods(["GET", "POST"])
def proposal_confirm(request, code):
    """Let an accepted author confirm they will give the talk, which publishes it."""
    proposal = my_proposal(request, code)
    if request.method == "GET":
        if proposal.state != Proposal.State.ACCEPTED:
            error = decisions.not_confirmable(proposal)
            return refused(request, error, proposal)
        return render(request, "schedule/proposal_confirm.html", {"proposal": proposal})
    try:
        decisions.confirm_proposal(proposal=proposal, user=request.user)
    except ProposalError as error:
        return refused(request, error, proposal)
    messages.success(
        request, f"Thank you: “{proposal.talk.title}” is confirmed and on the programme."
    )
    return redirect(proposal)


class CoauthorForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="As it should appear on the programme.")
    # The speaker's column, shorter than the 320 characters Django's form field takes.
    email = forms.EmailField(
        label="E-mail address",
        max_length=Speaker._meta.get_field("email").max_length,
        help_text="The invitation to join goes here.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def proposal_coauthors(request, code):
    """Let an author invite co-authors by e-mail while the proposal can still change."""
    proposal = my_proposal(request, code)
    try:
        proposals.check_editable(proposal, proposal.call, timezone.now())
    except ProposalError as error:
        return refused(request, error, proposal)
    form = CoauthorForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if limited := limit(
            request, "coauthor-invite", per_ip="20/h", per_key="10/h", key=str(request.user.pk)
        ):
            return limited
        if form.is_valid():
            try:
                speaker = proposals.invite_coauthor(
                    proposal=proposal,
                    name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"],
                    invited_by=request.user,
                )
            except ProposalError as error:
                form.add_error(None, error.message)
                status = error.status_code
            else:
                messages.success(
                    request, f"{speaker.name} is invited by e-mail to join “{proposal.talk.title}”."
                )
                return redirect(proposal)
        else:
            status = 400
    authors = list(proposal.talk.speakers.select_related("user").order_by("name"))
    context = {"proposal": proposal, "form": form, "authors": authors}
    return render(request, "schedule/proposal_coauthors.html", context, status=status)
