"""The issue's target on the demo data (enhancer_tools.demo plants TCF7L2, AP-1, CDX2, HNF4A and
GATA6 motifs in the enhancers): a model trained on the demo, explained on the positives, gives
tfmodisco-lite patterns whose JASPAR 2024 matches (top 3, q < 0.05) cover at least 4 of the 5
planted factor families; and ISM effects inside planted motif instances are larger than in
their flanks (the test prints the ratio). Once with each model kind:

- the CNN: conftest.py's ``demo_cnn`` fixture, enhancernet-train's defaults as one network
  (``--replicates 1``), 10 epochs, seed 1;
- the tiny DNABERT-2: bpe-train (4096 terms) on the training split, then dnabert2-finetune
  ``--init tiny`` with its defaults (mean pooling, cosine schedule, 10 epochs), seed 1.

Both on conftest.py's ``demo_split`` of 500 bp windows (the planted clusters span at most 300
bp around the summit). modisco runs on integrated gradients (16 steps) of every positive of the
training and validation splits (the motifs a model learned are read from the sequences it
learned them on, as TF-MoDISco is used on all peaks), ISM on the central 300 bp of the 50
top-scoring validation positives.

Measured (2-core AMD EPYC), families matched at q < 0.05:
- CNN: 10 patterns; TCF7L2 (TCF7 / LEF1), AP-1 (JDP2), CDX2 (CDX1 / CDX2) and HNF4A (NR2), not
  GATA6 (its 6 bp WGATAR core is short): 4 of 5. ISM inside / flank 3.82. With the validation
  positives alone (259) the same CNN gave 3 of 5 (HNF4A, AP-1, GATA).
- DNABERT-2 (validation ROC-AUC 0.958): 6 patterns; TCF7L2, AP-1, CDX2 (CDX4 / CDX1 / CDX2) and
  HNF4A (RXR), not GATA6: 4 of 5, and the same 4 with seeds 2 and 3 (7 and 10 patterns). ISM
  inside / flank 7.71. make demo's DNABERT-2 (1 kb windows, validation ROC-AUC ~0.9) gives 3 of
  5 on the same kind of run (benchmarks/RESULTS.md): on 1 kb windows the tiny model does not
  learn the CDX2 sites within its 10 epochs."""

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from explain_helpers import run_explain

from enhancer_tools.demo import MOTIFS
from enhancer_tools.interpret.tables import read_attributions

IUPAC = {"A": "A", "C": "C", "G": "G", "T": "T", "N": "[ACGT]", "S": "[CG]", "W": "[AT]", "R": "[AG]", "Y": "[CT]",
         "K": "[GT]", "M": "[AC]"}
# JASPAR names of each planted factor's family (the factor, its paralogues, same-site binders)
FAMILIES = {
    "TCF7L2": r"\b(TCF7|TCF7L1|TCF7L2|LEF1)\b",
    "AP1": r"FOS|JUN|BATF|ATF3|NFE2|BACH|MAF[FGK]?\b",
    "CDX2": r"CDX|HOX[A-D]?(9|1[0-3])\b",
    "HNF4A": r"HNF4|NR2F|RXR|PPAR|NR2C|NR2E|RAR|ESRR|THR|VDR|NR1",
    "GATA6": r"GATA|TRPS1",
}


def _instances(seq: str, start: int, end: int) -> np.ndarray:
    """Mask [end - start] of bases inside exact matches (either strand) of the planted motifs
    of 8 bp or more (GATA6's 6 bp core also occurs by chance everywhere)."""
    from enhancer_tools.seq import reverse_complement

    mask = np.zeros(end - start, dtype=bool)
    for motif in MOTIFS.values():
        core = motif.strip("N")
        if len(core) < 8:
            continue
        for pattern in (core, reverse_complement(core)):
            regex = "".join(IUPAC[c] for c in pattern)
            for m in re.finditer(f"(?=({regex}))", seq[start:end]):
                mask[m.start():m.start() + len(pattern)] = True
    return mask


