import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models.functions import TruncDate
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone

from schedule import csv_exports, services
from schedule.forms import BaseTalkLinkFormSet
from schedule.models import Room, Slot, Talk, TalkLink
from workshop.admin_labels import BlankNamedValuesFilter
from workshop.models import Workshop
from workshop.spreadsheets import SpreadsheetExportMixin, export_selected_csv


class SlotForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "end" in self.fields:
            self.fields["end"].required = False
            self.fields[
                "end"
            ].help_text = (
                "Blank for a proposed talk: it lasts as long as its type (talk, poster...)."
            )

    def clean(self):
        cleaned_data = super().clean()
        workshop = cleaned_data.get("workshop")
        if workshop:
            # The admin saves inside one transaction; locking before the model's checks run
            # keeps two organisers from placing clashing slots at the same moment.
            services.lock_schedule(workshop.pk)
        if "end" in self.fields and not cleaned_data.get("end") and "end" not in self.errors:
            self.end_from_proposal(cleaned_data)
        return cleaned_data

    def end_from_proposal(self, cleaned_data):
        """Set a blank end from the duration of the talk's type in the call, or ask for it."""
        start, talk = cleaned_data.get("start"), cleaned_data.get("talk")
        length = services.proposed_length(talk) if talk and talk.pk else None
        if start and length:
            cleaned_data["end"] = start + length
        elif start:
            self.add_error("end", "Give the end, or place a proposed talk to take its length.")


class TalkSlotForm(SlotForm):
    """The talk's place in the schedule, edited on the talk's page."""

    def add_error(self, field, error):
        # Here the slot's talk is the page's own talk, a hidden field: its errors (a speaker
        # elsewhere at that time) go on the row, above the times and beside the speakers
        # that cause them, where the organiser sees them.
        if field is None and getattr(error, "error_dict", {}).get("talk"):
            errors = dict(error.error_dict)
            errors[NON_FIELD_ERRORS] = errors.get(NON_FIELD_ERRORS, []) + errors.pop("talk")
            error = ValidationError(errors)
        super().add_error(field, error)


class TalkForm(forms.ModelForm):
    # Set by TalkAdmin.get_form: whether the page also validates the talk's slot (the inline).
    slot_on_page = False

    def clean_speakers(self):
        speakers = self.cleaned_data["speakers"]
        # The slot on the page is checked with the speakers being saved, at its new time.
        self.instance.pending_speakers = list(speakers)
        slot = self.instance.scheduled_slot if self.instance.pk else None
        if slot and speakers and not self.slot_on_page:
            clashes = services.check_speakers(slot=slot, speakers=speakers)
            if clashes:
                raise forms.ValidationError(clashes)
        return speakers


def warn_if_unavailable(modeladmin, request, slots):
    """Tell the organiser of each slot placed where its talk's authors cannot present.

    A warning, not a refusal: the authors may have agreed to another time since.
    """
    for slot in slots:
        if slot.talk_id and (message := services.availability_problem(slot)):
            modeladmin.message_user(request, message, messages.WARNING)


class SlotsWarnedMixin:
    """Warn about the availability of the slots an inline saved."""

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Slot:
            saved = formset.new_objects + [slot for slot, _fields in formset.changed_objects]
            warn_if_unavailable(self, request, saved)


class CurrentWorkshopMixin:
    """Offer the current workshop as the default workshop of new slots."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "workshop":
            kwargs.setdefault("initial", Workshop.objects.current())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScheduledFilter(admin.SimpleListFilter):
    title = "scheduled"
    parameter_name = "scheduled"

    def lookups(self, request, model_admin):
        return [("yes", "In a slot"), ("no", "Not in a slot")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(slot__isnull=False)
        if self.value() == "no":
            return queryset.filter(slot__isnull=True)
        return queryset


class TalkLinkInline(admin.TabularInline):
    model = TalkLink
    formset = BaseTalkLinkFormSet
    extra = 1
    max_num = TalkLink.MAX_PER_TALK


class SlotOfTalkInline(CurrentWorkshopMixin, admin.TabularInline):
    model = Slot
    form = TalkSlotForm
    fields = ["workshop", "start", "end", "room"]
    extra = 0
    max_num = 1
    verbose_name = "place in the schedule"
    verbose_name_plural = "place in the schedule"


@admin.register(Talk)
class TalkAdmin(SlotsWarnedMixin, SpreadsheetExportMixin, admin.ModelAdmin):
    form = TalkForm
    list_display = ["title", "kind", "track", "speaker_names", "when", "published"]
    list_filter = ["kind", "published", ScheduledFilter, ("track", BlankNamedValuesFilter), "level"]
    list_editable = ["published"]
    search_fields = ["title", "slug", "abstract", "speakers__name"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["speakers"]
    inlines = [SlotOfTalkInline, TalkLinkInline]
    readonly_fields = ["updated_at"]
    actions = [export_selected_csv]
    export_table = csv_exports.TALKS

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        inlines = self.get_inline_instances(request, obj)
        form.slot_on_page = any(isinstance(inline, SlotOfTalkInline) for inline in inlines)
        return form

    def get_queryset(self, request):
        talks = (
            super()
            .get_queryset(request)
            .select_related("slot__room", "slot__workshop")
            .prefetch_related("speakers")
        )
        if not request.user.has_perm("schedule.view_proposal"):
            # A reviewer would otherwise read the authors of every proposal here.
            talks = talks.open_to_speaker_edits()
        return talks

    @admin.display(description="speakers")
    def speaker_names(self, talk):
        return ", ".join(speaker.name for speaker in talk.speakers.all())

    @admin.display(description="time", ordering="slot__start")
    def when(self, talk):
        slot = talk.scheduled_slot
        return slot.describe_time() if slot else "not scheduled"


class SlotInline(CurrentWorkshopMixin, admin.TabularInline):
    """Place talks quickly: a room's slots, one row each."""

    model = Slot
    form = SlotForm
    fields = ["workshop", "start", "end", "talk", "title", "is_break"]
    autocomplete_fields = ["talk"]
    extra = 1
    ordering = ["start"]


