"""Messages to attendees: recipients, preview, test send, sending once, pages and permissions."""

import datetime as dt

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from tests.factories import (
    OrderFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
    WorkshopFactory,
)
from tickets.models import AttendeeMessage, MessageDelivery, Order
from tickets.services import messages as mailing
from workshop.models import OutgoingEmail

pytestmark = pytest.mark.django_db

LIST = "/organisers/messages/"
NEW = "/organisers/messages/new/"
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def holder(ticket_type, email, name="Ada Attendee", status=Order.Status.PAID):
    order = OrderFactory(workshop=ticket_type.workshop, status=status)
    return TicketFactory(
        order=order, ticket_type=ticket_type, attendee_email=email, attendee_name=name
    )


def states(message):
    """Return each delivery's address, state and attempts, as its e-mail in the log has them."""
    return [
        (d.email, d.state, d.outgoing_email.attempts)
        for d in message.deliveries.select_related("outgoing_email")
    ]


def draft(workshop, organiser=None, subject="Stream links", body="Join us **online**.", types=()):
    return mailing.save_draft(
        workshop=workshop, subject=subject, body=body, ticket_types=types, author=organiser
    )


@pytest.fixture
def regular(workshop):
    return TicketTypeFactory(workshop=workshop, name="Regular")


@pytest.fixture
def student(workshop):
    return TicketTypeFactory(workshop=workshop, name="Student", price="5.00")


# Recipients


def test_recipients_only_paid_tickets(workshop, regular):
    holder(regular, "paid@example.org", "Paid Person")
    holder(regular, "partly@example.org", "Partly Refunded", status=Order.Status.PARTLY_REFUNDED)
    for status in ["pending", "processing", "refunded", "cancelled", "expired"]:
        holder(regular, f"{status}@example.org", status=status)

    recipients = mailing.find_recipients(workshop=workshop)

    assert recipients == [
        mailing.Recipient(email="paid@example.org", name="Paid Person"),
        mailing.Recipient(email="partly@example.org", name="Partly Refunded"),
    ]


def test_recipients_one_per_address_whatever_its_case(workshop, regular, student):
    holder(regular, "Ada@Example.org", "Ada Lovelace")
    holder(student, "ada@example.ORG", "Ada L.")
    holder(regular, "grace@example.org", "Grace Hopper")

    recipients = mailing.find_recipients(workshop=workshop)

    assert recipients == [
        mailing.Recipient(email="Ada@Example.org", name="Ada Lovelace"),
        mailing.Recipient(email="grace@example.org", name="Grace Hopper"),
    ]


def test_recipients_of_chosen_ticket_types_only(workshop, regular, student):
    holder(regular, "regular@example.org", "Regular Person")
    holder(student, "student@example.org", "Student Person")

    recipients = mailing.find_recipients(workshop=workshop, ticket_types=[student])

    assert recipients == [mailing.Recipient(email="student@example.org", name="Student Person")]


def test_recipients_leave_out_other_workshops(workshop, regular):
    other_type = TicketTypeFactory(workshop=WorkshopFactory(is_current=False))
    holder(other_type, "elsewhere@example.org")
    holder(regular, "here@example.org", "Here")

    assert [r.email for r in mailing.find_recipients(workshop=workshop)] == ["here@example.org"]


# E-mail content


def test_email_has_text_and_sanitised_html_parts(workshop, regular):
    message = draft(
        workshop,
        body="Hello **all**.\n\n<script>alert('x')</script>\n\n[Stream](javascript:alert(1))",
    )

    mail = mailing.build_email(message=message, email="ada@example.org", name="Ada, the first")

    html = mail.alternatives[0].content
    assert "<strong>all</strong>" in html
    assert "<script" not in html
    assert "alert(1)" not in html
    assert mail.alternatives[0].mimetype == "text/html"
    assert mail.body.startswith("Hello **all**.")
    assert f"You receive this e-mail because you hold a ticket for {workshop.title}." in mail.body
    assert mail.to == ['"Ada, the first" <ada@example.org>']
    assert mail.subject == "Stream links"


# Sending: one e-mail per delivery in the mail log, delivered by its task (here at once)


