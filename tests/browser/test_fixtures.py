"""The suite's own fixtures behave as the other tests rely on."""

import pytest
from django.db import connection

from tests.factories import UserFactory

pytestmark = pytest.mark.browser


@pytest.mark.django_db
def test_orm_between_browser_steps_runs_in_the_test_transaction(browser):
    page = browser.new_page()
    page.set_content("<p>Playwright marks its event loop as running from here on.</p>")

    UserFactory(username="inside")

    assert connection.in_atomic_block
    assert connection.needs_rollback is False
    page.close()
