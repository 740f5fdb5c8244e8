"""Organisers' pages for messages to attendees: write, preview, test, send, retry."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_http_methods, require_POST

from tickets.models import AttendeeMessage, TicketType
from tickets.services import messages as mailing
from workshop.current import current_workshop
from workshop.markdown import render_markdown
from workshop.organisers import organiser_required

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
    """List the messages of the current workshop with how far their e-mails got."""
    workshop = current_workshop(request)
    rows = []
    if workshop is not None:
        rows = list(
            AttendeeMessage.objects.filter(workshop=workshop)
            .select_related("created_by")
            .with_delivery_counts()
        )
    for row in rows:
        row.totals = mailing.Totals(
            queued=row.queued_count, sent=row.sent_count, failed=row.failed_count
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
    """Show a sent message and how far the e-mail to each recipient got."""
    message = message_of(request, pk)
    if message.status == AttendeeMessage.Status.DRAFT:
        return redirect("tickets:message_preview", pk=message.pk)
    # The e-mail's content is not shown, and may be large until it is sent.
    deliveries = list(
        message.deliveries.select_related("outgoing_email").defer("outgoing_email__message")
    )
    context = {
        "message": message,
        "body_html": render_markdown(message.body),
        "deliveries": deliveries,
        "totals": mailing.Totals.of(deliveries),
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
        messages.success(request, f"A test e-mail to {address} is queued for delivery.")
    return redirect("tickets:message_preview", pk=message.pk)


@organiser_required(SEND)
@require_http_methods(["GET", "POST"])
def message_send(request, pk):
    """Ask the organiser to confirm (GET), then send the draft to its recipients once (POST)."""
    message = message_of(request, pk)
    if request.method == "GET":
        return confirm_send(request, message)
    expected = request.POST.get("recipient_count", "")
    # isdigit() alone lets "²" and numbers too long for int() through.
    plain_number = expected.isascii() and expected.isdigit() and len(expected) < 19
    expected = int(expected) if plain_number else None
    try:
        queued = mailing.send_message(message=message, expected_count=expected)
    except mailing.AlreadySent as error:
        messages.info(request, str(error))
        return redirect("tickets:message_detail", pk=message.pk)
    except mailing.MessageError as error:
        messages.error(request, str(error))
        return redirect("tickets:message_preview", pk=message.pk)
    messages.success(
        request,
        f"{queued} e-mail{pluralize(queued)} queued for delivery; the table below shows when "
        "the mail server has accepted each.",
    )
    return redirect("tickets:message_detail", pk=message.pk)


def confirm_send(request, message):
    """The last step before sending: what goes to whom, said once more, with the only send button.

    The preview's test button and this page's send button are on different pages, so a click
    meant for a test never reaches every attendee.
    """
    if message.status != AttendeeMessage.Status.DRAFT:
        messages.info(request, "This message has already been sent.")
        return redirect("tickets:message_detail", pk=message.pk)
    recipients = mailing.recipients_of(message)
    if not recipients:
        messages.error(request, "No one would receive this message: no paid tickets match.")
        return redirect("tickets:message_preview", pk=message.pk)
    context = {
        "message": message,
        "recipients": recipients,
        "chosen_types": list(message.ticket_types.all()),
    }
    return render(request, "tickets/messages/confirm_send.html", context)


@organiser_required(SEND)
@require_POST
def message_retry(request, pk):
    """Queue the failed e-mails of a message for a new round of attempts."""
    message = message_of(request, pk)
    try:
        queued = mailing.retry_failed(message=message)
    except mailing.MessageError as error:
        messages.error(request, str(error))
        return redirect("tickets:message_preview", pk=message.pk)
    if queued:
        messages.success(request, f"{queued} failed e-mail{pluralize(queued)} queued again.")
    else:
        messages.info(request, "There was nothing to retry.")
    return redirect("tickets:message_detail", pk=message.pk)
