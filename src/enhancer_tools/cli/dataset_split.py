"""dataset-split: leakage-free, class-stratified train/val/test split, and an audit of any split."""

from __future__ import annotations

import logging
import os

import click

from enhancer_tools.cli.common import output_option, tool_command
from enhancer_tools.cli.fasta_rc_dedup import parse_label_for
from enhancer_tools.errors import CheckFailed, UserError

log = logging.getLogger(__name__)

HELP = """Split a labelled dataset into train/val/test without leakage, or audit a split (--check).

Split mode: DATASET is one or more labelled FASTA/TSV files (see fasta-rc-dedup); records
with the same canonical sequence (exact or reverse complement, any case) and, with
--group-near-duplicates, vsearch clusters always land in the same split. Default: a random
class-stratified split (--fractions, --seed); --holdout-chroms puts whole chromosomes into
val/test (region=chrom:start-end in the headers). Before the outputs are committed they are
re-read and checked: no canonical sequence in two splits (else exit 1, nothing written), and
each class within one record of its target share in each split (a warning when duplicate
groups make that impossible).

Check mode (--check): each DATASET is a split, FILE or NAME=FILE[,FILE...] (several files
per split, e.g. train=strong.fa,weak.fa,non.fa), in split order. Reports records of a later
split that occur in an earlier one (exact, reverse complement, and with --near-identity
near-duplicates via vsearch), duplicates within splits, class balance, and length and GC
differences between classes (Cohen's d). With --strict, leakage exits with code 2.
"""

EPILOG = """\
\b
Example:
  dataset-split dataset.fa --train train.fa --val val.fa --test test.fa --seed 1 -j 4 \\
      --json stats/split.json"""


