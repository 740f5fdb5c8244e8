"""Organisers' pages for messages to attendees: write, preview, test, send, retry."""

from django import forms
from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tickets.models import AttendeeMessage, MessageDelivery, TicketType
from tickets.services import messages as mailing
from workshop.current import current_workshop
from workshop.markdown import render_markdown
from workshop.organisers import organiser_required

Delivery = MessageDelivery.Status
# Reading what was sent, and writing and sending (whose preview lists the recipients).
VIEW = "tickets.view_attendeemessage"
SEND = "tickets.send_message"


# The largest id a database integer column holds (BigAutoField on SQLite and PostgreSQL).
MAX_ID = 2**63 - 1


class TicketTypesField(forms.ModelMultipleChoiceField):
    """Choose ticket types; an id beyond the database's integers is an invalid choice.

    Django passes such ids to an ``__in`` lookup, which the database driver refuses with an
    error (a 500) instead of matching nothing.
    """

    def clean(self, value):
        for pk in value if isinstance(value, (list, tuple)) else ():
            text = str(pk).strip()
            if text.lstrip("-").isdecimal() and abs(int(text)) > MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super().clean(value)


class MessageForm(forms.Form):
    subject = forms.CharField(max_length=200)
    body = forms.CharField(
        label="Message",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Markdown: *emphasis*, **bold**, [links](https://example.org), lists.",
    )
    ticket_types = TicketTypesField(
        queryset=TicketType.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Only holders of these ticket types",
        help_text="Choose none to write to every holder of a paid ticket.",
    )

    def __init__(self, *args, workshop, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ticket_types"].queryset = TicketType.objects.filter(workshop=workshop)

    def clean_subject(self):
        subject = self.cleaned_data["subject"]
        if "\n" in subject or "\r" in subject:
            raise forms.ValidationError("The subject must be a single line.")
        return subject


def workshop_or_404(request):
    workshop = current_workshop(request)
    if workshop is None:
        raise Http404("There is no workshop yet to write about.")
    return workshop


def message_of(request, pk):
    return get_object_or_404(
        AttendeeMessage.objects.select_related("workshop", "created_by"),
        pk=pk,
        workshop=workshop_or_404(request),
    )


@organiser_required(VIEW)
def message_list(request):
    """List the messages of the current workshop with their delivery counts."""
    workshop = current_workshop(request)
    rows = []
    if workshop is not None:
        rows = (
            AttendeeMessage.objects.filter(workshop=workshop)
            .select_related("created_by")
            .annotate(
                recipient_count=Count("deliveries"),
                sent_count=Count("deliveries", filter=Q(deliveries__status=Delivery.SENT)),
                failed_count=Count("deliveries", filter=Q(deliveries__status=Delivery.FAILED)),
            )
        )
    return render(request, "tickets/messages/list.html", {"rows": rows})


@organiser_required(SEND)
def message_new(request):
    """Write a new message; saving keeps it as a draft and shows the preview."""
    return edit_draft(request, message=None)


@organiser_required(SEND)
def message_edit(request, pk):
    """Change a draft message."""
    message = message_of(request, pk)
    if message.status != AttendeeMessage.Status.DRAFT:
        messages.info(request, "This message has been sent and can no longer be changed.")
        return redirect("tickets:message_detail", pk=message.pk)
    return edit_draft(request, message=message)


def edit_draft(request, *, message):
    workshop = workshop_or_404(request)
    initial = {}
    if message is not None:
        initial = {
            "subject": message.subject,
            "body": message.body,
            "ticket_types": list(message.ticket_types.all()),
        }
    form = MessageForm(request.POST or None, initial=initial, workshop=workshop)
    if request.method == "POST" and form.is_valid():
        try:
            message = mailing.save_draft(
                workshop=workshop, author=request.user, message=message, **form.cleaned_data
            )
        except mailing.MessageError as error:
            messages.error(request, str(error))
            return redirect("tickets:message_detail", pk=message.pk)
        return redirect("tickets:message_preview", pk=message.pk)
    status = 400 if form.is_bound else 200
    context = {"form": form, "message": message}
    return render(request, "tickets/messages/edit.html", context, status=status)


@organiser_required(SEND)
def message_preview(request, pk):
    """Show a draft as attendees will see it, with who would receive it now."""
    message = message_of(request, pk)
    if message.status != AttendeeMessage.Status.DRAFT:
        return redirect("tickets:message_detail", pk=message.pk)
    chosen_types = list(message.ticket_types.all())
    context = {
        "message": message,
        "body_html": render_markdown(message.body),
        "text": mailing.build_email(message=message, email="preview@example.org").body,
        "recipients": mailing.find_recipients(workshop=message.workshop, ticket_types=chosen_types),
        "chosen_types": chosen_types,
    }
    return render(request, "tickets/messages/preview.html", context)


@organiser_required(VIEW)
def message_detail(request, pk):
    """Show a sent message and the state of each delivery."""
    message = message_of(request, pk)
    if message.status == AttendeeMessage.Status.DRAFT:
        return redirect("tickets:message_preview", pk=message.pk)
    deliveries = list(message.deliveries.all())
    context = {
        "message": message,
        "body_html": render_markdown(message.body),
        "deliveries": deliveries,
        "failed_count": sum(d.status == Delivery.FAILED for d in deliveries),
        "waiting_count": sum(d.status == Delivery.PENDING for d in deliveries),
        "sent_count": sum(d.status == Delivery.SENT for d in deliveries),
        "chosen_types": list(message.ticket_types.all()),
    }
    return render(request, "tickets/messages/detail.html", context)


@organiser_required(SEND)
@require_POST
def message_test(request, pk):
    """Send the draft to the signed-in organiser only."""
    message = message_of(request, pk)
    try:
        address = mailing.send_test(message=message, user=request.user)
    except mailing.MessageError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"A test was sent to {address}.")
    return redirect("tickets:message_preview", pk=message.pk)


@organiser_required(SEND)
@require_POST
def message_send(request, pk):
    """Send the draft to its recipients, once."""
    message = message_of(request, pk)
    expected = request.POST.get("recipient_count", "")
    # isdigit() alone lets "²" and numbers too long for int() through.
    plain_number = expected.isascii() and expected.isdigit() and len(expected) < 19
    expected = int(expected) if plain_number else None
    try:
        outcome = mailing.send_message(message=message, expected_count=expected)
    except mailing.AlreadySent as error:
        messages.info(request, str(error))
        return redirect("tickets:message_detail", pk=message.pk)
    except mailing.MessageError as error:
        messages.error(request, str(error))
        return redirect("tickets:message_preview", pk=message.pk)
    report_outcome(request, outcome)
    return redirect("tickets:message_detail", pk=message.pk)


@organiser_required(SEND)
@require_POST
def message_retry(request, pk):
    """Send the failed deliveries of a message again."""
    message = message_of(request, pk)
    try:
        outcome = mailing.retry_failed(message=message)
    except mailing.MessageError as error:
        messages.error(request, str(error))
        return redirect("tickets:message_preview", pk=message.pk)
    if outcome.sent or outcome.failed:
        report_outcome(request, outcome)
    else:
        messages.info(request, "There was nothing to retry.")
    return redirect("tickets:message_detail", pk=message.pk)


def report_outcome(request, outcome):
    if outcome.waiting:
        messages.warning(
            request,
            f"Sent {outcome.sent}; the mail server could not be reached, so {outcome.failed} "
            f"failed and {outcome.waiting} are waiting. Retry them when it works again "
            "(the send_pending_messages job also does).",
        )
    elif outcome.failed:
        messages.warning(
            request,
            f"Sent {outcome.sent}; {outcome.failed} could not be sent. "
            "Their errors are listed below; retry them when the mail server works again.",
        )
    else:
        messages.success(request, f"Sent {outcome.sent} e-mails.")
