from django import forms

from schedule.models import Talk


class TalkSpeakerForm(forms.ModelForm):
    """What a speaker may change about their own talk: never its time, room, title or speakers."""

    class Meta:
        model = Talk
        fields = ["abstract", "description", "slides_url", "video_url"]
        widgets = {
            "abstract": forms.Textarea(attrs={"rows": 6}),
            "description": forms.Textarea(attrs={"rows": 12}),
            # A text box, so that a mistyped address comes back as typed, with our error.
            "slides_url": forms.TextInput(attrs={"inputmode": "url"}),
            "video_url": forms.TextInput(attrs={"inputmode": "url"}),
        }