def _positives(path, *splits) -> None:
    records = []
    for split in splits:
        lines = split.read_text().splitlines()
        records += [f"{h}\n{s}\n" for h, s in zip(lines[0::2], lines[1::2]) if "label=1" in h]
    path.write_text("".join(records))


@pytest.fixture(scope="module")
def demo_dnabert2(demo_split, tmp_path_factory):
    """(folder, model_dir): the tiny DNABERT-2 of this module's docstring, seed 1."""
    from enhancer_tools.cli.bpe_train import main as bpe_train
    from enhancer_tools.cli.dnabert2_finetune import main as dnabert2_finetune

    folder = demo_split(500)
    out = tmp_path_factory.mktemp("demo-dnabert2")
    result = CliRunner().invoke(bpe_train, [str(folder / "train.fa"), "-o", str(out / "tokenizer"), "--vocab-size", "4096",
                                            "--json", str(out / "bpe.json"), "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    max_length = json.loads((out / "bpe.json").read_text())["token_lengths"]["recommended_max_length"]
    result = CliRunner().invoke(dnabert2_finetune, [
        "--init", "tiny", "--tokenizer", str(out / "tokenizer"), "--train", str(folder / "train.fa"),
        "--val", str(folder / "val.fa"), "-o", str(out / "model"), "--max-length", str(max_length), "--seed", "1",
        "--threads", "2", "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return folder, out / "model"


@pytest.mark.slow
@pytest.mark.timeout(1800)  # training, IG of ~1,200 positives and tfmodisco-lite: minutes, more on a loaded machine
@pytest.mark.parametrize("kind", ["cnn", "dnabert2"])
def test_planted_motifs_are_recovered(tmp_path, request, kind):
    folder, model = request.getfixturevalue("demo_cnn")(1) if kind == "cnn" else request.getfixturevalue("demo_dnabert2")
    positives = tmp_path / "pos.fa"
    _positives(positives, folder / "train.fa", folder / "val.fa")
    out = tmp_path / "motifs"
    result = run_explain(["--model", model, "--fasta", positives, "-o", out, "--method", "ig", "--steps", "16",
                          "--modisco", "--plots", "2", "-j", "2", "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in (out / "motifs.tsv").read_text().splitlines()[1:]]
    matched = {fam for fam, regex in FAMILIES.items()
               for row in rows if row[4] and float(row[7]) < 0.05 and re.search(regex, row[4].split(" ", 1)[1].upper())}
    print(kind, "families matched:", sorted(matched), "patterns:", len({r[0] for r in rows}),
          "positives explained:", positives.read_text().count(">"))
    assert len(matched) >= 4, f"only {sorted(matched)} of the 5 planted families matched"

    val_positives = tmp_path / "val_pos.fa"
    _positives(val_positives, folder / "val.fa")
    ism_out = tmp_path / "ism"
    result = run_explain(["--model", model, "--fasta", val_positives, "-o", ism_out, "--method", "ism", "--top", "50",
                          "--start", "100", "--end", "400", "--plots", "0", "-j", "2", "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = read_attributions(ism_out / "attributions.npz")
    inside, flank = [], []
    for seq, delta in zip(data["sequences"], data["ism"]):
        mask = _instances(str(seq).upper(), 100, 400)
        effect = np.abs(delta).sum(axis=0) / 3  # mean |Δ log-odds| of the 3 substitutions
        inside.append(effect[mask])
        flank.append(effect[~mask])
    ratio = np.concatenate(inside).mean() / np.concatenate(flank).mean()
    print(f"{kind}: mean |ISM effect| inside planted motifs / flanks = {ratio:.2f} "
          f"({sum(len(i) for i in inside)} motif bases, {sum(len(f) for f in flank)} flank bases)")
    assert ratio > 2.0
    assert json.loads((ism_out / "explain_regions.json").read_text())["regions"] == 50
