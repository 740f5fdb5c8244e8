import os

import pytest

from tests.factories import UserFactory, WorkshopFactory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test of the run.

    Playwright's sync API allows one running instance per thread: a second one started while
    this is alive fails with "using Playwright Sync API inside the asyncio loop".
    """
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium); skipped")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def workshop(db):
    """The current workshop."""
    return WorkshopFactory()


@pytest.fixture
def organiser(db):
    """A staff superuser."""
    return UserFactory(username="organiser", is_staff=True, is_superuser=True)


@pytest.fixture
def organiser_client(client, organiser):
    """A test client signed in as an organiser."""
    client.force_login(organiser)
    return client
