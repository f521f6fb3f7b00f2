"""model-ensemble: members of any kinds stacked on validation log-odds, cross-fitted so the
validation metrics are honest; the ensemble directory is a model like any other (registry,
score-regions, ISM, report), carries its members, and bad input fails cleanly."""

import json
import os
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from explain_helpers import run_explain
from score_helpers import make_cnn_dir, make_dnabert2_dir, read_tsv, run_cli
from synthetic_labelled import make_split, write_fasta

from enhancer_tools.cli.kmer_baseline import main as kmer_main
from enhancer_tools.cli.model_ensemble import main
from enhancer_tools.errors import UserError
from enhancer_tools.metrics.binary import binary_metrics, sigmoid
from enhancer_tools.metrics.calibration import calibrate
from enhancer_tools.models.ensemble import fit_stack
from enhancer_tools.models.registry import load_model
from enhancer_tools.seq import reverse_complement


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    """A good k-mer model (motif data), a random-weight CNN (noise), the validation file."""
    folder = tmp_path_factory.mktemp("members")
    train, val = make_split(folder, n_train=200, n_val=100, length=80)
    good = folder / "kmer_good"
    result = CliRunner().invoke(kmer_main, ["--train", str(train), "--val", str(val), "-o", str(good), "--k", "3-4",
                                            "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    cnn = make_cnn_dir(folder / "cnn_noise", width=80, seed=3)
    return {"good": good, "cnn": cnn, "val": val, "folder": folder}


@pytest.fixture(scope="module")
def ensemble(members, tmp_path_factory):
    out = tmp_path_factory.mktemp("ens") / "ensemble"
    stats = out.with_suffix(".json")
    result = _run("--member", f"kmer={members['good']}", "--member", members["cnn"], "--val", members["val"],
                  "-o", out, "--json", stats, "--threads", 1, "--device", "cpu", "--quiet")
    assert result.exit_code == 0, result.output
    return out, json.loads(stats.read_text())


def _val_seqs(val):
    lines = val.read_text().splitlines()
    return ([line for line in lines if not line.startswith(">")],
            np.array([int(line.split("label=")[1].split()[0]) for line in lines if line.startswith(">")]))


def _stacked(out, members, seqs):
    """The ensemble's raw log-odds recomputed from the original members and the stored weights."""
    config = json.loads((out / "config.json").read_text())
    z = config["intercept"]
    for entry, path in zip(config["members"], (members["good"], members["cnn"])):
        z = z + entry["weight"] * load_model(path, "cpu").logits(seqs) / entry["temperature"]
    return z


def test_layout_and_run_info(ensemble, members):
    out, stats = ensemble
    assert sorted(os.listdir(out)) == ["calibration.json", "config.json", "members", "model.json",
                                       "model.safetensors", "provenance.json"]
    assert sorted(os.listdir(out / "members")) == ["1-kmer", "2-cnn_noise"]
    info = json.loads((out / "model.json").read_text())
    assert info["kind"] == "ensemble" and info["window"] == {"width": 80}
    assert [m["kind"] for m in info["members"]] == ["kmer", "enhancernet"]
    config = json.loads((out / "config.json").read_text())
    assert config["folds"] == 5 and config["C"] == 1.0 and config["seed"] == 1
    assert [m["name"] for m in config["members"]] == ["kmer", "cnn_noise"]
    assert config["members"][1]["temperature"] == pytest.approx(2.0)  # make_cnn_dir's calibration
    assert stats["tool"] == "model-ensemble" and stats["counts"]["members"] == 2
    assert stats["counts"]["val_sequences"] == 100
    assert {"roc_auc", "pr_auc", "best_f1", "threshold"} <= set(stats["validation"])
    assert [m["name"] for m in stats["members"]] == ["kmer", "cnn_noise"]
    assert len(stats["inputs"]["val"]["sha256"]) == 64


def test_loads_through_the_registry_and_scores_the_stacked_members(ensemble, members, tmp_path):
    out, _ = ensemble
    model = load_model(out, "cpu")
    assert model.kind == "ensemble" and model.window == {"width": 80}
    seqs, _ = _val_seqs(members["val"])
    assert np.allclose(model.logits(seqs), _stacked(out, members, seqs))
    scores = tmp_path / "scores.tsv"
    result = run_cli(["--model", out, "--fasta", members["val"], "-o", scores, "--device", "cpu", "--threads", 1,
                      "--quiet"])
    assert result.exit_code == 0, result.output
    header, rows = read_tsv(scores)
    p = np.array([float(r[header.index("p")]) for r in rows])
    z = (_stacked(out, members, seqs) + _stacked(out, members, [reverse_complement(s) for s in seqs])) / 2
    assert np.allclose(p, sigmoid(z / model.calibration.temperature), atol=1e-5)


def test_validation_metrics_are_out_of_fold(ensemble, members):
    out, stats = ensemble
    seqs, labels = _val_seqs(members["val"])
    config = json.loads((out / "config.json").read_text())
    rc = [reverse_complement(s) for s in seqs]  # the stack is fitted on both strands' mean log-odds
    loaded = [load_model(p, "cpu") for p in (members["good"], members["cnn"])]
    features = np.column_stack([(m.logits(seqs) + m.logits(rc)) / 2 / c["temperature"]
                                for m, c in zip(loaded, config["members"])])
    stack = fit_stack(features, labels, folds=5, seed=1, c=1.0)
    assert np.allclose(stack.weights, [m["weight"] for m in config["members"]])
    calibration = calibrate(stack.oof_logodds, labels)
    assert json.loads((out / "calibration.json").read_text())["temperature"] == pytest.approx(calibration.temperature)
    assert stats["validation"]["roc_auc"] == pytest.approx(binary_metrics(labels, stack.oof_logodds)["roc_auc"])
    assert stats["validation"]["loss"] != pytest.approx(stats["validation_in_sample"]["loss"])


def test_cross_fitting_scores_each_record_with_a_stack_that_never_saw_it():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    labels = np.array([0, 1] * 30)
    features = np.column_stack([labels * 2.0 + rng.normal(size=60), rng.normal(size=60)])
    stack = fit_stack(features, labels, folds=3, seed=7, c=1.0)
    assert sorted(np.bincount(stack.fold)) == [20, 20, 20]
    for k in range(3):
        held = stack.fold == k
        assert labels[held].sum() == 10  # stratified
        lr = LogisticRegression(C=1.0, max_iter=5000).fit(features[~held], labels[~held])
        assert np.allclose(stack.oof_logodds[held], lr.decision_function(features[held]))
    assert not np.allclose(stack.oof_logodds, stack.in_sample_logodds)
    with pytest.raises(UserError, match="fewer than the folds"):
        fit_stack(features[:8], labels[:8], folds=5)


def test_weight_goes_to_the_good_member(ensemble):
    _, stats = ensemble
    good, noise = (m["weight"] for m in stats["members"])
    assert good > 0.5 and abs(noise) < 0.2 * good
    assert stats["validation"]["roc_auc"] > 0.8
    assert stats["member_validation"]["kmer"]["roc_auc"] > stats["member_validation"]["cnn_noise"]["roc_auc"]


def test_members_are_copied_so_the_originals_may_go(members, tmp_path):
    a, b = shutil.copytree(members["good"], tmp_path / "a"), shutil.copytree(members["cnn"], tmp_path / "b")
    out = tmp_path / "ens"
    assert _run("--member", a, "--member", b, "--val", members["val"], "-o", out, "--folds", 3, "--threads", 1,
                "--device", "cpu", "--quiet").exit_code == 0
    seqs, _ = _val_seqs(members["val"])
    before = load_model(out, "cpu").logits(seqs)
    shutil.rmtree(a)
    shutil.rmtree(b)
    assert np.array_equal(load_model(out, "cpu").logits(seqs), before)


def test_ism_works_and_gradients_need_every_member_to_have_them(ensemble, members, tmp_path):
    from enhancer_tools.interpret.gradients import has_gradients, require_gradients
    from enhancer_tools.interpret.ism import ism

    model = load_model(ensemble[0], "cpu")
    seq = _val_seqs(members["val"])[0][0]
    effects = ism(model, seq, 10, 20, batch_size=64)
    assert effects.shape == (4, 10) and np.isfinite(effects).all()
    assert not has_gradients(model)
    with pytest.raises(UserError, match="has no gradients"):
        require_gradients(model)
    fasta = write_fasta(tmp_path / "one.fa", [("r1", 1, seq)])
    result = run_explain(["--model", ensemble[0], "--fasta", fasta, "-o", tmp_path / "ism", "--plots", 0, "--device",
                          "cpu", "--threads", 1, "-q"])
    assert result.exit_code == 0, result.output
    result = run_explain(["--model", ensemble[0], "--fasta", fasta, "-o", tmp_path / "ig", "--method", "ig", "-q"])
    assert result.exit_code == 2 and "the ensemble model has no gradients" in result.output
    assert len(result.output.strip().splitlines()) == 1
    c1, c2 = make_cnn_dir(tmp_path / "c1", seed=1), make_cnn_dir(tmp_path / "c2", seed=2)
    out = tmp_path / "cnns"
    assert _run("--member", c1, "--member", c2, "--val", members["val"], "-o", out, "--folds", 2, "--threads", 1,
                "--device", "cpu", "--quiet").exit_code == 0
    model = load_model(out, "cpu")
    assert has_gradients(model)
    weights = [m["weight"] / m["temperature"] for m in model.config["members"]]
    got = model.scorer.integrated_gradients([seq], steps=4)[0].values
    parts = [load_model(c, "cpu").scorer.integrated_gradients([seq], steps=4)[0].values for c in (c1, c2)]
    assert np.allclose(got, weights[0] * parts[0] + weights[1] * parts[1])


def test_report_stats_show_the_ensemble(ensemble, tmp_path):
    from enhancer_tools.report import run_stats as rs
    from enhancer_tools.report.multiqc_content import run_sections

    stats = tmp_path / "ensemble.json"
    stats.write_text(json.dumps(ensemble[1]))
    sections = {s["id"]: s for s in run_sections(rs.load_runs([str(stats)]))}
    row = sections["enhancer_tools_validation"]["data"]["model-ensemble"]
    assert row["roc_auc"] == pytest.approx(ensemble[1]["validation"]["roc_auc"])


def _refused(result, out, text, kept=()):
    """Exit 2 with one line naming ``text``; ``out`` holds nothing but what was there (``kept``),
    and no temporary folder is left beside it."""
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1, result.output
    assert text in result.output
    assert not out.exists() or sorted(p.name for p in out.iterdir()) == sorted(kept)
    assert not any(p.name.startswith(f".{out.name}.") for p in out.parent.iterdir())


def test_bad_inputs_fail_cleanly(ensemble, members, tmp_path):
    good, cnn, val = members["good"], members["cnn"], members["val"]
    out = tmp_path / "ens"
    _refused(_run("--member", good, "--val", val, "-o", out), out, "at least two")
    _refused(_run("--member", good, "--member", tmp_path / "nowhere", "--val", val, "-o", out), out, "not found")
    _refused(_run("--member", good, "--member", good, "--val", val, "-o", out), out, "twice")
    _refused(_run("--member", good, "--member", ensemble[0], "--val", val, "-o", out), out, "nested")
    unlabelled = tmp_path / "unlabelled.fa"
    unlabelled.write_text(">a\nACGTACGTAC\n>b\nACGTTTGTAC\n")
    _refused(_run("--member", good, "--member", cnn, "--val", unlabelled, "-o", out), out, "unlabelled.fa")
    few = write_fasta(tmp_path / "few.fa", [("a", 1, "ACGT" * 20), ("b", 0, "ACGA" * 20), ("c", 0, "ACGC" * 20)])
    _refused(_run("--member", good, "--member", cnn, "--val", few, "-o", out), out, "--folds")
    dnabert2 = make_dnabert2_dir(tmp_path / "dnabert2", width=60)
    _refused(_run("--member", good, "--member", cnn, "--member", dnabert2, "--val", val, "-o", out), out,
             "different window widths")
    inside = tmp_path / "outer"
    shutil.copytree(good, inside / "m")
    _refused(_run("--member", inside / "m", "--member", cnn, "--val", val, "-o", inside), inside, "inside", ["m"])
    nested_out = inside / "m" / "ens"
    _refused(_run("--member", inside / "m", "--member", cnn, "--val", val, "-o", nested_out), nested_out,
             "inside the --member")


def test_output_folder_rules(members, tmp_path):
    good, cnn, val = members["good"], members["cnn"], members["val"]
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "keep.txt").write_text("mine")
    _refused(_run("--member", good, "--member", cnn, "--val", val, "-o", stranger, "--force"), stranger,
             "not a model directory", ["keep.txt"])
    assert (stranger / "keep.txt").read_text() == "mine"
    out = tmp_path / "ens"
    args = ["--member", good, "--member", cnn, "--val", val, "-o", out, "--folds", 2, "--threads", 1, "--quiet"]
    assert _run(*args).exit_code == 0
    result = _run(*args)
    assert result.exit_code == 2 and "--force" in result.output
    assert _run(*args, "--force").exit_code == 0
    assert load_model(out, "cpu").kind == "ensemble"


def test_the_galaxy_zip_of_an_ensemble_unpacks_as_one_model(ensemble, members, tmp_path):
    """The wrappers zip model/ and unpack with enhancer-unpack-model: an ensemble's members
    (model folders in its members/ folder) are part of the one model, not a second model."""
    import subprocess
    import sys

    from enhancer_tools.io.model_archive import unpack_model_archive

    shutil.copytree(ensemble[0], tmp_path / "model")
    archive = tmp_path / "ensemble.zip"
    subprocess.run([sys.executable, "-m", "zipfile", "-c", str(archive), "model/"], cwd=tmp_path, check=True)
    model_dir = unpack_model_archive(archive, tmp_path / "unpacked")
    assert model_dir == str(tmp_path / "unpacked" / "model")
    seqs, _ = _val_seqs(members["val"])
    assert np.array_equal(load_model(model_dir, "cpu").logits(seqs), load_model(ensemble[0], "cpu").logits(seqs))
