import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.functions import TruncDate
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone

from schedule import csv_exports, services
from schedule.models import Room, Slot, Talk, TalkLink, speaker_clashes
from workshop.models import Workshop
from workshop.spreadsheets import SpreadsheetExportMixin, export_selected_csv


class SlotForm(forms.ModelForm):
    def clean(self):
        cleaned_data = super().clean()
        workshop = cleaned_data.get("workshop")
        if workshop:
            # The admin saves inside one transaction; locking before the model's checks run
            # keeps two organisers from placing clashing slots at the same moment.
            services.lock_schedule(workshop.pk)
        return cleaned_data


class TalkForm(forms.ModelForm):
    def clean_speakers(self):
        speakers = self.cleaned_data["speakers"]
        slot = self.instance.scheduled_slot if self.instance.pk else None
        if slot and speakers:
            clashes = speaker_clashes(slot, list(speakers))
            if clashes:
                raise forms.ValidationError(clashes)
        return speakers


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
    extra = 1


class SlotOfTalkInline(CurrentWorkshopMixin, admin.TabularInline):
    model = Slot
    form = SlotForm
    fields = ["workshop", "start", "end", "room"]
    extra = 0
    max_num = 1
    verbose_name = "place in the schedule"
    verbose_name_plural = "place in the schedule"


@admin.register(Talk)
class TalkAdmin(SpreadsheetExportMixin, admin.ModelAdmin):
    form = TalkForm
    list_display = ["title", "kind", "track", "speaker_names", "when", "published"]
    list_filter = ["kind", "published", ScheduledFilter, "track", "level"]
    list_editable = ["published"]
    search_fields = ["title", "slug", "abstract", "speakers__name"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["speakers"]
    inlines = [SlotOfTalkInline, TalkLinkInline]
    readonly_fields = ["updated_at"]
    actions = [export_selected_csv]
    export_table = csv_exports.TALKS

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("slot__room", "slot__workshop")
            .prefetch_related("speakers")
        )

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
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "stream_url"]
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
