"""Compressed answers: stored pages in brotli and gzip, others on the way out, never secrets."""

import gzip

import brotli
import pytest
from django.test import Client

from tests.factories import (
    OrderFactory,
    RoomFactory,
    SlotFactory,
    SpeakerFactory,
    TalkFactory,
    TicketTypeFactory,
    UserFactory,
)
from workshop import cache as page_cache
from workshop.compression import choose_encoding

pytestmark = pytest.mark.django_db

BROWSER = "gzip, deflate, br, zstd"
DECODE = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda body: body}


@pytest.fixture
def programme(workshop):
    """A published talk in the schedule, with its speaker; a ticket type on sale."""
    speaker = SpeakerFactory(name="Ada Lindqvist", slug="ada")
    talk = TalkFactory(title="Choosing metrics", slug="choosing-metrics", speakers=[speaker])
    SlotFactory(workshop=workshop, room=RoomFactory(name="Main stage"), talk=talk)
    TicketTypeFactory(workshop=workshop, name="Regular", capacity=10)
    return workshop


def body_of(response):
    return DECODE[response.get("Content-Encoding")](response.content)


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [(BROWSER, "br"), ("gzip", "gzip"), ("gzip, br;q=0", "gzip"), ("*", "br"), ("", None)],
)
@pytest.mark.parametrize("path", ["/schedule/", "/talks/", "/speakers/", "/schedule.json"])
def test_stored_page_is_served_in_the_encoding_the_client_accepts(
    programme, path, accept, encoding
):
    plain = Client().get(path)  # renders and stores the page

    answer = Client().get(path, headers={"accept-encoding": accept})

    assert answer.status_code == 200
    assert answer.get("Content-Encoding") == encoding
    assert body_of(answer) == plain.content
    assert answer["Content-Length"] == str(len(answer.content))
    assert "Accept-Encoding" in answer["Vary"] and "Cookie" in answer["Vary"]
    assert answer["Content-Type"] == plain["Content-Type"]


def test_page_rendered_by_this_request_is_compressed_too(programme):
    first = Client().get("/talks/", headers={"accept-encoding": BROWSER})

    assert first["Content-Encoding"] == "br"
    assert "Choosing metrics" in brotli.decompress(first.content).decode()
    assert "Accept-Encoding" in first["Vary"]


def test_compressed_copies_are_made_once_when_stored(programme, monkeypatch):
    made = []
    real = page_cache.compress
    monkeypatch.setattr(page_cache, "compress", lambda c, e: made.append(e) or real(c, e))

    for accept in [BROWSER, BROWSER, "gzip", "", BROWSER]:
        Client().get("/schedule/", headers={"accept-encoding": accept})

    assert sorted(made) == ["br", "gzip"]


def test_rendering_after_a_change_compresses_only_the_encoding_taken(programme, monkeypatch):
    made = []
    real = page_cache.compress
    monkeypatch.setattr(page_cache, "compress", lambda c, e: made.append(e) or real(c, e))

    first = Client().get("/schedule/", headers={"accept-encoding": BROWSER})
    again = Client().get("/schedule/", headers={"accept-encoding": BROWSER})

    assert made == ["br"]
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]


def test_a_copy_made_later_is_kept_for_every_worker(programme, monkeypatch):
    Client().get("/schedule/", headers={"accept-encoding": BROWSER})
    Client().get("/schedule/", headers={"accept-encoding": "gzip"})
    page_cache.local_pages.clear()  # as another worker, which has only the shared copy
    made = []
    real = page_cache.compress
    monkeypatch.setattr(page_cache, "compress", lambda c, e: made.append(e) or real(c, e))

    accepts = (BROWSER, "gzip")
    answers = [Client().get("/schedule/", headers={"accept-encoding": a}) for a in accepts]

    assert made == []
    assert [answer["Content-Encoding"] for answer in answers] == ["br", "gzip"]
    assert brotli.decompress(answers[0].content) == gzip.decompress(answers[1].content)


