from django import forms

from schedule.models import Talk, TalkLink


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


class TalkLinkForm(forms.ModelForm):
    class Meta:
        model = TalkLink
        fields = ["title", "url", "kind"]
        widgets = {"url": forms.TextInput(attrs={"inputmode": "url"})}


TalkLinkFormSet = forms.inlineformset_factory(
    Talk, TalkLink, form=TalkLinkForm, extra=2, max_num=20, validate_max=True, can_delete=True
)
