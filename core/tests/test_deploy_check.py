"""AU-5 and the deployment checklist: `manage.py check --deploy --fail-level WARNING` is clean
with production settings, and reports what it should when a production setting is missing.

Each case runs the check in a subprocess with DJANGO_SETTINGS_MODULE=shouhu.settings (the test
settings would force local-run values) and an environment built from scratch, so nothing from
the developer's shell or from shouhu/test_settings.py leaks in. Keys are generated per run.

Two clean environments are checked: the smallest production one (keys in variables, TLS proxy,
Secure cookies, HSTS and the https redirect from their defaults), and the example environment
file of docs/deployment.md as written there, with its *_FILE paths pointed at temporary files.
"""

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

# Settings and a subprocess with its own SQLite file (or a scan of the sources): not the test
# database, so it runs in the SQLite run only (conftest.py).
pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"
HOST = "shouhu.example.gov.cn"


def _data_key() -> str:
    return "k1:" + base64.b64encode(secrets.token_bytes(32)).decode()


def _base_env() -> dict[str, str]:
    """Only what a Python process needs; every SHOUHU_* value comes from the case."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    return env


def _production_env(tmp_path: Path) -> dict[str, str]:
    """The smallest production environment: keys in variables, behind the TLS proxy."""
    return {
        "DJANGO_SETTINGS_MODULE": "shouhu.settings",
        "SHOUHU_DEBUG": "0",
        "SHOUHU_SECURE_COOKIES": "1",
        "SHOUHU_ALLOWED_HOSTS": HOST,
        "SHOUHU_CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "SHOUHU_BEHIND_TLS_PROXY": "1",
        "SHOUHU_SECRET_KEY": secrets.token_urlsafe(64),
        "SHOUHU_INDEX_KEY": secrets.token_urlsafe(64),
        "SHOUHU_DATA_KEYS": _data_key(),
        "SHOUHU_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }


def _file_content(name: str, tmp_path: Path) -> str:
    contents = {
        "DATABASE_URL_FILE": f"sqlite:///{tmp_path}/db.sqlite3",
        "SHOUHU_SECRET_KEY_FILE": secrets.token_urlsafe(64),
        "SHOUHU_INDEX_KEY_FILE": secrets.token_urlsafe(64),
        "SHOUHU_DATA_KEYS_FILE": _data_key(),
    }
    if name not in contents:
        pytest.fail(f"docs/deployment.md's example names {name}: say here what a test file holds")
    return contents[name]


def _documented_env(tmp_path: Path) -> dict[str, str]:
    """The example environment file of docs/deployment.md ("## Example: …", first sh block)."""
    text = DEPLOYMENT_DOC.read_text(encoding="utf-8")
    section = text.split("\n## Example", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    env = {"DJANGO_SETTINGS_MODULE": "shouhu.settings"}
    for line in block.splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(\S+)", line)
        if not match:
            continue
        name, value = match.groups()
        if name.endswith("_FILE"):
            secret = tmp_path / name.lower()
            secret.write_text(_file_content(name, tmp_path) + "\n", encoding="utf-8")
            secret.chmod(0o600)
            value = str(secret)
        elif value.startswith("/"):  # a server path, e.g. SHOUHU_VAR_DIR
            value = str(tmp_path / value.strip("/").replace("/", "_"))
        env[name] = value
    return env


def _check_deploy(env: dict[str, str]) -> tuple[int, str]:
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    result = subprocess.run(
        command,
        cwd=ROOT,
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


def _assert_clean(code: int, output: str) -> None:
    assert code == 0, output
    assert "WARNINGS" not in output and "ERRORS" not in output, output
    assert "System check identified no issues" in output, output


def test_it_passes_check_deploy_with_production_settings(tmp_path: Path) -> None:
    _assert_clean(*_check_deploy(_production_env(tmp_path)))


def test_it_passes_check_deploy_with_the_documented_example(tmp_path: Path) -> None:
    env = _documented_env(tmp_path)
    assert {"SHOUHU_SECRET_KEY_FILE", "SHOUHU_INDEX_KEY_FILE", "SHOUHU_DATA_KEYS_FILE"} <= set(env), (
        f"the example in docs/deployment.md lacks a key file: {sorted(env)}"
    )
    _assert_clean(*_check_deploy(env))


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        # Cookies without Secure: the session and CSRF cookie warnings.
        ({"SHOUHU_SECURE_COOKIES": "0"}, {"security.W012", "security.W016"}),
        ({"SHOUHU_DEBUG": "1"}, {"security.W018"}),
        # Without the proxy header Django cannot redirect http itself (and does not by default).
        ({"SHOUHU_BEHIND_TLS_PROXY": "0"}, {"security.W008"}),
        ({"SHOUHU_HSTS_SECONDS": "0"}, {"security.W004"}),
    ],
    ids=["cookies-not-secure", "debug", "no-tls-proxy", "no-hsts"],
)
def test_it_reports_a_missing_production_setting(
    override: dict[str, str], expected: set[str], tmp_path: Path
) -> None:
    code, output = _check_deploy({**_production_env(tmp_path), **override})
    assert code != 0, output
    assert "WARNINGS" in output, output
    missing = {check for check in expected if f"({check})" not in output}
    assert not missing, f"check --deploy did not report {sorted(missing)}:\n{output}"


def test_an_explicit_redirect_serves_a_site_without_the_proxy_header(tmp_path: Path) -> None:
    """gunicorn speaking TLS itself: no proxy header, SHOUHU_SSL_REDIRECT=1 instead."""
    env = {**_production_env(tmp_path), "SHOUHU_BEHIND_TLS_PROXY": "0", "SHOUHU_SSL_REDIRECT": "1"}
    _assert_clean(*_check_deploy(env))
