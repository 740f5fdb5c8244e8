import pytest

from tests.factories import UserFactory, WorkshopFactory


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
