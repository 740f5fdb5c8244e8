import pytest

from tests.factories import PageFactory, SupporterFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/admin/", "/admin/workshop/workshop/", "/admin/workshop/page/", "/admin/speakers/speaker/"],
)
def test_admin_requires_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_refuses_non_staff(client, django_user_model):
    user = django_user_model.objects.create_user("visitor", "v@example.org", "pw-123456789")
    client.force_login(user)

    response = client.get("/admin/workshop/workshop/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/admin/workshop/workshop/?q=Real-world", "Real-world Perspectives"),
        ("/admin/workshop/workshop/?format__exact=online", "Real-world Perspectives"),
        ("/admin/workshop/page/?q=Conduct", "Code of conduct"),
        ("/admin/workshop/page/?published__exact=1", "Code of conduct"),
        ("/admin/speakers/speaker/?q=nobody", "0 speakers"),
    ],
)
def test_admin_lists_search_and_filter(organiser_client, workshop, path, expected):
    PageFactory(title="Code of conduct", slug="code-of-conduct")

    response = organiser_client.get(path)

    assert response.status_code == 200
    assert expected in response.content.decode()


def test_admin_workshop_change_form_has_supporters_and_view_on_site(organiser_client, workshop):
    SupporterFactory(workshop=workshop, name="Fund for Science")

    response = organiser_client.get(f"/admin/workshop/workshop/{workshop.pk}/change/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Fund for Science" in html
    assert "View on site" in html


def test_admin_page_view_on_site_redirects_to_page(organiser_client, workshop):
    page = PageFactory(slug="about")

    response = organiser_client.get(f"/admin/workshop/page/{page.pk}/change/")

    assert "View on site" in response.content.decode()
    assert page.get_absolute_url() == "/about/"


def test_admin_rejects_workshop_ending_before_start(organiser_client, workshop):
    response = organiser_client.post(
        f"/admin/workshop/workshop/{workshop.pk}/change/",
        {
            "title": workshop.title,
            "slug": workshop.slug,
            "starts_at_0": "2030-12-02",
            "starts_at_1": "13:00",
            "ends_at_0": "2030-12-02",
            "ends_at_1": "12:00",
            "time_zone": "Mars/Olympus",
            "format": "online",
            "currency": "EUR",
            "supporters-TOTAL_FORMS": "0",
            "supporters-INITIAL_FORMS": "0",
        },
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "The workshop must end after it starts." in html
    assert "is not an IANA time zone name" in html


def test_admin_index_puts_the_organisers_content_first(organiser_client, workshop):
    import re

    html = organiser_client.get("/admin/").content.decode()
    main = html[html.index('id="content-main"') :]
    apps = re.findall(r'<caption>\s*<a href="/admin/([a-z_]+)/"', main)
    models = re.findall(r'<th scope="row" id="[a-z_]+-([a-z]+)">', main)

    assert apps[:4] == ["workshop", "schedule", "speakers", "tickets"]
    assert len(apps) > 4, "the technical apps (accounts, tasks) follow the organisers' own"
    assert models[:2] == ["workshop", "page"]
    assert models.index("talk") < models.index("slot") < models.index("room")
    assert models.index("tickettype") < models.index("voucher") < models.index("order")
    assert models.index("order") < models.index("stripeevent")
    assert "<title>Site administration | Workshop admin</title>" in html
    assert "Workshop administration" in html
