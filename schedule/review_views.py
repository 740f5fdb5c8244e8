"""Reviewers' pages under /organisers/reviews/: the proposals to review, and one to score.

A reviewer sees the current call's proposals except their own; when the call hides authors,
neither the authors' names nor their notes are shown. Other reviewers' scores are not shown
here: organisers compare them in the admin, where they decide.
"""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from schedule import reviews
from schedule.models import Call, Proposal, Review
from schedule.proposals import ProposalError
from workshop.current import current_workshop
from workshop.organisers import organiser_required

REVIEW = "schedule.review_proposal"
COMMENT_LIMIT = 5000


class ReviewForm(forms.Form):
    score = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect)
    comment = forms.CharField(
        max_length=COMMENT_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="For the programme committee; authors never see it.",
    )

    def __init__(self, *args, call, **kwargs):
        super().__init__(*args, **kwargs)
        scores = list(call.scores)
        self.fields["score"].choices = [(score, str(score)) for score in scores]
        self.fields["score"].help_text = f"From {scores[0]} (weakest) to {scores[-1]} (strongest)."


def call_or_404(request):
    call = Call.objects.filter(workshop=current_workshop(request)).first()
    if call is None:
        raise Http404("There is no call for proposals.")
    return call


class Filters(forms.Form):
    """The list's filters; a value that is not one of the call's is ignored."""

    type = forms.ModelChoiceField(queryset=None, required=False, empty_label="Every type")
    track = forms.ModelChoiceField(queryset=None, required=False, empty_label="Every track")

    def __init__(self, *args, call, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].queryset = call.submission_types.all()
        self.fields["track"].queryset = call.tracks.all()

    def apply(self, queryset):
        if not self.is_valid():
            return queryset
        if self.cleaned_data["type"]:
            queryset = queryset.filter(submission_type=self.cleaned_data["type"])
        if self.cleaned_data["track"]:
            queryset = queryset.filter(talk__track=self.cleaned_data["track"].name)
        return queryset


@organiser_required(REVIEW)
def review_list(request):
    """List the proposals waiting for a decision that the reviewer may review."""
    call = call_or_404(request)
    filters = Filters(request.GET or None, call=call)
    waiting = reviews.reviewable_by(request.user, call).filter(state=Proposal.State.SUBMITTED)
    rows = list(
        filters.apply(reviews.with_own_review(waiting, request.user)).order_by(
            "reviewed", "created_at", "pk"
        )
    )
    context = {
        "call": call,
        "rows": rows,
        "filters": filters,
        "reviewed": sum(1 for row in rows if row.reviewed),
    }
    return render(request, "organisers/reviews.html", context)


@organiser_required(REVIEW)
@require_http_methods(["GET", "POST"])
def review_proposal(request, code):
    """Show a proposal to a reviewer and take their score and comment."""
    call = call_or_404(request)
    proposal = get_object_or_404(
        Proposal.objects.filter(call=call).select_related("talk", "submission_type", "call"),
        code=code,
    )
    try:
        reviews.check_reviewable(proposal, request.user)
    except ProposalError as error:
        context = {"proposal": proposal, "message": error.message}
        return render(request, "organisers/review_refused.html", context, status=error.status_code)
    own = Review.objects.filter(proposal=proposal, reviewer=request.user).first()
    initial = {"score": own.score, "comment": own.comment} if own else None
    form = ReviewForm(request.POST or None, call=call, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                reviews.save_review(
                    proposal=proposal,
                    reviewer=request.user,
                    score=form.cleaned_data["score"],
                    comment=form.cleaned_data["comment"],
                )
            except ProposalError as error:
                form.add_error(None, error.message)
                status = error.status_code
            else:
                messages.success(request, f"Your review of “{proposal.talk.title}” is saved.")
                return redirect(next_to_review(request.user, call, proposal))
        else:
            status = 400
    context = {
        "proposal": proposal,
        "talk": proposal.talk,
        "form": form,
        "own": own,
        "anonymised": call.anonymised_review,
        "authors": [] if call.anonymised_review else list(proposal.talk.speakers.all()),
        "answers": list(proposal.answers.select_related("question")),
    }
    return render(request, "organisers/review.html", context, status=status)


def next_to_review(user, call, done):
    """Return the next proposal the reviewer has not reviewed, else the list."""
    following = (
        reviews.proposals_needing_review(call, user)
        .exclude(pk=done.pk)
        .order_by("created_at", "pk")
        .first()
    )
    if following is None:
        return reverse("schedule:review_list")
    return reverse("schedule:review_proposal", args=[following.code])
