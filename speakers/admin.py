from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html

from speakers import exports, services
from speakers.forms import SpeakerAdminForm
from speakers.models import Invitation, Speaker, SpeakerRevision
from workshop.spreadsheets import SpreadsheetExportMixin, export_selected_csv


class InvitationInline(admin.TabularInline):
    model = Invitation
    extra = 0
    can_delete = False
    fields = ["email", "status", "created_at", "sent_at", "expires_at", "claimed_at", "claimed_by"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="status")
    def status(self, invitation):
        return invitation.status().label


class SpeakerRevisionInline(admin.TabularInline):
    model = SpeakerRevision
    extra = 0
    can_delete = False
    verbose_name = "previous version"
    verbose_name_plural = "previous versions (newest first)"
    fields = ["created_at", "changed_by", "changed_fields", "previous"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class HasAccountFilter(admin.SimpleListFilter):
    title = "account"
    parameter_name = "account"

    def lookups(self, request, model_admin):
        return [("yes", "Linked to an account"), ("no", "No account")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(user__isnull=self.value() == "no")
        return queryset


@admin.register(Speaker)
class SpeakerAdmin(SpreadsheetExportMixin, admin.ModelAdmin):
    form = SpeakerAdminForm
    list_display = ["name", "affiliation", "user", "published", "has_photo", "updated_at"]
    list_filter = ["published", HasAccountFilter, "updated_at"]
    search_fields = ["name", "slug", "affiliation", "email", "user__email", "orcid", "github"]
    prepopulated_fields = {"slug": ["name"]}
    raw_id_fields = ["user"]
    readonly_fields = ["photo_preview", "created_at", "updated_at"]
    inlines = [InvitationInline, SpeakerRevisionInline]
    actions = ["invite", export_selected_csv]
    export_table = exports.SPEAKERS
    fieldsets = [
        (None, {"fields": ["name", "slug", "published", "pronouns", "affiliation"]}),
        ("Contact and account", {"fields": ["email", "user"]}),
        ("Bio", {"fields": ["short_bio", "bio"]}),
        ("Photo", {"fields": ["photo", "photo_preview"]}),
        ("Links", {"fields": ["website", "mastodon", "github", "orcid"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(boolean=True, description="photo")
    def has_photo(self, speaker):
        return bool(speaker.photo)

    @admin.display(description="thumbnail")
    def photo_preview(self, speaker):
        return format_html('<img src="{}" alt="" width="128" height="128">', speaker.thumbnail_url)

    def save_model(self, request, obj, form, change):
        if change:
            services.update_speaker_profile(speaker=obj, changed_by=request.user)
        else:
            super().save_model(request, obj, form, change)

    def has_invite_permission(self, request):
        return request.user.has_perm("speakers.add_invitation")

    @admin.action(
        description="Invite the selected speakers (to their contact e-mail)", permissions=["invite"]
    )
    def invite(self, request, queryset):
        invited, skipped = [], []
        for speaker in queryset:
            if speaker.user_id or not speaker.email:
                skipped.append(speaker.name)
                continue
            try:
                services.invite_speaker(
                    speaker=speaker, email=speaker.email, invited_by=request.user
                )
            except services.InvitationError:
                skipped.append(speaker.name)
                continue
            invited.append(speaker.name)
        if invited:
            self.message_user(request, f"Invited {len(invited)}: {', '.join(invited)}.")
        if skipped:
            self.message_user(
                request,
                f"Not invited (already linked to an account, or no contact e-mail): "
                f"{', '.join(skipped)}.",
                messages.WARNING,
            )


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Invitation.Status.choices

    def queryset(self, request, queryset):
        now = timezone.now()
        pending = Q(claimed_at=None, withdrawn_at=None)
        filters = {
            "open": pending & Q(expires_at__gt=now),
            "claimed": Q(claimed_at__isnull=False),
            "withdrawn": Q(claimed_at=None, withdrawn_at__isnull=False),
            "expired": pending & Q(expires_at__lte=now),
        }
        return queryset.filter(filters[self.value()]) if self.value() in filters else queryset


class InvitationAdminForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["speaker", "email"]

    def clean_speaker(self):
        speaker = self.cleaned_data["speaker"]
        if self.instance.pk is None and speaker.user_id:
            raise forms.ValidationError(
                "This speaker profile already belongs to an account; there is nobody to invite."
            )
        return speaker


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    form = InvitationAdminForm
    list_display = [
        "email",
        "speaker",
        "status",
        "created_at",
        "created_by",
        "sent_at",
        "expires_at",
        "claimed_at",
        "claimed_by",
    ]
    list_filter = [StatusFilter, "created_at"]
    search_fields = ["email", "speaker__name", "claimed_by__email"]
    list_select_related = ["speaker", "created_by", "claimed_by"]
    raw_id_fields = ["speaker"]
    actions = ["resend", "withdraw"]
    readonly_fields = [
        "status",
        "created_at",
        "created_by",
        "sent_at",
        "send_count",
        "expires_at",
        "claimed_at",
        "claimed_by",
        "withdrawn_at",
    ]

    @admin.display(description="status")
    def status(self, invitation):
        return invitation.status().label

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["speaker", "email"]
        return ["speaker", "email", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["speaker", "email", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        """Create an invitation through the service, which makes the token and sends it."""
        if change:
            return
        invitation, _token = services.invite_speaker(
            speaker=obj.speaker, email=obj.email, invited_by=request.user
        )
        # The admin goes on to log and redirect to the object it was given.
        obj.pk = invitation.pk
        obj.__dict__.update(invitation.__dict__)

    @admin.action(
        description="Send again with a new link (the old link stops working)",
        permissions=["change"],
    )
    def resend(self, request, queryset):
        sent, refused = 0, []
        for invitation in queryset:
            try:
                services.resend_invitation(invitation=invitation)
                sent += 1
            except services.InvitationError as error:
                refused.append(f"{invitation.email}: {error.message}")
        if sent:
            self.message_user(request, f"Sent {sent} invitation(s) again with a new link.")
        if refused:
            self.message_user(request, " ".join(refused), messages.WARNING)

    @admin.action(description="Withdraw (the link stops working)", permissions=["change"])
    def withdraw(self, request, queryset):
        count = sum(services.withdraw_invitation(invitation=invitation) for invitation in queryset)
        self.message_user(request, f"Withdrew {count} invitation(s).")
