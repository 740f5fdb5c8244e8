import datetime as dt

from django import forms
from django.utils import timezone

from schedule.models import (
    Question,
    SubmissionType,
    Talk,
    TalkLink,
    Track,
    too_many_links_error,
)
from schedule.proposals import ProposalText, workshop_days


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


class BaseTalkLinkFormSet(forms.BaseInlineFormSet):
    """A talk's links, refused as a whole when the talk would end with more than the cap."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if (count := self.links_after_save()) > TalkLink.MAX_PER_TALK:
            raise too_many_links_error(count)

    def links_after_save(self):
        """Return how many links the talk has once this formset is saved."""
        # Counted from the database, not from the form count the browser sent: links left out
        # of the post (a hand-made INITIAL_FORMS) stay and count.
        shown = [form.instance.pk for form in self.initial_forms if form.instance.pk]
        untouched = (
            TalkLink.objects.filter(talk=self.instance).exclude(pk__in=shown).count()
            if self.instance.pk
            else 0
        )
        kept = [
            form
            for form in self.forms
            if not form.cleaned_data.get("DELETE") and (form.instance.pk or form.has_changed())
        ]
        return untouched + len(kept)


TalkLinkFormSet = forms.inlineformset_factory(
    Talk,
    TalkLink,
    form=TalkLinkForm,
    formset=BaseTalkLinkFormSet,
    extra=2,
    max_num=TalkLink.MAX_PER_TALK,
    can_delete=True,
)


# Room for a careful abstract and description; more is a paste gone wrong, refused by name.
TEXT_LIMITS = {"abstract": 2000, "description": 10000, "notes": 5000, "answer": 5000}
YES_NO = [("yes", "Yes"), ("no", "No")]
# The availability's fields of each day start with these.
DAY_FIELDS = ("present_", "from_", "until_")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class ProposalForm(forms.Form):
    """A proposal to a call: the talk's text, its type and track, notes and the call's questions."""

    title = forms.CharField(max_length=200)
    submission_type = forms.ModelChoiceField(
        label="Type",
        queryset=SubmissionType.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
    )
    track = forms.ModelChoiceField(queryset=Track.objects.none(), empty_label="Choose a track")
    abstract = forms.CharField(
        max_length=TEXT_LIMITS["abstract"],
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Markdown, a short paragraph; shown on the programme if your proposal is "
        f"accepted. At most {TEXT_LIMITS['abstract']} characters.",
    )
    description = forms.CharField(
        max_length=TEXT_LIMITS["description"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Markdown, optional: outline, prerequisites, what people will take home.",
    )
    notes = forms.CharField(
        label="Notes for the organisers",
        max_length=TEXT_LIMITS["notes"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Not published: anything the organisers should know.",
    )

    def __init__(self, *args, call, **kwargs):
        super().__init__(*args, **kwargs)
        self.call = call
        self.fields["submission_type"].queryset = call.submission_types.all()
        tracks = call.tracks.all()
        if tracks:
            self.fields["track"].queryset = tracks
        else:
            del self.fields["track"]
        self.questions = list(call.questions.all())
        for question in self.questions:
            self.fields[self.answer_field(question)] = answer_field(question)
        self.zone = call.workshop.tzinfo
        self.days = workshop_days(call.workshop)
        for day, start, end in self.days:
            self.add_day_fields(day, start, end)

    def add_day_fields(self, day, start, end):
        """Ask whether the author can present on ``day``, and from when until when."""
        start, end = start.astimezone(self.zone), end.astimezone(self.zone)
        key = day.isoformat()
        self.fields[f"present_{key}"] = forms.BooleanField(
            label="I can present on this day", required=False, initial=True
        )
        self.fields[f"from_{key}"] = forms.TimeField(
            label="From", required=False, initial=start.time(), widget=TIME_INPUT
        )
        self.fields[f"until_{key}"] = forms.TimeField(
            label="Until",
            required=False,
            initial=end.time() if end.date() == day else dt.time(23, 59),
            widget=TIME_INPUT,
        )

    def proposal_fields(self):
        """Return the bound fields but those of the availability, shown apart."""
        return [field for field in self if not field.name.startswith(DAY_FIELDS)]

    def availability_days(self):
        """Return the name and the (present, from, until) bound fields of each workshop day."""
        return [
            (
                f"{day:%A %-d %B}",
                self[f"present_{day.isoformat()}"],
                self[f"from_{day.isoformat()}"],
                self[f"until_{day.isoformat()}"],
            )
            for day, _start, _end in self.days
        ]

    @staticmethod
    def answer_field(question):
        return f"question_{question.pk}"

    @classmethod
    def initial_of(cls, proposal):
        """Return the form's initial values from a saved proposal."""
        talk = proposal.talk
        initial = cls.availability_initial(proposal)
        initial |= {
            "title": talk.title,
            "submission_type": proposal.submission_type_id,
            "track": proposal.call.tracks.filter(name=talk.track).first(),
            "abstract": talk.abstract,
            "description": talk.description,
            "notes": proposal.notes,
        }
        for answer in proposal.answers.all():
            initial[cls.answer_field(answer.question)] = answer.value
        return initial

    @staticmethod
    def availability_initial(proposal):
        """Return the days and hours the proposal's authors gave (none given: every day)."""
        times = list(proposal.availabilities.all())
        if not times:
            return {}
        zone = proposal.call.workshop.tzinfo
        initial = {}
        for day, _start, _end in workshop_days(proposal.call.workshop):
            initial[f"present_{day.isoformat()}"] = False
        for time in times:
            start, end = timezone.localtime(time.start, zone), timezone.localtime(time.end, zone)
            key = start.date().isoformat()
            initial[f"present_{key}"] = True
            initial[f"from_{key}"] = start.time()
            initial[f"until_{key}"] = end.time() if end.date() == start.date() else dt.time(23, 59)
        return initial

    def clean(self):
        cleaned_data = super().clean()
        cleaned_data["availability"] = self.clean_availability()
        return cleaned_data

    def clean_availability(self):
        """Return the (start, end) times the author can present; none when it is any time."""
        times, everywhere = [], True
        for day, first, last in self.days:
            key = day.isoformat()
            if not self.cleaned_data.get(f"present_{key}"):
                everywhere = False
                continue
            start = self.moment(day, self.cleaned_data.get(f"from_{key}"), first)
            until = self.cleaned_data.get(f"until_{key}")
            # 23:59 stands for the end of a day the workshop runs through.
            end = last if until == dt.time(23, 59) else self.moment(day, until, last)
            if end <= start:
                self.add_error(f"until_{key}", "Give a time after the first one.")
                continue
            if start < first or end > last:
                hours = f"{first.astimezone(self.zone):%H:%M}–{last.astimezone(self.zone):%H:%M}"
                self.add_error(f"from_{key}", f"The workshop runs {hours} that day.")
                continue
            everywhere = everywhere and (start, end) == (first, last)
            times.append((start, end))
        if not times and self.days:
            self.add_error(None, "Choose at least one day on which you can present.")
        return () if everywhere else tuple(times)

    def moment(self, day, time, default):
        """Return ``time`` on ``day`` in the workshop's zone (``default`` without a time)."""
        if time is None:
            return default
        return dt.datetime.combine(day, time, tzinfo=self.zone)

    def clean_title(self):
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError("Give your proposal a title.")
        return title

    def text(self):
        """Return what the form says of the proposal, for the services."""
        data = self.cleaned_data
        return ProposalText(
            title=data["title"],
            abstract=data["abstract"],
            description=data["description"],
            submission_type=data["submission_type"],
            track=data.get("track"),
            notes=data["notes"],
            availability=data["availability"],
        )

    def answers(self):
        return {q: self.cleaned_data[self.answer_field(q)] for q in self.questions}


def answer_field(question):
    """Return the form field that asks ``question``."""
    options = {"label": question.text, "required": question.required}
    options["help_text"] = question.help_text
    if question.kind == Question.Kind.CHOICE:
        choices = [(option, option) for option in question.option_list]
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **options)
    if question.kind == Question.Kind.YES_NO:
        return forms.ChoiceField(choices=YES_NO, widget=forms.RadioSelect, **options)
    return forms.CharField(
        max_length=TEXT_LIMITS["answer"], widget=forms.Textarea(attrs={"rows": 3}), **options
    )
