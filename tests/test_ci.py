"""CI behaves like a fresh machine: the real-client tests cannot pass by skipping there."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_a_missing_real_client_fails_under_ci_and_skips_elsewhere(program, monkeypatch, tmp_path, ci, outcome):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no soffice, no chromium
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="soffice is not installed"):
        program("soffice", "libreoffice-calc-nogui")


def test_a_present_program_is_found(program, monkeypatch, tmp_path):
    tool = tmp_path / "soffice"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    assert program("soffice", "libreoffice-calc-nogui") == str(tool)
