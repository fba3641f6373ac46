"""Fixtures shared by the API tests."""
from tests.api.action_cases import actor  # noqa: F401 - fixture
