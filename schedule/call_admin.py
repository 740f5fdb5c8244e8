"""The call for proposals in the admin: the call itself, and the proposals sent to it."""

from django.contrib import admin, messages
from django.db.models import F
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.utils import timezone

from schedule.decisions import decide_proposals, letters_for, refusal_to_decide
from schedule.models import (
    DECISION_PLACEHOLDERS,
    Answer,
    Availability,
    Call,
    Proposal,
    Question,
    Review,
    SubmissionType,
    Track,
)
from schedule.proposals import local_time
from schedule.reviews import ranked
from workshop.admin_labels import BlankNamedValuesFilter
from workshop.models import Workshop


class SubmissionTypeInline(admin.TabularInline):
    model = SubmissionType
    fields = ["name", "kind", "duration", "description", "position"]
    extra = 0


class TrackInline(admin.TabularInline):
    model = Track
    fields = ["name", "description", "position"]
    extra = 0


class QuestionInline(admin.StackedInline):
    model = Question
    fields = [("text", "kind", "required", "position"), "help_text", "options"]
    extra = 0


DATE_HELP = {
    "opens_at": "In the workshop's time zone, {zone}.",
    "closes_at": "The deadline, in the workshop's time zone ({zone}): proposals are taken "
    "until this moment, not at it.",
}


def placeholder_help():
    names = ", ".join(f"{{{name}}} ({meaning})" for name, meaning in DECISION_PLACEHOLDERS.items())
    return f"Placeholders: {names}."


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["workshop", "opens", "closes", "anonymised_review"]
    list_select_related = ["workshop"]
    inlines = [SubmissionTypeInline, TrackInline, QuestionInline]
    fieldsets = [
        (None, {"fields": ["workshop", "opens_at", "closes_at", "intro"]}),
        ("Review", {"fields": ["anonymised_review", "lowest_score", "highest_score"]}),
        ("Reviews wanted", {"fields": ["reviews_wanted"]}),
        (
            "E-mails to the authors",
            {
                "fields": ["accept_subject", "accept_body", "reject_subject", "reject_body"],
                "description": placeholder_help(),
            },
        ),
    ]

    def zone_of(self, request, object_id):
        """Return the zone the call's dates are typed in: its workshop's."""
        call = self.get_object(request, object_id) if object_id else None
        workshop = call.workshop if call else Workshop.objects.current()
        return workshop.tzinfo if workshop else timezone.get_current_timezone()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The dates are read and shown in the workshop's zone, as the public page shows them;
        # the page is rendered inside, since a template response renders after returning.
        zone = self.zone_of(request, object_id)
        with timezone.override(zone):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()
        return response

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "workshop" and field is not None:
            field.initial = Workshop.objects.current()
        if db_field.name in DATE_HELP:
            # Made inside changeform_view, where the workshop's zone is the current one.
            field.help_text = DATE_HELP[db_field.name].format(
                zone=timezone.get_current_timezone_name()
            )
        return field

    @admin.display(description="opens", ordering="opens_at")
    def opens(self, call):
        return local_time(call, call.opens_at)

    @admin.display(description="closes", ordering="closes_at")
    def closes(self, call):
        return local_time(call, call.closes_at)