@admin.register(Room)
class RoomAdmin(SlotsWarnedMixin, admin.ModelAdmin):
    list_display = ["name", "position", "stream_url", "stream_for_ticket_holders"]
    list_editable = ["position"]
    search_fields = ["name"]
    inlines = [SlotInline]


class DayFilter(admin.SimpleListFilter):
    """Filter slots by the day they start on."""

    title = "day"
    parameter_name = "day"

    def lookups(self, request, model_admin):
        days = (
            Slot.objects.annotate(day=TruncDate("start"))
            .values_list("day", flat=True)
            .distinct()
            .order_by("day")
        )
        return [(day.isoformat(), f"{day:%a %-d %b %Y}") for day in days if day]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            day = dt.date.fromisoformat(self.value())
        except ValueError:
            return queryset.none()
        start = dt.datetime.combine(day, dt.time(0), dt.UTC)
        return queryset.filter(start__gte=start, start__lt=start + dt.timedelta(days=1))


@admin.register(Slot)
class SlotAdmin(CurrentWorkshopMixin, admin.ModelAdmin):
    form = SlotForm
    list_display = ["when", "room", "display_title", "is_break", "workshop"]
    list_display_links = ["when"]
    list_filter = [DayFilter, "room", "is_break", "workshop"]
    list_select_related = ["room", "talk", "workshop"]
    search_fields = ["title", "talk__title"]
    autocomplete_fields = ["talk"]
    date_hierarchy = "start"
    actions = ["duplicate_slots", "swap_talks"]

    @admin.display(description="time", ordering="start")
    def when(self, slot):
        return slot.describe_time()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        warn_if_unavailable(self, request, [obj])

    @admin.display(description="title")
    def display_title(self, slot):
        return slot.display_title

    @admin.action(
        description="Duplicate the selected slots (right after each, without the talk)",
        permissions=["add"],
    )
    def duplicate_slots(self, request, queryset):
        for slot in queryset.select_related("workshop", "room", "talk"):
            try:
                copy = services.duplicate_slot(slot=slot)
            except ValidationError as error:
                self.message_user(
                    request, f"Not duplicated “{slot}”: {' '.join(error.messages)}", messages.ERROR
                )
            else:
                self.message_user(request, f"Added “{copy}”.", messages.SUCCESS)

    @admin.action(description="Swap the talks of the two selected slots", permissions=["change"])
    def swap_talks(self, request, queryset):
        slots = list(queryset.select_related("talk")[:3])
        if len(slots) != 2:
            self.message_user(request, "Select exactly two slots to swap.", messages.ERROR)
            return
        try:
            first, second = services.swap_talks(first=slots[0], second=slots[1])
        except ValidationError as error:
            self.message_user(request, f"Not swapped: {' '.join(error.messages)}", messages.ERROR)
            return
        self.message_user(
            request,
            f"Swapped: “{first.talk}” and “{second.talk}” have changed places.",
            messages.SUCCESS,
        )

    def get_urls(self):
        check = path(
            "check/",
            self.admin_site.admin_view(self.schedule_check_view),
            name="schedule_slot_check",
        )
        return [check, *super().get_urls()]

    def schedule_check_view(self, request):
        """List every problem of the current workshop's schedule at once."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        workshop = Workshop.objects.current()
        problems = services.find_schedule_problems(workshop) if workshop else []
        context = {
            **self.admin_site.each_context(request),
            "title": "Schedule check",
            "workshop": workshop,
            "problems": problems,
            "opts": self.model._meta,
            "checked_at": timezone.now(),
        }
        return render(request, "admin/schedule/check.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "check_url": reverse("admin:schedule_slot_check")}
        return super().changelist_view(request, extra_context)


from schedule import call_admin  # noqa: E402, F401
