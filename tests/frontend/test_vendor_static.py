"""htmx and uPlot come from `make install` (npm ci): without them the settings refuse to start, never serve
pages that silently lack them."""
import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings.base import vendor_staticfiles_dirs


def make_dirs(root, *paths):
    for path in paths:
        (root / path).mkdir(parents=True)


def test_installed_packages_are_served(tmp_path):
    make_dirs(tmp_path, "node_modules/htmx.org/dist", "node_modules/uplot/dist")
    assert vendor_staticfiles_dirs(tmp_path, tmp_path / "static") == [
        ("vendor/htmx", tmp_path / "node_modules/htmx.org/dist"),
        ("vendor/uplot", tmp_path / "node_modules/uplot/dist"),
    ]


def test_missing_packages_fail_loudly(tmp_path):
    make_dirs(tmp_path, "node_modules/uplot/dist")
    with pytest.raises(ImproperlyConfigured, match=r"htmx\.org.*make install.*npm ci"):
        vendor_staticfiles_dirs(tmp_path, tmp_path / "static")


def test_collected_static_root_needs_no_node_modules(tmp_path):
    """A production image ran collectstatic at build time and ships no node_modules."""
    make_dirs(tmp_path, "static/vendor/htmx", "static/vendor/uplot")
    assert vendor_staticfiles_dirs(tmp_path, tmp_path / "static") == []
