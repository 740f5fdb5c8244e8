"""Messages to attendees: recipients, preview, test send, sending once, pages and permissions."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client

from tests.factories import (
    OrderFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
    WorkshopFactory,
)
from tickets.models import AttendeeMessage, MessageDelivery, Order
from tickets.services import messages as mailing

pytestmark = pytest.mark.django_db

LIST = "/organisers/messages/"
NEW = "/organisers/messages/new/"


def holder(ticket_type, email, name="Ada Attendee", status=Order.Status.PAID):
    order = OrderFactory(workshop=ticket_type.workshop, status=status)
    return TicketFactory(
        order=order, ticket_type=ticket_type, attendee_email=email, attendee_name=name
    )


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


# Sending with the locmem backend


def test_send_sends_one_email_per_address_and_records_deliveries(
    workshop, regular, student, organiser, outbox
):
    holder(regular, "ada@example.org", "Ada")
    holder(student, "ADA@example.org", "Ada again")
    holder(regular, "grace@example.org", "Grace")
    holder(regular, "refunded@example.org", status=Order.Status.REFUNDED)
    message = draft(workshop, organiser)

    outcome = mailing.send_message(message=message)

    assert outcome == mailing.Outcome(sent=2, failed=0)
    assert sorted(m.to[0] for m in outbox) == [
        '"Ada" <ada@example.org>',
        '"Grace" <grace@example.org>',
    ]
    message.refresh_from_db()
    assert message.status == AttendeeMessage.Status.SENT
    assert message.sent_at is not None
    rows = list(message.deliveries.values_list("email", "status", "attempts"))
    assert rows == [("ada@example.org", "sent", 1), ("grace@example.org", "sent", 1)]


def test_send_twice_sends_once(workshop, regular, outbox):
    holder(regular, "ada@example.org")
    message = draft(workshop)
    mailing.send_message(message=message)

    with pytest.raises(mailing.AlreadySent):
        mailing.send_message(message=message)

    assert len(outbox) == 1
    assert message.deliveries.count() == 1


def test_send_without_recipients_refused(workshop, regular, student, outbox):
    holder(regular, "ada@example.org")
    message = draft(workshop, types=[student])

    with pytest.raises(mailing.MessageError, match="No one would receive this message"):
        mailing.send_message(message=message)

    message.refresh_from_db()
    assert message.status == AttendeeMessage.Status.DRAFT
    assert outbox == []
    assert not MessageDelivery.objects.exists()


def test_send_refused_when_recipients_changed_since_preview(workshop, regular, outbox):
    holder(regular, "ada@example.org")
    holder(regular, "grace@example.org")
    message = draft(workshop)

    with pytest.raises(mailing.MessageError, match="2 now instead of 1"):
        mailing.send_message(message=message, expected_count=1)

    assert outbox == []


def test_claim_skips_a_delivery_already_claimed(workshop, regular, outbox):
    holder(regular, "ada@example.org")
    holder(regular, "grace@example.org")
    message = draft(workshop)
    with pytest.MonkeyPatch.context() as patch:
        # Stop after freezing the recipients, as a request cut off before sending would.
        patch.setattr(mailing, "deliver_pending", lambda *, message: mailing.Outcome(0, 0))
        mailing.send_message(message=message)
    first = mailing.claim_next(message)  # another worker holds this one

    outcome = mailing.deliver_pending(message=message)

    assert outcome == mailing.Outcome(sent=1, failed=0)
    assert [m.to for m in outbox] == [['"Ada Attendee" <grace@example.org>']]
    assert MessageDelivery.objects.get(pk=first.pk).status == MessageDelivery.Status.SENDING
    message.refresh_from_db()
    assert message.status == AttendeeMessage.Status.SENDING


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


def test_send_pending_command_sends_pending_deliveries(workshop, regular, outbox, capsys):
    holder(regular, "ada@example.org")
    message = draft(workshop)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mailing, "deliver_pending", lambda *, message: mailing.Outcome(0, 0))
        mailing.send_message(message=message)
    assert outbox == []

    call_command("send_pending_messages")

    assert len(outbox) == 1
    assert "Sent 1 e-mails; 0 failed." in capsys.readouterr().out
    message.refresh_from_db()
    assert message.status == AttendeeMessage.Status.SENT


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


def test_send_is_post_only(organiser_client, workshop, regular, outbox):
    holder(regular, "ada@example.org")
    message = draft(workshop)

    assert organiser_client.get(f"{LIST}{message.pk}/send/").status_code == 405
    assert outbox == []


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
    assert '<input type="hidden" name="recipient_count" value="1">' in html
    assert "Send to 1 attendee</button>" in html


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
    assert "Sent 2 e-mails." in first.content.decode()
    assert second.redirect_chain == [(f"{LIST}{message.pk}/", 302)]
    assert "This message has already been sent; nothing was sent again." in second.content.decode()
    html = second.content.decode()
    assert "<strong>Sent.</strong> Handed to the mail server for 2 of 2 addresses." in html
    assert "<td>ada@example.org</td>" in html


def test_test_send_goes_to_organiser_only(organiser_client, workshop, regular, organiser, outbox):
    organiser.email = "org@example.org"
    organiser.save()
    holder(regular, "ada@example.org")
    message = draft(workshop, body="Hello <script>x()</script>**there**")

    response = organiser_client.post(f"{LIST}{message.pk}/test/", follow=True)

    assert "A test was sent to org@example.org." in response.content.decode()
    assert [m.to for m in outbox] == [["org@example.org"]]
    assert outbox[0].subject == "[Test] Stream links"
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


def test_message_list_shows_counts(organiser_client, workshop, regular, outbox):
    holder(regular, "ada@example.org")
    sent = draft(workshop, subject="Welcome")
    mailing.send_message(message=sent)
    draft(workshop, subject="Later")

    html = organiser_client.get(LIST).content.decode()

    assert f'<a href="{LIST}{sent.pk}/">Welcome</a>' in html
    assert "<td>Sent</td>\n                <td>1</td>" in html
    assert "<td>Draft</td>\n                <td>not sent yet</td>" in html


@pytest.mark.parametrize("count", [1, 6])
def test_message_list_query_count(
    organiser_client, workshop, regular, django_assert_num_queries, count
):
    for n in range(count):
        holder(regular, f"person{n}@example.org")
    for n in range(count):
        message = draft(workshop, subject=f"Message {n}")
        MessageDelivery.objects.create(message=message, email=f"x{n}@example.org")

    with django_assert_num_queries(5):
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

    with django_assert_num_queries(7):
        response = organiser_client.get(f"{LIST}{message.pk}/")

    assert response.content.decode().count("<td>Sent</td>") == count


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

    with django_assert_num_queries(7):
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
