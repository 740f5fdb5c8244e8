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
        }
