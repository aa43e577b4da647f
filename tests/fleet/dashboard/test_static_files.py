"""The dashboard's static files survive production's collectstatic (hashed names, every reference resolved)."""

from django.core.management import call_command
from django.test import override_settings

MANIFEST_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def test_collectstatic_with_the_production_storage_resolves_every_reference(tmp_path):
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=MANIFEST_STORAGE):
        call_command("collectstatic", interactive=False, verbosity=0)
    vendor = tmp_path / "fleet" / "vendor"
    assert (vendor / "chart.umd.min.js").exists()
    assert (vendor / "chart.umd.min.js.map").exists()
    for script in ("live", "site", "site_chart", "site_range"):
        assert any((tmp_path / "fleet").glob(f"{script}.*.js")), script