def test_send_queues_one_email_per_address_and_links_it_to_the_delivery(
    workshop, regular, student, organiser, outbox
):
    holder(regular, "ada@example.org", "Ada")
    holder(student, "ADA@example.org", "Ada again")
    holder(regular, "grace@example.org", "Grace")
    holder(regular, "refunded@example.org", status=Order.Status.REFUNDED)
    message = draft(workshop, organiser)

    queued = mailing.send_message(message=message)

    assert queued == 2
    assert sorted(m.to[0] for m in outbox) == [
        '"Ada" <ada@example.org>',
        '"Grace" <grace@example.org>',
    ]
    message.refresh_from_db()
    assert message.status == AttendeeMessage.Status.SENT
    assert message.sent_at is not None
    assert states(message) == [("ada@example.org", "sent", 1), ("grace@example.org", "sent", 1)]
    emails = {d.email: d.outgoing_email for d in message.deliveries.all()}
    assert emails["ada@example.org"].recipients == '"Ada" <ada@example.org>'
    assert emails["ada@example.org"].subject == "Stream links"
    assert {e.dedupe_key for e in emails.values()} == {
        f"message-delivery:{d.pk}" for d in message.deliveries.all()
    }


def test_send_only_queues_and_the_deliveries_say_queued(settings, workshop, regular, outbox):
    settings.TASKS = DB_TASKS  # tasks wait for a worker, as in production
    holder(regular, "ada@example.org", "Ada")
    holder(regular, "grace@example.org", "Grace")
    message = draft(workshop)

    assert mailing.send_message(message=message) == 2

    assert outbox == []
    assert states(message) == [("ada@example.org", "queued", 0), ("grace@example.org", "queued", 0)]
    tasks = DBTaskResult.objects.filter(task_path="workshop.mail.deliver_email")
    emails = sorted(d.outgoing_email_id for d in message.deliveries.all())
    assert sorted(task.args_kwargs["args"][0] for task in tasks) == emails
    assert mailing.Totals.of(message.deliveries.select_related("outgoing_email")) == (
        mailing.Totals(queued=2, sent=0, failed=0)
    )


def test_send_rolled_back_queues_nothing(settings, workshop, regular, outbox, monkeypatch):
    settings.TASKS = DB_TASKS
    holder(regular, "ada@example.org")
    message = draft(workshop)

    def fail_after_queuing(message, deliveries):
        queue_emails(message, deliveries)
        raise RuntimeError("the database went away")

    queue_emails = mailing.queue_emails
    monkeypatch.setattr(mailing, "queue_emails", fail_after_queuing)
    with pytest.raises(RuntimeError):
        mailing.send_message(message=message)

    message.refresh_from_db()
    assert message.status == AttendeeMessage.Status.DRAFT
    assert not MessageDelivery.objects.exists()
    assert not OutgoingEmail.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_send_twice_sends_once(workshop, regular, outbox):
    holder(regular, "ada@example.org")
    message = draft(workshop)
    mailing.send_message(message=message)

    with pytest.raises(mailing.AlreadySent):
        mailing.send_message(message=message)

    assert len(outbox) == 1
    assert message.deliveries.count() == 1
    assert OutgoingEmail.objects.count() == 1


def test_send_without_recipients_refused(workshop, regular, student, outbox):
    holder(regular, "ada@example.org")
    message = draft(workshop, types=[student])

    with pytest.raises(mailing.MessageError, match="No one would receive this message"):
        mailing.send_message(message=message)

    message.refresh_from_db()
    assert message.status == AttendeeMessage.Status.DRAFT
    assert outbox == []
    assert not MessageDelivery.objects.exists()
    assert not OutgoingEmail.objects.exists()


def test_send_refused_when_recipients_changed_since_preview(workshop, regular, outbox):
    holder(regular, "ada@example.org")
    holder(regular, "grace@example.org")
    message = draft(workshop)

    with pytest.raises(mailing.MessageError, match="2 now instead of 1"):
        mailing.send_message(message=message, expected_count=1)

    assert outbox == []