def test_each_encoding_has_its_own_etag_and_304(programme):
    answers = {
        accept: Client().get("/schedule/", headers={"accept-encoding": accept})
        for accept in [BROWSER, "gzip", ""]
    }
    etags = {accept: answer["ETag"] for accept, answer in answers.items()}

    again = {
        accept: Client().get(
            "/schedule/", headers={"accept-encoding": accept, "if-none-match": etags[accept]}
        )
        for accept in etags
    }
    brotli_etag_asking_gzip = Client().get(
        "/schedule/", headers={"accept-encoding": "gzip", "if-none-match": etags[BROWSER]}
    )

    assert len(set(etags.values())) == 3
    assert etags[BROWSER].endswith('-br"') and etags["gzip"].endswith('-gzip"')
    assert {accept: r.status_code for accept, r in again.items()} == dict.fromkeys(etags, 304)
    assert again[BROWSER]["ETag"] == etags[BROWSER]
    assert "Accept-Encoding" in again[BROWSER]["Vary"]
    assert brotli_etag_asking_gzip.status_code == 200
    assert brotli_etag_asking_gzip["Content-Encoding"] == "gzip"


def test_etag_of_each_encoding_changes_after_an_edit(programme):
    before = Client().get("/talks/", headers={"accept-encoding": BROWSER})
    talk = TalkFactory(title="A second talk", slug="second")
    SlotFactory(workshop=programme, talk=talk)

    after = Client().get(
        "/talks/", headers={"accept-encoding": BROWSER, "if-none-match": before["ETag"]}
    )

    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert "A second talk" in brotli.decompress(after.content).decode()


@pytest.mark.urls("tests.workshop.urls_cache")
def test_small_answers_are_not_compressed(db):
    Client().get("/cache-test/plain/")

    answer = Client().get("/cache-test/plain/", headers={"accept-encoding": BROWSER})

    assert answer.content == b"plain"
    assert "Content-Encoding" not in answer
    assert "Accept-Encoding" not in answer.get("Vary", "")


def test_uncached_public_answer_is_compressed_on_the_way_out(programme, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 0  # nothing stored: every answer is rendered

    answer = Client().get("/talks/", headers={"accept-encoding": "gzip"})
    missing = Client().get("/no-such-page/", headers={"accept-encoding": "br"})

    assert answer["Content-Encoding"] == "gzip"
    assert "Choosing metrics" in gzip.decompress(answer.content).decode()
    assert "Accept-Encoding" in answer["Vary"]
    assert missing.status_code == 404
    assert missing["Content-Encoding"] == "br"


def buyer_with_order(workshop):
    buyer = UserFactory(email="buyer@example.org")
    SpeakerFactory(name="Own Profile", user=buyer)
    return buyer, OrderFactory(workshop=workshop, user=buyer)


def test_pages_with_secrets_are_never_compressed(programme):
    buyer, order = buyer_with_order(programme)
    free = TicketTypeFactory(workshop=programme, name="Community", price="0.00")
    anonymous = Client()
    signed_in = Client()
    signed_in.force_login(buyer)
    visits = [
        (anonymous, f"/tickets/checkout/?qty_{free.id}=1"),  # a form: a CSRF token
        (anonymous, "/accounts/login/"),  # CSRF token
        (anonymous, "/accounts/signup/"),
        (anonymous, "/tickets/resend/"),
        (anonymous, order.get_absolute_url()),  # reached by its secret link
        (signed_in, order.get_absolute_url()),
        (signed_in, "/tickets/mine/"),
        (signed_in, "/speakers/me/"),
        (signed_in, "/accounts/email/"),
        (signed_in, "/accounts/data/"),
        (signed_in, "/talks/"),  # a public page, but with the sign-out form's token
    ]

    for visitor, path in visits:
        answer = visitor.get(path, headers={"accept-encoding": BROWSER})
        assert answer.status_code in {200, 302}, path
        assert "Content-Encoding" not in answer, path
        assert "Accept-Encoding" not in answer.get("Vary", ""), path


def test_page_rendered_with_a_csrf_token_is_not_compressed(client, db):
    answer = client.get("/accounts/login/", headers={"accept-encoding": BROWSER})

    assert answer.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in answer.content
    assert "Content-Encoding" not in answer


def test_staff_pages_are_not_compressed(organiser_client, programme):
    for path in ["/admin/", "/organisers/", "/schedule/"]:
        answer = organiser_client.get(path, headers={"accept-encoding": BROWSER})

        assert answer.status_code == 200, path
        assert "Content-Encoding" not in answer, path


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("gzip, deflate, br", "br"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0.5, br;q=0.8", "br"),
        ("deflate", None),
        ("", None),
        ("*", "br"),
        ("*, br;q=0", "gzip"),
        ("identity", None),
        ("gzip;q=nonsense", None),
        (" GZIP ", "gzip"),
    ],
)
def test_choose_encoding_reads_accept_encoding(header, chosen):
    assert choose_encoding(header) == chosen