class AnswerInline(admin.TabularInline):
    model = Answer
    fields = ["question", "value"]
    readonly_fields = ["question", "value"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class AvailabilityInline(admin.TabularInline):
    model = Availability
    fields = ["start", "end"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "when the authors can present (none: any time)"

    def has_add_permission(self, request, obj=None):
        return False


class ReviewInline(admin.TabularInline):
    model = Review
    fields = ["reviewer", "score", "comment", "updated_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReviewCountFilter(admin.SimpleListFilter):
    title = "reviews"
    parameter_name = "reviews"

    def lookups(self, request, model_admin):
        return [("few", "Fewer than the call wants"), ("enough", "Enough")]

    def queryset(self, request, queryset):
        if self.value() == "few":
            return queryset.filter(review_count__lt=F("call__reviews_wanted"))
        if self.value() == "enough":
            return queryset.filter(review_count__gte=F("call__reviews_wanted"))
        return queryset


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "submission_type",
        "track",
        "authors",
        "state",
        "reviews",
        "mean",
        "spread",
    ]
    list_filter = [
        "state",
        "submission_type",
        ("talk__track", BlankNamedValuesFilter),
        ReviewCountFilter,
        "call",
    ]
    list_select_related = ["talk", "submission_type", "call__workshop"]
    search_fields = ["code", "talk__title", "talk__speakers__name"]
    fields = [
        "code",
        "call",
        "talk",
        "submission_type",
        "state",
        "told_state",
        "notes",
        "submitted_by",
        "confirmed_by",
        "created_at",
        "state_changed_at",
    ]
    readonly_fields = fields
    inlines = [AnswerInline, AvailabilityInline, ReviewInline]
    actions = ["accept", "reject"]

    def get_queryset(self, request):
        # Annotated before ordering, which sorts by the annotations.
        proposals = ranked(self.model._default_manager.get_queryset())
        return proposals.prefetch_related("talk__speakers")

    def get_ordering(self, request):
        # Best mean score first: the ranking the organisers decide from.
        return [F("mean_score").desc(nulls_last=True), "-review_count", "talk__title"]

    def has_add_permission(self, request):
        # Proposals come from their authors; organisers add talks directly.
        return False

    def has_decide_permission(self, request):
        return request.user.has_perm("schedule.decide_proposal")

    @admin.display(description="title", ordering="talk__title")
    def title(self, proposal):
        return proposal.talk.title

    @admin.display(description="track", ordering="talk__track")
    def track(self, proposal):
        return proposal.talk.track

    @admin.display(description="authors")
    def authors(self, proposal):
        return ", ".join(speaker.name for speaker in proposal.talk.speakers.all())

    @admin.display(description="reviews", ordering="review_count")
    def reviews(self, proposal):
        return proposal.review_count

    @admin.display(description="mean score", ordering="mean_score")
    def mean(self, proposal):
        return "—" if proposal.mean_score is None else f"{proposal.mean_score:.2f}"

    @admin.display(description="spread")
    def spread(self, proposal):
        if proposal.lowest_score is None:
            return "—"
        if proposal.lowest_score == proposal.highest_score:
            return str(proposal.lowest_score)
        return f"{proposal.lowest_score}–{proposal.highest_score}"

    @admin.action(
        description="Accept the selected proposals and tell the authors", permissions=["decide"]
    )
    def accept(self, request, queryset):
        return decide(self, request, queryset, Proposal.State.ACCEPTED)

    @admin.action(
        description="Reject the selected proposals and tell the authors", permissions=["decide"]
    )
    def reject(self, request, queryset):
        return decide(self, request, queryset, Proposal.State.REJECTED)


def decide(modeladmin, request, queryset, decision):
    """Show the decision's e-mails and what each proposal will do; on "apply", decide."""
    proposals = list(queryset.select_related("talk", "call__workshop").order_by("pk"))
    if "apply" in request.POST:
        outcome = decide_proposals(proposals=proposals, decision=decision, decided_by=request.user)
        report(modeladmin, request, outcome, decision)
        return None
    rows = [
        (proposal, refusal_to_decide(proposal, decision), letters_for(proposal, decision))
        for proposal in proposals
    ]
    sample = next((letters[0] for _p, reason, letters in rows if letters and not reason), None)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"{'Accept' if decision == Proposal.State.ACCEPTED else 'Reject'} proposals",
        "decision": decision,
        "rows": rows,
        "sample": sample,
        "to_decide": sum(1 for _p, reason, _l in rows if not reason),
        "opts": modeladmin.model._meta,
        "action": request.POST.get("action"),
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/schedule/proposal/decide.html", context)


def report(modeladmin, request, outcome, decision):
    verb = "accepted" if decision == Proposal.State.ACCEPTED else "rejected"
    if outcome.decided:
        modeladmin.message_user(
            request,
            f"{len(outcome.decided)} proposal{pluralize(len(outcome.decided))} {verb}; "
            f"{outcome.letters} e-mail{pluralize(outcome.letters)} queued to the authors.",
            messages.SUCCESS,
        )
    for proposal, reason in outcome.skipped:
        modeladmin.message_user(
            request, f"“{proposal.talk.title}” left as it was: {reason}.", messages.WARNING
        )
