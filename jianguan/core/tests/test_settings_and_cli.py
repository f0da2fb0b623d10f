"""Start-up configuration: bad settings stop the ``jianguan`` command with one line, not a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(env: dict[str, str], tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "JIANGUAN_VAR_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "jianguan.cli", *(args or ("check",))], env={**base, **env},
                          capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JIANGUAN_DATABASE_URL": "mysql://x@y/z"}, "JIANGUAN_DATABASE_URL"),
        ({"JIANGUAN_DATABASE_URL": "nonsense"}, "JIANGUAN_DATABASE_URL"),
        ({"JIANGUAN_DEBUG": "yes"}, "JIANGUAN_DEBUG='yes': expected True or False"),
        ({"JIANGUAN_SECRET_KEY": "short"}, "at least 32 characters"),
        ({"JIANGUAN_PRODUCTION": "True"}, "JIANGUAN_SECRET_KEY is required"),
        ({"JIANGUAN_LOGIN_MAX_FAILURES": "five"}, "expected a whole number"),
        ({"JIANGUAN_SECRET_KEY_FILE": "/nonexistent/secret"}, "cannot read the file"),
        ({"JIANGUAN_FIELD_KEYS": "k1:not base64!"}, "not valid base64"),
    ],
)
def test_it_explains_a_bad_setting_in_one_line(env, message, tmp_path) -> None:
    result = _run(env, tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_defaults_give_the_embedded_mode(tmp_path) -> None:
    result = _run({}, tmp_path, "check")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_field_keys_are_read_from_settings(settings) -> None:
    import base64

    from jianguan.core import crypto

    settings.FIELD_ENCRYPTION_KEYS = "k1:" + base64.b64encode(b"x" * 32).decode()
    crypto.field_cipher.cache_clear()
    try:
        cipher = crypto.field_cipher()
        token = cipher.encrypt("13912345678")
        assert "$k1$" in token
        assert cipher.decrypt(token) == "13912345678"
    finally:
        crypto.field_cipher.cache_clear()
