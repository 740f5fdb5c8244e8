from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import MaxLengthValidator
from django.utils.text import slugify

from speakers import photos, validators
from speakers.models import PROFILE_FIELDS, Speaker


class PhotoField(forms.ImageField):
    """An image upload checked for size and type before Pillow decodes it."""

    def to_python(self, data):
        upload = forms.FileField.to_python(self, data)
        if upload is None:
            return None
        photos.open_image(upload)
        return upload


class SpeakerPhotoFormMixin:
    """Turn an uploaded photo into a clean resized photo and thumbnail when the form saves."""

    def clean_photo(self):
        """Return the resized photo in place of the upload; the form saves that."""
        photo = self.cleaned_data.get("photo")
        if isinstance(photo, UploadedFile):
            name = slugify(self.cleaned_data.get("name") or self.instance.name) or "speaker"
            processed = photos.process_photo(photo, name=name)
            self.processed_photo = processed
            # Not a field of the form, so saving the form leaves it as set here.
            self.instance.thumbnail = processed.thumbnail
            return processed.photo
        if not photo:  # cleared, or never given
            self.instance.thumbnail = ""
        return photo


class SpeakerIdentifiersFormMixin:
    """Accept the ways people usually paste their ORCID iD, GitHub and Mastodon addresses."""

    # Room for a pasted address such as https://orcid.org/...; the model checks the stored value.
    TYPED_LENGTHS = {"orcid": 60, "github": 150, "mastodon": 250}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, length in self.TYPED_LENGTHS.items():
            field = self.fields[name]
            field.max_length = length
            field.validators = [
                v for v in field.validators if not isinstance(v, MaxLengthValidator)
            ]
            field.widget.attrs["maxlength"] = str(length)

    def clean_orcid(self):
        return validators.normalise_orcid(self.cleaned_data.get("orcid", ""))

    def clean_github(self):
        return validators.normalise_github(self.cleaned_data.get("github", ""))

    def clean_mastodon(self):
        return validators.normalise_mastodon(self.cleaned_data.get("mastodon", ""))


class SpeakerAdminForm(SpeakerPhotoFormMixin, SpeakerIdentifiersFormMixin, forms.ModelForm):
    class Meta:
        model = Speaker
        fields = [
            "name",
            "slug",
            "published",
            "pronouns",
            "affiliation",
            "email",
            "user",
            "short_bio",
            "bio",
            "photo",
            "website",
            "mastodon",
            "github",
            "orcid",
        ]
        field_classes = {"photo": PhotoField}


class SpeakerProfileForm(SpeakerPhotoFormMixin, SpeakerIdentifiersFormMixin, forms.ModelForm):
    """The fields a speaker edits on "My speaker profile".

    A photo chosen before a preview comes back from the preview page in the hidden
    ``kept_photo`` field (speakers/photos.py ``keep``): saving then stores it, unless another
    photo is chosen or the photo is cleared.
    """

    processed_photo = None

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        carried = self.data.get("kept_photo", "")
        if carried and photo is not False and not isinstance(photo, UploadedFile):
            processed = photos.kept(carried, speaker=self.instance)
            self.processed_photo = processed
            self.instance.thumbnail = processed.thumbnail
            return processed.photo
        return super().clean_photo()

    class Meta:
        model = Speaker
        fields = PROFILE_FIELDS
        field_classes = {"photo": PhotoField}
        labels = {"bio": "Long bio", "short_bio": "Short bio", "website": "Website"}
        widgets = {
            "short_bio": forms.Textarea(attrs={"rows": 3}),
            "bio": forms.Textarea(attrs={"rows": 10}),
        }


class FirstProfileForm(forms.ModelForm):
    """What someone without a speaker profile tells about themselves with a first proposal."""

    short_bio = forms.CharField(
        label="Short bio",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Markdown, one or two sentences. You can add a photo and links on your "
        "speaker profile later.",
    )

    class Meta:
        model = Speaker
        fields = ["name", "pronouns", "affiliation", "short_bio"]
        labels = {"name": "Your name"}
        help_texts = {"name": "As it should appear on the programme."}
