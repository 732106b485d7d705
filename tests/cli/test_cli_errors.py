"""The CLI: user mistakes give one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from focuslab.cli.main import main


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["dof", "--focal-length-mm", "-4"], "focal_length_mm must be > 0"),
        (["dof", "--f-number", "0.3"], "below 0.5"),
        (["dof", "--object-distance-m", "0.002"], "nearer than the focal length"),
        (["dof", "--focus-distance-m", "nan"], "NaN"),
    ],
)
def test_user_errors_are_one_line_exit_2(argv, match, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_dof_prints_the_thin_lens_table(capsys):
    assert main(["dof", "--focus-distance-m", "1", "--object-distance-m", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "hyperfocal distance" in out and "3.965 m" in out  # f=4.38 mm, N=1.73, c=2.8 um


def test_console_script_exit_code_and_usage_error():
    proc = subprocess.run([sys.executable, "-m", "focuslab.cli.main", "dof", "--f-number", "0.1"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("focuslab: error:") and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "focuslab.cli.main", "no-such-command"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
