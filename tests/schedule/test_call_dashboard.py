"""The call's panel of the organisers' dashboard: proposals by type and state, the reviews."""

import pytest

from schedule.models import Review
from tests.factories import OrganiserFactory, ProposalFactory, TalkFactory
from workshop.roles import PROGRAMME

pytestmark = pytest.mark.django_db


def panel_of(client):
    html = client.get("/organisers/").content.decode()
    return html.split('<section class="panel" aria-labelledby="panel-call">', 1)[1].split(
        "</section>", 1
    )[0]


@pytest.fixture
def programme_client(client):
    client.force_login(OrganiserFactory(username="pat", role=PROGRAMME))
    return client


def test_the_panel_counts_proposals_and_reviews(programme_client, call):
    talk_type = call.submission_types.get(name="Talk")
    poster = call.submission_types.get(name="Poster")
    rita = OrganiserFactory(username="rita", email="rita@example.org")
    reviewed = ProposalFactory(call=call, submission_type=talk_type)
    for _ in range(2):
        Review.objects.create(proposal=reviewed, reviewer=OrganiserFactory(), score=4)
    Review.objects.create(proposal=reviewed, reviewer=rita, score=2)
    ProposalFactory(
        call=call,
        submission_type=talk_type,
        talk=TalkFactory(title="Needs readers", published=False),
    )
    ProposalFactory(call=call, submission_type=poster, state="withdrawn")

    html = panel_of(programme_client)

    assert (
        '<tr><th scope="row">Talk</th><td>2</td><td>0</td><td>0</td><td>0</td><td>0</td>'
        "<td>2</td></tr>" in html
    )
    assert (
        '<tr><th scope="row">Poster</th><td>0</td><td>0</td><td>0</td><td>0</td><td>1</td>'
        "<td>1</td></tr>" in html
    )
    assert "<td>3</td></tr></tfoot>" in html
    assert "<li>rita@example.org: 1</li>" in html
    assert "Proposals with fewer than 2 reviews:" in html
    assert ">Needs readers</a>: 0</li>" in html
    assert reviewed.talk.title not in html


def test_the_panel_without_a_call_says_so(programme_client, workshop):
    html = panel_of(programme_client)

    assert "There is no call for proposals." in html
