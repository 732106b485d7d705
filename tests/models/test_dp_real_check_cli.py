"""``python -m focuslab.models.dp_real_check``: help, and bad input as one line with exit code 2."""

from __future__ import annotations

from focuslab.models.dp_real_check import main


def test_help_prints_the_usage(capsys):
    assert main(["--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: python -m focuslab.models.dp_real_check")


def test_a_folder_without_the_pixel4_scenes_is_one_line(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "give the pixel4 folder" in err and "Traceback" not in err


def test_a_missing_weights_file_is_one_line(tmp_path, capsys):
    assert main([str(tmp_path), str(tmp_path / "missing.pt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.pt" in err
