import pytest

from tests.schedule.conftest import SHARED_SCHEMAS, VENDORED_SCHEMAS


@pytest.mark.parametrize("name", ["schedule.xml.xsd", "schema.json"])
def test_vendored_schema_matches_shared_copy(name):
    if not (SHARED_SCHEMAS / name).exists():
        pytest.skip("shared/schemas is not beside this checkout")

    assert (VENDORED_SCHEMAS / name).read_bytes() == (SHARED_SCHEMAS / name).read_bytes()
