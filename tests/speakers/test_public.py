import pytest

from tests.factories import SpeakerFactory, TalkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(workshop):
    ada = SpeakerFactory(
        name="Ada Lindqvist",
        slug="ada-lindqvist",
        pronouns="she/her",
        affiliation="Fictional Institute of Metrics",
        short_bio="Studies *metrics*.",
        bio="Ada studies **metrics** that matter.",
        website="https://ada.example.org/",
        mastodon="@ada@fosstodon.example",
        github="ada-example",
        orcid="0000-0002-1825-0097",
    )
    TalkFactory(title="Choosing metrics", slug="choosing-metrics", speakers=[ada])
    TalkFactory(title="Secret draft", slug="secret-draft", published=False, speakers=[ada])
    return ada


def test_speaker_list_shows_published_speakers_and_their_published_talks(client, ada):
    SpeakerFactory(name="Hidden Person", slug="hidden", published=False)

    response = client.get("/speakers/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Speakers</h1>" in html
    assert '<h2><a href="/speakers/ada-lindqvist/">Ada Lindqvist</a></h2>' in html
    assert '<p class="speaker-affiliation">Fictional Institute of Metrics</p>' in html
    assert '<li><a href="/talks/choosing-metrics/">Choosing metrics</a></li>' in html
    assert (
        '<img class="speaker-thumb" src="/static/images/speaker-placeholder.svg" alt="" '
        'width="128" height="128">' in html
    )
    assert "Secret draft" not in html
    assert "Hidden Person" not in html


def test_speaker_list_legacy_address_shows_same_list_with_canonical_link(client, ada):
    response = client.get("/speaker/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<link rel="canonical" href="http://127.0.0.1:8000/speakers/">' in html
    assert '<h2><a href="/speakers/ada-lindqvist/">Ada Lindqvist</a></h2>' in html


def test_speaker_list_without_speakers_says_so(client, workshop):
    html = client.get("/speakers/").content.decode()

    assert "The speakers will be announced here soon." in html


def test_speaker_detail_shows_full_profile_and_published_talks(client, ada):
    response = client.get("/speakers/ada-lindqvist/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Ada Lindqvist</h1>" in html
    assert '<p class="speaker-pronouns">Pronouns: she/her</p>' in html
    assert "<p>Ada studies <strong>metrics</strong> that matter.</p>" in html
    assert '<a href="https://ada.example.org/" rel="nofollow noopener">Website</a>' in html
    assert (
        '<a href="https://fosstodon.example/@ada" rel="me nofollow noopener">'
        "Mastodon (@ada@fosstodon.example)</a>" in html
    )
    assert '<a href="https://github.com/ada-example" rel="nofollow noopener">' in html
    assert (
        '<a href="https://orcid.org/0000-0002-1825-0097" rel="nofollow noopener">'
        "ORCID iD 0000-0002-1825-0097</a>" in html
    )
    assert '<li><a href="/talks/choosing-metrics/">Choosing metrics</a></li>' in html
    assert "Secret draft" not in html
    assert '<meta property="og:title" content="Ada Lindqvist">' in html


def test_speaker_detail_of_unpublished_speaker_is_not_found(client, workshop):
    SpeakerFactory(slug="hidden", published=False)

    response = client.get("/speakers/hidden/")

    assert response.status_code == 404


def test_speaker_detail_of_unknown_slug_is_not_found(client, workshop):
    assert client.get("/speakers/nobody/").status_code == 404


def test_speaker_bio_markdown_is_sanitised(client, workshop):
    SpeakerFactory(
        slug="mallory",
        short_bio='<img src="x" onerror="alert(1)">Short',
        bio='Hi <script>alert("bio")</script> [x](javascript:alert(2)) <b onclick="alert(3)">b</b>',
    )

    detail = client.get("/speakers/mallory/").content.decode()
    listing = client.get("/speakers/").content.decode()

    for html in (detail, listing):
        assert "<script>alert" not in html
        assert "onerror" not in html
        assert "onclick" not in html
        assert "javascript:" not in html
    assert "<b>b</b>" in detail
    assert '<img src="x">Short' in listing


def make_speakers(count):
    for number in range(count):
        speaker = SpeakerFactory(slug=f"s{number}")
        TalkFactory(speakers=[speaker])
        TalkFactory(speakers=[speaker], published=False)


@pytest.mark.parametrize("count", [5, 50])
def test_speaker_list_queries_are_constant(client, workshop, django_assert_num_queries, count):
    make_speakers(count)

    # Workshop, menu pages, speakers and their talks in outline (versions), then in full.
    with django_assert_num_queries(6):
        response = client.get("/speakers/")

    assert response.content.decode().count('class="speaker-card"') == count


@pytest.mark.parametrize("count", [5, 50])
def test_speaker_detail_queries_are_constant(client, workshop, django_assert_num_queries, count):
    speaker = SpeakerFactory(slug="many")
    for _ in range(count):
        TalkFactory(speakers=[speaker])

    # Speaker, their talks, workshop, menu pages.
    with django_assert_num_queries(4):
        response = client.get("/speakers/many/")

    assert response.content.decode().count('<li><a href="/talks/talk-') == count
