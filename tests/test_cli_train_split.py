"""`kplearn train --out` on an existing run, `evaluate`'s default split, what the reports say."""

from __future__ import annotations

import json
import re

import pytest
import torch

from kplearn.cli import main

torch.set_num_threads(1)

DATA = ["--data", "synthetic-faces", "--n", "32", "--image-size", "64"]


def _train(out, *extra):
    return main(["train", *DATA, "--model", "regression", "--preset", "fast", "--epochs", "1",
                 "--quiet", "--out", str(out), *extra])  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "reg"
    assert _train(out, "--json") == 0
    return out


def _evaluate(capsys, run, *args):
    capsys.readouterr()
    code = main(["evaluate", str(run), *args, "--json"])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else None), captured.err


def test_train_refuses_an_existing_run_without_overwrite(run_dir, capsys):
    before = (run_dir / "model.pt").read_bytes()
    capsys.readouterr()
    assert _train(run_dir) == 2
    err = capsys.readouterr().err
    assert "already holds a trained run" in err and "--overwrite" in err
    assert (run_dir / "model.pt").read_bytes() == before  # untouched


def test_train_overwrite_replaces_the_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out) == 0
    (out / "stale.txt").write_text("from the old run")
    assert _train(out, "--overwrite", "--seed", "3") == 0
    assert not (out / "stale.txt").exists()  # the old run was deleted, not merged
    assert json.loads((out / "config.json").read_text())["seed"] == 3


def test_train_never_deletes_a_folder_that_is_not_a_run(tmp_path, capsys):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    assert _train(out, "--overwrite") == 2
    assert "not a kplearn run" in capsys.readouterr().err
    assert (out / "thesis.tex").read_text() == "precious"


def test_train_accepts_an_empty_folder(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert _train(out) == 0
    assert (out / "config.json").is_file()


def test_evaluate_defaults_to_the_held_out_split_on_the_training_data(run_dir, capsys):
    code, report, _ = _evaluate(capsys, run_dir, *DATA)
    assert code == 0
    # 32 faces of 4 identities, 10 % held out by identity: one identity, 8 faces.
    assert report["split"] == "val" and report["split_size"] == 8 and report["n"] == 8
    assert report["flip_test"] is True and report["data"] == "synthetic-faces"
    held_out = json.loads((run_dir / "config.json").read_text())["split"]["val_names"]
    assert len(held_out) == 8


def test_evaluate_split_options_choose_and_are_named(run_dir, capsys):
    sizes = {}
    for split in ("val", "train", "all"):
        code, report, _ = _evaluate(capsys, run_dir, *DATA, "--split", split, "--no-flip")
        assert code == 0
        assert report["split"] == split and report["flip_test"] is False
        sizes[split] = report["split_size"]
    assert sizes == {"val": 8, "train": 24, "all": 32}


def test_evaluate_on_other_data_scores_all_of_it(run_dir, capsys):
    # Other generator settings are other faces: the held-out names do not apply.
    code, report, _ = _evaluate(capsys, run_dir, "--data", "synthetic-faces", "--n", "12",
                                "--image-size", "64", "--seed", "5")  # fmt: skip
    assert code == 0
    assert report["split"] == "all" and report["split_size"] == 12


def test_evaluate_split_val_on_other_data_is_a_clear_error(run_dir, capsys):
    code, _, err = _evaluate(capsys, run_dir, "--data", "synthetic-faces", "--n", "12",
                             "--image-size", "64", "--seed", "5", "--split", "val")  # fmt: skip
    assert code == 2
    assert "--split val" in err and "--n 32" in err and "--image-size 64x64" in err


def test_evaluate_text_report_names_split_size_and_flip(run_dir, capsys):
    capsys.readouterr()
    assert main(["evaluate", str(run_dir), *DATA]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == f"{run_dir} on synthetic-faces: split val (8 samples), flip test on"


def test_run_trained_with_val_spec_warns_that_default_scores_training_data(tmp_path, capsys):
    out = tmp_path / "withval"
    assert _train(out, "--val", "synthetic-faces") == 0
    code, report, err = _evaluate(capsys, out, *DATA)
    assert code == 0 and report["split"] == "all" and report["split_size"] == 32
    assert "trained on all of this data" in err and "--data synthetic-faces" in err


def test_train_summary_is_rounded_and_names_the_validation(tmp_path, capsys):
    out = tmp_path / "summary"
    capsys.readouterr()
    assert _train(out) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    fields = dict(item.split("=", 1) for item in line.split())
    assert fields["metric"] == "nme" and fields["split"] == "val" and fields["val"] == "8"
    assert fields["flip_test"] == "False"
    assert re.fullmatch(r"\d+\.\d{4}", fields["best_value"]), fields["best_value"]
    history = json.loads((out / "history.json").read_text())
    assert float(fields["best_value"]) == pytest.approx(history["best_value"], abs=5e-5)
