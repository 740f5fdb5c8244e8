"""Co-authors invited by e-mail join a proposal through the speakers' invitations."""

import re

import pytest
from django.core import mail

from schedule.models import Proposal
from speakers.models import Invitation, Speaker
from tests.factories import ProposalFactory, SpeakerFactory, TalkFactory
from tests.speakers.conftest import verified_user

pytestmark = pytest.mark.django_db


def main_of(response):
    return response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]


@pytest.fixture
def own_proposal(call, author):
    speaker = SpeakerFactory(user=author, name="Grace Okafor", published=False)
    return ProposalFactory(
        call=call,
        code="ABCD2345",
        talk=TalkFactory(title="Honest baselines", published=False),
        authors=[speaker],
    )


def invite(client, **data):
    return client.post("/call/proposals/ABCD2345/coauthors/", data, follow=True)


def test_an_author_invites_a_co_author_who_joins(author_client, client, own_proposal, settings):
    settings.SITE_URL = "http://testserver"

    response = invite(author_client, name="Ada Lindqvist", email="ada@example.org")

    assert "Ada Lindqvist is invited by e-mail to join “Honest baselines”." in main_of(response)
    assert "<li>Ada Lindqvist (invited, not joined yet)</li>" in main_of(response)
    (letter,) = mail.outbox
    assert letter.to == ["ada@example.org"]
    assert (
        "Grace Okafor invites you to join the proposal “Honest baselines” for "
        "Real-world Perspectives in Machine Learning for Science as a co-author." in letter.body
    )
    token = re.search(r"/speakers/invitation/(\S+)/", letter.body).group(1)
    ada = verified_user(username="ada", email="ada@example.org")
    client.force_login(ada)
    client.get(f"/speakers/invitation/{token}/")
    client.post("/speakers/invitation/")
    assert Proposal.objects.of_author(ada).get() == own_proposal
    assert "Honest baselines" in main_of(client.get("/call/proposals/"))


def test_a_co_author_with_a_profile_joins_with_it(author_client, client, own_proposal):
    invite(author_client, name="Ada L.", email="ada@example.org")
    token = re.search(r"/speakers/invitation/(\S+)/", mail.outbox[0].body).group(1)
    ada = verified_user(username="ada", email="ada@example.org")
    profile = SpeakerFactory(user=ada, name="Ada Lindqvist")
    client.force_login(ada)

    client.get(f"/speakers/invitation/{token}/")
    client.post("/speakers/invitation/")

    assert set(own_proposal.talk.speakers.values_list("name", flat=True)) == {
        "Grace Okafor",
        "Ada Lindqvist",
    }
    assert Speaker.objects.filter(user=ada).get() == profile
    assert Invitation.objects.get().claimed_by == ada


def test_an_author_already_there_is_not_invited_again(author_client, own_proposal):
    response = invite(author_client, name="Grace again", email="GRACE@example.org")

    assert response.status_code == 409
    assert "GRACE@example.org is already an author." in main_of(response)
    assert mail.outbox == []


def test_a_bad_address_is_refused(author_client, own_proposal):
    response = invite(author_client, name="Ada", email="not an address")

    assert response.status_code == 400
    assert "Enter a valid email address." in main_of(response)
    assert Speaker.objects.count() == 1


def test_an_address_longer_than_the_column_is_refused(author_client, own_proposal):
    # Django's e-mail field takes 320 characters; the speaker's and invitation's columns 254
    # (PostgreSQL answered 500).
    address = "a" * 243 + "@example.org"

    response = invite(author_client, name="Ada", email=address)

    assert response.status_code == 400
    assert "Ensure this value has at most 254 characters (it has 255)." in main_of(response)
    assert Speaker.objects.count() == 1
    assert mail.outbox == []


def test_another_person_cannot_invite_to_the_proposal(client, own_proposal):
    client.force_login(verified_user(username="mallory", email="mallory@example.org"))

    response = invite(client, name="Eve", email="eve@example.org")

    assert response.status_code == 404
    assert mail.outbox == []


def test_no_invitations_once_the_proposal_is_decided(author_client, own_proposal):
    Proposal.objects.filter(pk=own_proposal.pk).update(state="accepted")

    response = invite(author_client, name="Ada", email="ada@example.org")

    assert response.status_code == 409
    assert "This proposal is accepted: it can no longer be changed." in main_of(response)