def _fractions(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        raise UserError(f"--fractions takes three numbers like 0.7,0.15,0.15, got {text!r}") from None
    if len(values) != 3 or min(values) < 0 or abs(sum(values) - 1) > 1e-6:
        raise UserError(f"--fractions needs three non-negative numbers summing to 1, got {text!r}")
    return values


def _holdout(values: tuple[str, ...]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for value in values:
        for item in value.split():
            name, sep, chroms = item.partition("=")
            if not sep or name not in ("val", "test") or not chroms:
                raise UserError(f"--holdout-chroms takes val=CHR[,CHR...] or test=CHR[,CHR...], got {item!r}")
            out.setdefault(name, set()).update(c for c in chroms.split(",") if c)
    both = out.get("val", set()) & out.get("test", set())
    if both:
        raise UserError(f"chromosome(s) {', '.join(sorted(both))} given for both val and test")
    return out


def _check_files(args: tuple[str, ...]) -> dict[str, list[str]]:
    files: dict[str, list[str]] = {}
    for arg in args:
        name, sep, paths = arg.partition("=")
        if not sep or os.path.exists(arg):
            name, paths = os.path.splitext(os.path.basename(arg))[0], arg
        for p in paths.split(","):
            if not os.path.isfile(p):
                raise UserError("file not found", p)
        if name in files:
            raise UserError(f"split name {name!r} given twice")
        files[name] = paths.split(",")
    if len(files) < 2:
        raise UserError("--check needs at least two splits (e.g. train.fa test.fa)")
    return files


def _summary(report: dict) -> str:
    lines = []
    for name, s in report["splits"].items():
        classes = ", ".join(f"{k}: {v}" for k, v in s["per_class"].items())
        lines.append(f"{name}: {s['records']} records ({classes}); {s['duplicates_within']} duplicates within")
    for o in report["overlaps"]:
        near = f", {o['near_duplicates']} near-duplicates" if "near_duplicates" in o else ""
        lines.append(f"{o['later']} in {o['earlier']}: {o['exact']} exact, {o['reverse_complement']} reverse-complement{near}"
                     f" ({o['label_disagreements']} with another label)")
    d = report.get("class_differences")
    if d:
        def effect(value):
            return "n/a (no spread)" if value is None else value

        lines.append(f"classes {d['between'][0]} vs {d['between'][1]}, all splits pooled: mean length difference "
                     f"{d['length_mean_difference']} (d = {effect(d['length_cohens_d'])}), mean GC difference "
                     f"{d['gc_mean_difference']} (d = {effect(d['gc_cohens_d'])})")
    lines.append(f"leaking records: {report['leaking_records']}")
    return "\n".join(lines)


@tool_command("dataset-split", help=HELP, epilog=EPILOG)
@click.argument("datasets", nargs=-1, required=True)
@output_option("--train", default=None, help="Train FASTA output (split mode).")
@output_option("--val", default=None, help="Validation FASTA output (split mode).")
@output_option("--test", default=None, help="Test FASTA output (split mode).")
@click.option("--fractions", default="0.7,0.15,0.15", show_default=True, help="Train,val,test shares of every class.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed of the stratified split.")
@click.option("--holdout-chroms", "holdout_chroms", multiple=True, metavar="SPLIT=CHR[,CHR]",
              help="Chromosome hold-out instead of the random split: val=chr8 and/or test=chr9,chr10 (repeat the "
                   "option or quote 'val=chr8 test=chr9'); all other chromosomes go to train.")
@click.option("--group-near-duplicates", type=click.FloatRange(0.5, 1.0), default=None, metavar="IDENTITY",
              help="Keep vsearch clusters at this identity (e.g. 0.9, both strands) in one split. Needs vsearch.")
@click.option("--label-for", "label_for", multiple=True, metavar="FILE=LABEL",
              help="Label for the records of FILE without label= in their header (repeatable).")
@click.option("--check", is_flag=True, help="Audit the split given as DATASET arguments instead of splitting.")
@click.option("--strict", is_flag=True, help="With --check: exit with code 2 when any leakage is found.")
@click.option("--near-identity", type=click.FloatRange(0.5, 1.0), default=None, metavar="IDENTITY",
              help="With --check: also count near-duplicates across splits at this identity (vsearch).")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Processes for reading large single-line FASTA, and vsearch threads.")
def main(run, datasets, train, val, test, fractions, seed, holdout_chroms, group_near_duplicates, label_for, check,
         strict, near_identity, jobs):
    if check:
        _run_check(run, datasets, label_for, strict, near_identity, jobs)
    else:
        shares = _fractions(fractions)
        if not (train and val and (test or shares[2] == 0)):
            raise UserError("split mode needs --train, --val and --test outputs (--test may be left out when its "
                            "share in --fractions is 0; or use --check to audit a split)")
        _run_split(run, list(datasets), {"train": train, "val": val, "test": test}, shares, seed,
                   _holdout(holdout_chroms), group_near_duplicates, label_for, jobs)


def _run_check(run, datasets, label_for, strict, near_identity, jobs):
    from enhancer_tools.dataset.audit import audit_files

    files = _check_files(datasets)
    all_paths = [p for ps in files.values() for p in ps]
    labels = dict(zip(all_paths, parse_label_for(label_for, tuple(all_paths))))
    for name, paths in files.items():
        run.add_input(name, paths)
    report = audit_files(files, {p: v for p, v in labels.items() if v is not None}, near_identity, jobs)
    run.extra["audit"] = report
    run.counts.update({f"{n}_records": s["records"] for n, s in report["splits"].items()})
    run.counts["leaking_records"] = report["leaking_records"]
    click.echo(_summary(report))
    if strict and report["leaking_records"]:
        raise CheckFailed(f"leakage between splits: {report['leaking_records']} records (--strict)")


def _run_split(run, datasets, outputs, fractions, seed, holdout, near, label_for, jobs):
    from enhancer_tools.dataset.audit import audit_files
    from enhancer_tools.dataset.dedup import check_unique_ids, scan_inputs, write_kept
    from enhancer_tools.dataset.split import SPLITS, holdout_split, record_chromosomes, record_groups, stratified_split
    from enhancer_tools.io.atomic import AtomicOutputs, refuse_overwriting_inputs

    for path in datasets:
        if not os.path.exists(path) and path.startswith(("val=", "test=")):
            raise UserError(f"{path!r} is not a file; give each hold-out its own option: "
                            "--holdout-chroms val=chr8 --holdout-chroms test=chr9")
    outputs = {name: path for name, path in outputs.items() if path}
    refuse_overwriting_inputs(list(outputs.values()), datasets)
    if len(set(map(os.path.abspath, outputs.values()))) < len(outputs):
        raise UserError("--train, --val and --test must be different files")
    import numpy as np

    labels = parse_label_for(label_for, tuple(datasets))
    run.add_input("datasets", datasets)
    inputs = scan_inputs(datasets, labels, jobs)
    check_unique_ids(inputs)
    if (inputs.label < 0).any():
        i = int(np.flatnonzero(inputs.label < 0)[0])
        path, line = inputs.where(i)
        raise UserError("record has no label= in its header; add one or give the file --label-for FILE=LABEL", path, line)
    group = record_groups(inputs, near, jobs)
    if holdout:
        split, moved = holdout_split(group, record_chromosomes(inputs), holdout)
        run.counts["moved_to_keep_groups_together"] = moved
    else:
        split = stratified_split(group, inputs.label, fractions, seed)
    n, multi_groups = inputs.n, int((np.bincount(group) > 1).sum())
    sizes = {name: int((split == s).sum()) for s, name in enumerate(SPLITS)}
    for name, size in sizes.items():
        if size and name not in outputs:
            raise UserError(f"{size} records fall into the {name} split, which has no output file; give --{name}")
    with AtomicOutputs() as out:
        temp = {}
        for s, name in enumerate(SPLITS):
            if name in outputs:
                with out.open(outputs[name], "wb", background=True) as fh:
                    write_kept(inputs, split == s, fh)
                temp[name] = out.temp_name(outputs[name])
        del inputs, group, split  # the self-check scans the outputs afresh
        report = audit_files({name: [temp[name]] for name in SPLITS if sizes[name]}, jobs=jobs, with_stats=False)
        _verify(report, [f for f, name in zip(fractions, SPLITS) if sizes[name]] if not holdout else None,
                multi_groups > 0)
    run.extra["audit"] = report
    for name in SPLITS:
        split_report = report["splits"].get(name, {"records": 0, "per_class": {}})
        run.counts[f"{name}_records"] = split_report["records"]
        run.counts[f"{name}_per_class"] = split_report["per_class"]
    run.counts["duplicate_groups"] = multi_groups
    run.outputs.update(outputs)
    log.info("split %d records: %s", n, ", ".join(f"{name} {run.counts[name + '_records']}" for name in SPLITS))


def _verify(report: dict, fractions: list[float] | None, multi_groups: bool) -> None:
    """The self-check of split mode; RuntimeError (exit 1, nothing written) on leakage."""
    leaks = [o for o in report["overlaps"] if o["exact"] or o["reverse_complement"]]
    if leaks:
        raise RuntimeError(f"self-check failed: the same canonical sequence in two splits: {leaks}")
    if fractions is None:
        return
    totals: dict[str, int] = {}
    for s in report["splits"].values():
        for c, k in s["per_class"].items():
            totals[c] = totals.get(c, 0) + k
    for (name, s), share in zip(report["splits"].items(), fractions):
        for c, total in totals.items():
            off = abs(s["per_class"].get(c, 0) - share * total)
            if off > 1 + 1e-9:
                message = f"class {c} in {name}: {s['per_class'].get(c, 0)} records, target {share * total:.1f}"
                if not multi_groups:
                    raise RuntimeError(f"self-check failed: {message}")
                log.warning("%s (duplicate groups kept whole make the exact share impossible)", message)