def test_queuing_a_delivery_again_queues_nothing(workshop, regular, outbox):
    holder(regular, "ada@example.org")
    holder(regular, "grace@example.org")
    message = draft(workshop)
    mailing.send_message(message=message)
    first = {d.pk: d.outgoing_email_id for d in message.deliveries.all()}

    # A second run of the same work (a retried request, a second worker) finds the e-mails.
    mailing.queue_emails(message, list(message.deliveries.all()))

    assert OutgoingEmail.objects.count() == 2
    assert {d.pk: d.outgoing_email_id for d in message.deliveries.all()} == first
    assert len(outbox) == 2


def test_draft_cannot_change_after_sending(workshop, regular):
    holder(regular, "ada@example.org")
    message = draft(workshop)
    mailing.send_message(message=message)

    with pytest.raises(mailing.AlreadySent):
        mailing.save_draft(
            workshop=workshop,
            subject="New",
            body="x",
            ticket_types=[],
            author=None,
            message=message,
        )


# Pages


def test_pages_send_anonymous_visitors_to_sign_in(client, workshop):
    message = draft(workshop)
    for url in [LIST, NEW, f"{LIST}{message.pk}/", f"{LIST}{message.pk}/preview/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={url}"
    response = client.post(f"{LIST}{message.pk}/send/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_pages_refuse_signed_in_non_staff(client, workshop, regular, outbox):
    holder(regular, "ada@example.org")
    message = draft(workshop)
    client.force_login(UserFactory(is_staff=False))

    for url in [LIST, NEW, f"{LIST}{message.pk}/", f"{LIST}{message.pk}/preview/"]:
        assert client.get(url).status_code == 403
    for action in ["send", "test", "retry"]:
        assert client.post(f"{LIST}{message.pk}/{action}/").status_code == 403
    assert outbox == []


def test_send_needs_csrf_token(workshop, regular, organiser, outbox):
    holder(regular, "ada@example.org")
    message = draft(workshop)
    client = Client(enforce_csrf_checks=True)
    client.force_login(organiser)

    response = client.post(f"{LIST}{message.pk}/send/", {"recipient_count": "1"})

    assert response.status_code == 403
    assert outbox == []


def test_preview_leads_to_a_confirmation_page_that_sends_nothing(
    organiser_client, workshop, regular, outbox
):
    holder(regular, "ada@example.org", "Ada")
    holder(regular, "bob@example.org", "Bob")
    message = draft(workshop)

    preview = organiser_client.get(f"{LIST}{message.pk}/preview/").content.decode()
    # The preview posts only the test; sending to everyone is a link to the confirmation.
    assert f'action="{LIST}{message.pk}/send/"' not in preview
    assert f'href="{LIST}{message.pk}/send/"' in preview
    assert "Review and send to 2 attendees…" in preview

    response = organiser_client.get(f"{LIST}{message.pk}/send/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Send “Stream links” to 2 attendees?" in html
    assert "Sending cannot be undone." in html
    assert "Ada &lt;ada@example.org&gt;" in html
    assert '<input type="hidden" name="recipient_count" value="2">' in html
    assert "Send now to 2 attendees" in html
    assert "Send a test" not in html
    assert outbox == []
    message.refresh_from_db()
    assert message.status == AttendeeMessage.Status.DRAFT


def test_confirmation_page_without_recipients_goes_back_to_the_preview(organiser_client, workshop):
    message = draft(workshop)

    response = organiser_client.get(f"{LIST}{message.pk}/send/", follow=True)

    assert response.redirect_chain == [(f"{LIST}{message.pk}/preview/", 302)]
    assert "No one would receive this message: no paid tickets match." in response.content.decode()


def test_confirmation_page_of_a_sent_message_shows_the_message(
    organiser_client, workshop, regular, outbox
):
    holder(regular, "ada@example.org")
    message = draft(workshop)
    organiser_client.post(f"{LIST}{message.pk}/send/", {"recipient_count": "1"})

    response = organiser_client.get(f"{LIST}{message.pk}/send/", follow=True)

    assert response.redirect_chain == [(f"{LIST}{message.pk}/", 302)]
    assert "This message has already been sent." in response.content.decode()
    assert len(outbox) == 1


def test_new_message_saves_draft_and_shows_preview(
    organiser_client, workshop, regular, student, organiser
):
    holder(student, "student@example.org", "Stu Dent")
    holder(regular, "regular@example.org", "Reg Ular")

    response = organiser_client.post(
        NEW,
        {"subject": "Room change", "body": "We move to *room B*.", "ticket_types": [student.pk]},
    )

    message = AttendeeMessage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}{message.pk}/preview/"
    assert message.created_by == organiser
    assert list(message.ticket_types.all()) == [student]
    html = organiser_client.get(response["Location"]).content.decode()
    assert "<h1>Preview: Room change</h1>" in html
    assert "<p>We move to <em>room B</em>.</p>" in html
    assert "<h2>Recipients (1)</h2>" in html
    assert "<li>Stu Dent &lt;student@example.org&gt;</li>" in html
    assert "regular@example.org" not in html
    assert "holders of paid tickets of the types Student" in html
    assert "Review and send to 1 attendee…" in html


def test_new_message_with_errors_says_which(organiser_client, workshop):
    response = organiser_client.post(NEW, {"subject": "Two\nlines", "body": ""})

    html = response.content.decode()
    assert response.status_code == 400
    assert "The subject must be a single line." in html
    assert "This field is required." in html
    assert not AttendeeMessage.objects.exists()


def test_new_message_refuses_an_overlong_body(organiser_client, workshop):
    response = organiser_client.post(NEW, {"subject": "Long", "body": "x" * 20001})

    assert response.status_code == 400
    assert "Ensure this value has at most 20000 characters (it has 20001)." in (
        response.content.decode()
    )
    assert not AttendeeMessage.objects.exists()


def test_new_message_refuses_another_workshops_ticket_type(organiser_client, workshop):
    other = TicketTypeFactory(workshop=WorkshopFactory(is_current=False))

    response = organiser_client.post(
        NEW, {"subject": "Hi", "body": "x", "ticket_types": [other.pk]}
    )

    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()


@pytest.mark.parametrize(
    "pk, error",
    [
        ("9" * 25, f"Select a valid choice. {'9' * 25} is not one of the available choices."),
        ("-" + "9" * 25, "is not one of the available choices."),
        ("²", "“²” is not a valid value."),
    ],
)
def test_new_message_refuses_a_ticket_type_id_beyond_the_databases_integers(
    organiser_client, workshop, pk, error
):
    response = organiser_client.post(NEW, {"subject": "Hi", "body": "x", "ticket_types": [pk]})

    assert response.status_code == 400
    assert error in response.content.decode()
    assert not AttendeeMessage.objects.exists()


def test_preview_without_recipients_offers_no_send_button(organiser_client, workshop):
    message = draft(workshop)

    html = organiser_client.get(f"{LIST}{message.pk}/preview/").content.decode()

    assert "No one would receive this message: no paid tickets. It cannot be sent." in html
    assert "/send/" not in html


def test_send_page_without_recipients_refused_with_message(organiser_client, workshop, outbox):
    message = draft(workshop)

    response = organiser_client.post(f"{LIST}{message.pk}/send/", follow=True)

    assert response.redirect_chain == [(f"{LIST}{message.pk}/preview/", 302)]
    assert "No one would receive this message: no paid tickets match. Nothing was sent." in (
        response.content.decode()
    )
    assert outbox == []


def test_send_page_double_click_sends_once(organiser_client, workshop, regular, outbox):
    holder(regular, "ada@example.org", "Ada")
    holder(regular, "grace@example.org", "Grace")
    message = draft(workshop)
    url = f"{LIST}{message.pk}/send/"

    first = organiser_client.post(url, {"recipient_count": "2"}, follow=True)
    second = organiser_client.post(url, {"recipient_count": "2"}, follow=True)

    assert len(outbox) == 2
    assert OutgoingEmail.objects.count() == 2
    assert "2 e-mails queued for delivery; the table below shows when" in first.content.decode()
    assert second.redirect_chain == [(f"{LIST}{message.pk}/", 302)]
    assert "This message has already been sent; nothing was sent again." in second.content.decode()
    html = second.content.decode()
    assert "<strong>Delivered.</strong> The mail server has accepted 2 of 2 e-mails." in html
    assert "<td>ada@example.org</td>" in html


def test_test_send_goes_to_organiser_only(organiser_client, workshop, regular, organiser, outbox):
    organiser.email = "org@example.org"
    organiser.save()
    holder(regular, "ada@example.org")
    message = draft(workshop, body="Hello <script>x()</script>**there**")

    response = organiser_client.post(f"{LIST}{message.pk}/test/", follow=True)

    assert "A test e-mail to org@example.org is queued for delivery." in response.content.decode()
    assert [m.to for m in outbox] == [["org@example.org"]]
    assert outbox[0].subject == "[Test] Stream links"
    assert OutgoingEmail.objects.get().recipients == "org@example.org"
    assert "<strong>there</strong>" in outbox[0].alternatives[0].content
    assert "<script" not in outbox[0].alternatives[0].content
    assert not MessageDelivery.objects.exists()
    message.refresh_from_db()
    assert message.status == AttendeeMessage.Status.DRAFT


def test_test_send_without_organiser_address_says_so(organiser_client, workshop, organiser, outbox):
    organiser.email = ""
    organiser.save()
    message = draft(workshop)

    response = organiser_client.post(f"{LIST}{message.pk}/test/", follow=True)

    assert "Your account has no e-mail address to send a test to." in response.content.decode()
    assert outbox == []


def test_edit_after_sending_redirects_to_detail(organiser_client, workshop, regular, outbox):
    holder(regular, "ada@example.org")
    message = draft(workshop)
    mailing.send_message(message=message)

    response = organiser_client.post(f"{LIST}{message.pk}/edit/", {"subject": "x", "body": "y"})

    assert response.status_code == 302
    assert response["Location"] == f"{LIST}{message.pk}/"
    message.refresh_from_db()
    assert message.subject == "Stream links"


def test_unknown_message_is_404(organiser_client, workshop):
    assert organiser_client.get(f"{LIST}999/").status_code == 404
    assert organiser_client.post(f"{LIST}999/send/").status_code == 404


def test_retry_with_nothing_failed_says_so(organiser_client, workshop, regular, outbox):
    holder(regular, "ada@example.org")
    message = draft(workshop)
    mailing.send_message(message=message)

    response = organiser_client.post(f"{LIST}{message.pk}/retry/", follow=True)

    assert "There was nothing to retry." in response.content.decode()
    assert len(outbox) == 1
    assert OutgoingEmail.objects.get().attempts == 1


def test_retry_queues_the_failed_emails_again_and_only_those(
    organiser_client, workshop, regular, outbox
):
    for name in ["ada", "bob", "cy"]:
        holder(regular, f"{name}@example.org", name.title())
    message = draft(workshop)
    mailing.send_message(message=message)
    failed = message.deliveries.exclude(email="cy@example.org")
    OutgoingEmail.objects.filter(message_delivery__in=failed).update(
        state=OutgoingEmail.State.FAILED, last_error="451 4.3.0 Try again later"
    )
    outbox.clear()

    response = organiser_client.post(f"{LIST}{message.pk}/retry/", follow=True)

    assert "2 failed e-mails queued again." in response.content.decode()
    assert sorted(m.to[0] for m in outbox) == ['"Ada" <ada@example.org>', '"Bob" <bob@example.org>']
    assert [state for _, state, _ in states(message)] == ["sent", "sent", "sent"]
    assert "<strong>Delivered.</strong>" in response.content.decode()


def cells(html, subject):
    """Return the texts of the cells in the row of the list that links ``subject``."""
    from lxml import html as lxml_html

    [row] = lxml_html.fromstring(html).xpath(f'//tr[th/a[text()="{subject}"]]')
    return [cell.text_content() for cell in row.xpath("td")][:5]


def test_message_list_shows_each_message_s_delivery_totals(
    organiser_client, workshop, regular, outbox
):
    for name in ["ada", "bob", "cy", "di"]:
        holder(regular, f"{name}@example.org")
    sent = draft(workshop, subject="Welcome")
    mailing.send_message(message=sent)
    under_way = draft(workshop, subject="Reminder")
    mailing.send_message(message=under_way)
    emails = OutgoingEmail.objects.filter(message_delivery__message=under_way).order_by("id")
    emails.filter(pk=emails[0].pk).update(state=OutgoingEmail.State.QUEUED)
    emails.filter(pk=emails[1].pk).update(state=OutgoingEmail.State.FAILED)
    partly = draft(workshop, subject="Survey")
    mailing.send_message(message=partly)
    OutgoingEmail.objects.filter(message_delivery__message=partly).filter(
        message_delivery__email="ada@example.org"
    ).update(state=OutgoingEmail.State.FAILED)
    draft(workshop, subject="Later")

    html = organiser_client.get(LIST).content.decode()

    assert f'<a href="{LIST}{sent.pk}/">Welcome</a>' in html
    assert cells(html, "Welcome") == ["Delivered", "4", "0", "4", "0"]
    assert cells(html, "Reminder") == ["Being delivered", "4", "1", "2", "1"]
    assert cells(html, "Survey") == ["Partly failed", "4", "0", "3", "1"]
    assert cells(html, "Later") == ["Draft", "not sent yet", "0", "0", "0"]


@pytest.mark.parametrize("count", [1, 6])
def test_message_list_query_count(
    organiser_client, workshop, regular, django_assert_num_queries, count
):
    for n in range(count):
        holder(regular, f"person{n}@example.org")
    for n in range(count):
        message = draft(workshop, subject=f"Message {n}")
        mailing.send_message(message=message)

    # One of them for the header's speaker profile link, as on every signed-in page.
    with django_assert_num_queries(6):
        response = organiser_client.get(LIST)

    assert response.status_code == 200
    assert response.content.decode().count("<tr>") == count + 1


@pytest.mark.parametrize("count", [1, 6])
def test_message_detail_query_count(
    organiser_client, workshop, regular, django_assert_num_queries, count
):
    for n in range(count):
        holder(regular, f"person{n}@example.org")
    message = draft(workshop)
    mailing.send_message(message=message)

    queued = message.deliveries.order_by("id")[0].outgoing_email
    queued.state, queued.attempts = OutgoingEmail.State.QUEUED, 1
    queued.save()

    # One of them for the header's speaker profile link, as on every signed-in page.
    with django_assert_num_queries(8):
        response = organiser_client.get(f"{LIST}{message.pk}/")

    html = response.content.decode()
    assert html.count("<td>Sent</td>") == count - 1
    assert html.count("<td>Queued, next attempt") == 1


def test_admin_shows_messages_read_only(organiser_client, workshop, regular, outbox):
    holder(regular, "ada@example.org")
    message = draft(workshop)
    mailing.send_message(message=message)

    listing = organiser_client.get("/admin/tickets/attendeemessage/")
    page = organiser_client.get(f"/admin/tickets/attendeemessage/{message.pk}/change/")

    assert listing.status_code == 200
    assert "Stream links" in listing.content.decode()
    assert page.status_code == 200
    assert "ada@example.org" in page.content.decode()
    assert "Delivered: 1 of 1 sent" in listing.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert organiser_client.get("/admin/tickets/attendeemessage/add/").status_code == 403


def test_admin_index_links_to_messages(organiser_client, workshop):
    html = organiser_client.get("/admin/").content.decode()

    assert f'<a href="{LIST}">Messages to attendees</a>' in html


@pytest.mark.parametrize("count", [1, 6])
def test_message_preview_query_count(
    organiser_client, workshop, regular, django_assert_num_queries, count
):
    for n in range(count):
        holder(regular, f"person{n}@example.org", f"Person {n}")
    message = draft(workshop, types=[regular])

    # One of them for the header's speaker profile link, as on every signed-in page.
    with django_assert_num_queries(8):
        response = organiser_client.get(f"{LIST}{message.pk}/preview/")

    assert f"<h2>Recipients ({count})</h2>" in response.content.decode()


def test_message_pages_show_times_in_the_workshops_zone(organiser_client, workshop, regular):
    workshop.time_zone = "Asia/Tokyo"
    workshop.save()
    holder(regular, "ada@example.org")
    message = draft(workshop, subject="Zoned")
    moment = dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC)
    AttendeeMessage.objects.filter(pk=message.pk).update(
        created_at=moment, sent_at=moment, status=AttendeeMessage.Status.SENT
    )

    listing = organiser_client.get(LIST).content.decode()
    detail = organiser_client.get(f"{LIST}{message.pk}/").content.decode()

    # 10:00 UTC is 19:00 in Tokyo.
    assert "1 May 2026, 19:00" in listing
    assert "1 May 2026, 19:00" in detail
    assert "10:00" not in listing + detail
