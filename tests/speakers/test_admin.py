import pytest
from django.core import mail

from speakers import services
from speakers.models import Invitation, SpeakerRevision
from tests.factories import SpeakerFactory
from tests.speakers.conftest import verified_user

pytestmark = pytest.mark.django_db


def test_bulk_invite_action_invites_unlinked_speakers_with_address(
    organiser_client, workshop, django_capture_on_commit_callbacks
):
    ada = SpeakerFactory(name="Ada", email="ada@example.org")
    bob = SpeakerFactory(name="Bob", email="bob@example.org")
    linked = SpeakerFactory(name="Cy", email="cy@example.org", user=verified_user(username="cy"))
    no_address = SpeakerFactory(name="Di")

    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(
            "/admin/speakers/speaker/",
            {"action": "invite", "_selected_action": [ada.pk, bob.pk, linked.pk, no_address.pk]},
            follow=True,
        )

    html = response.content.decode()
    assert "Invited 2: Ada, Bob." in html
    assert "Not invited (already linked to an account, or no contact e-mail): Cy, Di." in html
    assert sorted(message.to[0] for message in mail.outbox) == [
        "ada@example.org",
        "bob@example.org",
    ]
    assert Invitation.objects.count() == 2


def test_invitation_admin_add_invites_through_service(
    organiser_client, organiser, workshop, django_capture_on_commit_callbacks
):
    speaker = SpeakerFactory(name="Ada")

    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(
            "/admin/speakers/invitation/add/", {"speaker": speaker.pk, "email": "ada@example.org"}
        )

    invitation = Invitation.objects.get()
    assert response.status_code == 302
    assert (invitation.email, invitation.created_by, invitation.send_count) == (
        "ada@example.org",
        organiser,
        1,
    )
    assert len(invitation.token_hash) == 64
    assert [message.to for message in mail.outbox] == [["ada@example.org"]]


def test_invitation_admin_resend_and_withdraw_actions(
    organiser_client, invited, django_capture_on_commit_callbacks
):
    invitation, old_token = invited

    with django_capture_on_commit_callbacks(execute=True):
        resend = organiser_client.post(
            "/admin/speakers/invitation/",
            {"action": "resend", "_selected_action": [invitation.pk]},
            follow=True,
        )
    withdraw = organiser_client.post(
        "/admin/speakers/invitation/",
        {"action": "withdraw", "_selected_action": [invitation.pk]},
        follow=True,
    )

    invitation.refresh_from_db()
    assert "Sent 1 invitation(s) again with a new link." in resend.content.decode()
    assert "Withdrew 1 invitation(s)." in withdraw.content.decode()
    assert len(mail.outbox) == 2
    assert invitation.status() == Invitation.Status.WITHDRAWN


def test_invitation_admin_lists_who_was_invited_and_who_claimed(organiser_client, invited):
    invitation, token = invited
    claimer = verified_user(username="grace", email="grace@example.org")
    services.claim_invitation(token=token, user=claimer)

    html = organiser_client.get("/admin/speakers/invitation/?status=claimed").content.decode()

    assert "grace@example.org" in html
    assert "Grace Okafor" in html
    assert '<td class="field-status">Claimed</td>' in html


def test_speaker_admin_change_records_revision_and_shows_history(organiser_client, organiser):
    speaker = SpeakerFactory(name="Ada", slug="ada", affiliation="Old Place")

    response = organiser_client.post(
        f"/admin/speakers/speaker/{speaker.pk}/change/",
        {
            "name": "Ada",
            "slug": "ada",
            "published": "on",
            "affiliation": "New Place",
            "short_bio": speaker.short_bio,
            "bio": speaker.bio,
            "invitations-TOTAL_FORMS": "0",
            "invitations-INITIAL_FORMS": "0",
            "revisions-TOTAL_FORMS": "0",
            "revisions-INITIAL_FORMS": "0",
        },
    )
    page = organiser_client.get(f"/admin/speakers/speaker/{speaker.pk}/change/")

    assert response.status_code == 302
    revision = SpeakerRevision.objects.get()
    assert (revision.changed_fields, revision.changed_by) == (["affiliation"], organiser)
    assert revision.previous["affiliation"] == "Old Place"
    html = page.content.decode()
    assert "Previous versions (newest first)" in html
    assert "Old Place" in html
    assert 'href="/admin/r/' in html  # "View on site"


def test_speaker_admin_search_finds_by_affiliation(organiser_client):
    SpeakerFactory(name="Ada", affiliation="Lovelace Lab")
    SpeakerFactory(name="Bob", affiliation="Elsewhere")

    html = organiser_client.get("/admin/speakers/speaker/?q=lovelace").content.decode()

    assert ">Ada</a>" in html
    assert ">Bob</a>" not in html


def test_invitation_admin_add_refuses_speaker_with_account(organiser_client, workshop):
    speaker = SpeakerFactory(name="Ada", user=verified_user(username="ada"))

    response = organiser_client.post(
        "/admin/speakers/invitation/add/", {"speaker": speaker.pk, "email": "ada@example.org"}
    )

    assert response.status_code == 200
    assert (
        "This speaker profile already belongs to an account; there is nobody to invite."
        in response.content.decode()
    )
    assert Invitation.objects.count() == 0


def test_invitation_admin_add_form_labels_fields(organiser_client, workshop):
    html = organiser_client.get("/admin/speakers/invitation/add/").content.decode()

    assert '<label class="required" for="id_speaker">Speaker:</label>' in html
    assert '<label class="required" for="id_email">E-mail address:</label>' in html
