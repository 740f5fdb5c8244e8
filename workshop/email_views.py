"""The organisers' page of e-mails that could not be delivered, and their "retry"."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from workshop import mail
from workshop.current import current_workshop
from workshop.models import OutgoingEmail
from workshop.organisers import organiser_required

# Seeing who did not get an e-mail, and sending it again.
VIEW = "workshop.view_outgoingemail"
RETRY = "workshop.change_outgoingemail"
PER_PAGE = 50


@organiser_required(VIEW)
def failed_emails(request):
    """List the e-mails that failed for good, newest first, with a retry button each."""
    page = Paginator(OutgoingEmail.objects.failed(), PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "workshop": current_workshop(request)}
    return render(request, "organisers/failed_emails.html", context)


@require_POST
@organiser_required(RETRY)
def retry_emails(request):
    """Queue again one failed e-mail (``email``), or all of them (``all``)."""
    if request.POST.get("all"):
        ids = list(OutgoingEmail.objects.failed().values_list("pk", flat=True))
    else:
        email_id = request.POST.get("email", "")
        ids = [int(email_id)] if email_id.isdecimal() and len(email_id) < 19 else []
    queued = sum(mail.retry_email(email_id=email_id) for email_id in ids)
    if queued:
        messages.success(request, f"{queued} e-mail{'s' if queued != 1 else ''} queued again.")
    else:
        messages.warning(request, "Nothing to retry: the e-mail was already queued or sent.")
    return redirect("organisers:failed_emails")
