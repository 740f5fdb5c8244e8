import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from tests.factories import PageFactory, SupporterFactory, WorkshopFactory
from workshop.models import Workshop

pytestmark = pytest.mark.django_db

SEED_TITLE = "Real-world Perspectives in Machine Learning for Science"


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=open("/dev/null", "w"))


def test_home_shows_seed_workshop(client, demo):
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<h1 id="workshop-title">{SEED_TITLE}</h1>' in html
    assert "Numerous scientific disciplines have noticed a reproducibility crisis" in html
    day = Workshop.objects.get().starts_at
    assert f"{day:%A %-d %B %Y}" in html
    assert (
        '<p class="message demo-note">Demo: this workshop took place on 2 December 2022. The '
        f"demo holds it on {day:%-d %B %Y} so that you can buy tickets, pay, check in and edit "
        "a speaker profile.</p>"
    ) in html
    assert "Online" in html
    assert "Software Sustainability Institute" in html
    for theme in ["Metrics", "Evaluation", "Explanation", "Pipelines", "Testing", "Reproduction"]:
        assert f"<li>{theme}</li>" in html


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/talks/", "Talks"),
        ("/speaker/", "Speakers"),
        ("/speakers/", "Speakers"),
        ("/schedule/", "Schedule"),
        ("/resources/", "Resources"),
        ("/tickets/", "Tickets"),
    ],
)
def test_seed_links_answer(client, demo, path, heading):
    response = client.get(path)

    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in response.content.decode()


@pytest.mark.parametrize("path", ["/talks", "/speaker", "/schedule", "/resources", "/tickets"])
def test_seed_links_without_slash_redirect(client, demo, path):
    response = client.get(path)

    assert response.status_code == 301
    assert response["Location"] == f"{path}/"


def test_resources_placeholder_without_page(client, workshop):
    response = client.get("/resources/")

    assert response.status_code == 200
    assert "Coming soon" in response.content.decode()


def test_navigation_links_every_section(client, workshop):
    html = client.get("/").content.decode()

    for href, label in [
        ("/talks/", "Talks"),
        ("/speakers/", "Speakers"),
        ("/schedule/", "Schedule"),
        ("/resources/", "Resources"),
        ("/tickets/", "Tickets"),
    ]:
        assert f'href="{href}"' in html and f">{label}</a>" in html


def test_base_template_has_landmarks_and_meta(client, workshop):
    html = client.get("/").content.decode()

    assert '<a class="skip-link" href="#content">' in html
    assert '<main id="content"' in html
    assert '<nav aria-label="Main">' in html
    assert "<footer" in html
    assert '<meta name="description" content="A workshop">' in html
    assert f'<meta property="og:title" content="{workshop.title}">' in html
    assert '<meta property="og:url" content="http://127.0.0.1:8000/">' in html


def test_page_shows_markdown_and_menu(client, workshop):
    PageFactory(
        slug="code-of-conduct", title="Code of conduct", body="Be **kind**.", menu_position=1
    )

    response = client.get("/code-of-conduct/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Code of conduct · " in html
    assert "<p>Be <strong>kind</strong>.</p>" in html
    assert '<a href="/code-of-conduct/">Code of conduct</a>' in html


def test_unpublished_page_is_404_with_site_template(client, workshop):
    PageFactory(slug="draft", published=False)

    response = client.get("/draft/")

    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.content.decode()


def test_unknown_url_is_404_with_site_template(client, workshop):
    response = client.get("/no/such/place/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert "Traceback" not in html


def test_page_slug_owned_by_site_is_refused(workshop):
    page = PageFactory.build(slug="tickets", title="Tickets")

    with pytest.raises(ValidationError) as error:
        page.full_clean()

    assert error.value.message_dict["slug"] == ["/tickets/ is already used by the site."]


def test_home_of_another_workshop_has_no_demo_note(client):
    WorkshopFactory()

    html = client.get("/").content.decode()

    assert "demo-note" not in html


def test_home_without_workshop(client):
    response = client.get("/")

    assert response.status_code == 200
    assert "has not been announced yet" in response.content.decode()


def test_current_workshop_is_the_marked_one(client):
    WorkshopFactory(title="Old one", slug="old", is_current=False)
    WorkshopFactory(title="This year", slug="new", is_current=True)

    html = client.get("/").content.decode()

    assert "This year" in html and "Old one" not in html


def test_supporter_logo_link(client, workshop):
    SupporterFactory(workshop=workshop, name="Big Fund", url="https://fund.example/")

    html = client.get("/").content.decode()

    assert '<a href="https://fund.example/">' in html and "Big Fund" in html


@pytest.mark.urls("tests.workshop.urls_error")
def test_server_error_page_shows_no_traceback(client, workshop):
    client.raise_request_exception = False

    response = client.get("/boom/")

    assert response.status_code == 500
    html = response.content.decode()
    assert "<h1>Something went wrong</h1>" in html
    assert "Traceback" not in html and "ZeroDivisionError" not in html
