"""The execution engine: same results in task order on every engine (in-process, process pool, Ray)."""

from __future__ import annotations

import math

import pytest

from focuslab.data.generate import generate_dataset
from focuslab.engine import check_engine, map_tasks
from focuslab.errors import InvalidParameterError

SMALL = {"kind": "dp", "num_samples": 4, "samples_per_shard": 1, "crop_px": 16,
         "lens": {"aberration_probability": 0.0}}


def _bytes(folder) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in (".npz", ".json")}


def test_local_engine_keeps_task_order_and_reports_progress():
    seen = []
    tasks = [7, 3, 12, 0, 5]
    out = map_tasks(math.factorial, tasks, progress=lambda done, total, i, r: seen.append((done, total, i, r)))
    assert out == [5040, 6, 479001600, 1, 120]
    assert [s[0] for s in seen] == [1, 2, 3, 4, 5] and all(s[1] == 5 for s in seen)
    assert sorted(s[2] for s in seen) == [0, 1, 2, 3, 4] and all(out[i] == r for _, _, i, r in seen)
    assert map_tasks(math.factorial, []) == []


def test_engine_argument_errors():
    with pytest.raises(InvalidParameterError, match="engine 'dask' unknown"):
        check_engine("dask", 1)
    with pytest.raises(InvalidParameterError, match="workers must be an integer >= 1"):
        map_tasks(math.factorial, [1], workers=0)
    with pytest.raises(InvalidParameterError, match="--address is for --engine ray"):
        map_tasks(math.factorial, [1], address="auto")


@pytest.mark.slow
def test_process_pool_gives_the_same_dataset_bytes(tmp_path):
    generate_dataset(SMALL, tmp_path / "one", seed=9, workers=1)
    generate_dataset(SMALL, tmp_path / "pool", seed=9, workers=2)
    assert _bytes(tmp_path / "one") == _bytes(tmp_path / "pool")


@pytest.mark.slow
def test_ray_engine_gives_the_same_results_and_dataset_bytes(tmp_path):
    pytest.importorskip("ray")
    tasks = [6, 1, 9, 4]
    assert map_tasks(math.factorial, tasks, engine="ray", workers=1) == [math.factorial(t) for t in tasks]
    generate_dataset(SMALL, tmp_path / "local", seed=9)
    generate_dataset(SMALL, tmp_path / "ray", seed=9, engine="ray", workers=1)
    assert _bytes(tmp_path / "local") == _bytes(tmp_path / "ray")


@pytest.mark.slow
def test_bench_on_ray_matches_the_local_run(tmp_path, capsys):
    pytest.importorskip("ray")
    from focuslab.bench.af_runner import run_benchmark
    from focuslab.cli.main import main

    kw = {"suites": ["low-texture"], "methods": ["oracle"], "report": False}
    local = run_benchmark(tmp_path / "local", workers=1, **kw)
    assert main(["bench", "--suite", "low-texture", "--method", "oracle", "--engine", "ray", "--workers", "1",
                 "--out", str(tmp_path / "ray"), "--json"]) == 0
    import json

    ray_res = json.loads((tmp_path / "ray" / "results.json").read_text())
    strip = ("wall_s", "time_s", "elapsed_s")
    def clean(recs):
        return [{k: v for k, v in r.items() if k not in strip} for r in recs]
    assert clean(ray_res["records"]) == clean(json.loads(json.dumps(local["records"])))


def test_bench_cli_engine_errors(tmp_path, capsys):
    from focuslab.cli.main import main

    assert main(["bench", "--suite", "low-texture", "--engine", "spark", "--out", str(tmp_path)]) == 2
    assert "engine 'spark' unknown" in capsys.readouterr().err
    assert main(["bench", "--suite", "low-texture", "--address", "auto", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--address is for --engine ray" in err and err.count("\n") == 1


def test_unreachable_ray_address_is_one_line_exit_2(tmp_path, capsys):
    pytest.importorskip("ray")
    from focuslab.cli.main import main

    cfg = tmp_path / "c.yaml"
    cfg.write_text("num_samples: 1\nsamples_per_shard: 1\ncrop_px: 16\n")
    argv = ["data", "generate", "--config", str(cfg), "--out", str(tmp_path / "o"), "--engine", "ray",
            "--address", "127.0.0.1:1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "cannot reach the Ray cluster at '127.0.0.1:1'" in err and err.count("\n") == 1
