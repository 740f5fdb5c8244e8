from django.contrib import admin

from speakers.models import Speaker


@admin.register(Speaker)
class SpeakerAdmin(admin.ModelAdmin):
    list_display = ["name", "affiliation", "user", "published", "updated_at"]
    list_filter = ["published"]
    search_fields = ["name", "affiliation", "user__email"]
    prepopulated_fields = {"slug": ["name"]}
    raw_id_fields = ["user"]
