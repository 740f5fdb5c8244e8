from django.conf import settings
from django.db import models
from django.urls import reverse


class SpeakerQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True)


class Speaker(models.Model):
    """A person who speaks at the workshop; may or may not have a user account."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    pronouns = models.CharField(max_length=50, blank=True)
    affiliation = models.CharField(max_length=200, blank=True)
    short_bio = models.TextField(blank=True, help_text="Markdown, one or two sentences.")
    bio = models.TextField(blank=True, help_text="Markdown.")
    photo = models.ImageField(upload_to="speakers/", blank=True)
    website = models.URLField(blank=True)
    mastodon = models.CharField(max_length=200, blank=True)
    github = models.CharField(max_length=100, blank=True)
    orcid = models.CharField("ORCID iD", max_length=19, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="speaker",
    )
    published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SpeakerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("speakers:detail", kwargs={"slug": self.slug})
