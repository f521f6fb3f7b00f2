"""--shard I/N: the shards' outputs, concatenated in order, are the unsharded output."""

import json

import pytest
from score_helpers import make_cnn_dir, random_records, run_cli, write_fasta, write_genome


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return make_cnn_dir(tmp_path_factory.mktemp("shard") / "cnn", width=80)


def _run_shards(model, args, tmp_path, n, outputs):
    """Run the whole input and its n shards; returns {output flag: (whole text, concatenated shard text)}."""
    def run(tag, shard):
        paths = {flag: tmp_path / f"{tag}{suffix}" for flag, suffix in outputs.items()}
        extra = ["--shard", shard] if shard else []
        flags = [x for flag, p in paths.items() for x in (flag, p)]
        result = run_cli(["--model", model, *args, *flags, *extra, "--batch-size", 3, "--json", tmp_path / f"{tag}.json"])
        assert result.exit_code == 0, result.output
        return {flag: p.read_text() for flag, p in paths.items()}

    whole = run("whole", None)
    parts = [run(f"part{i}", f"{i}/{n}") for i in range(1, n + 1)]
    joined = {}
    for flag in outputs:
        texts = [p[flag] for p in parts]
        if flag == "-o":  # drop the TSV header of shards 2..n
            texts = texts[:1] + [t.split("\n", 1)[1] for t in texts[1:]]
        joined[flag] = "".join(texts)
    return whole, joined


def test_fasta_shards_concatenate(model, tmp_path):
    fa = write_fasta(tmp_path / "in.fa", random_records(23, 70), region=True)
    whole, joined = _run_shards(model, ["--fasta", fa], tmp_path, 3, {"-o": ".tsv", "--bed-out": ".bed"})
    assert whole == joined
    blocks = [json.loads((tmp_path / f"part{i}.json").read_text())["shard"] for i in (1, 2, 3)]
    assert [(b["first_record"], b["end_record"]) for b in blocks] == [(0, 7), (7, 15), (15, 23)]


def test_tile_shards_concatenate(model, tmp_path):
    genome = tmp_path / "g.fa"
    write_genome(genome)
    whole, joined = _run_shards(model, ["--tile", "--genome", genome, "--step", 40], tmp_path, 4,
                                {"-o": ".tsv", "--bedgraph": ".bedGraph"})
    assert whole == joined


def test_more_shards_than_records(model, tmp_path):
    fa = write_fasta(tmp_path / "in.fa", random_records(2, 70))
    whole, joined = _run_shards(model, ["--fasta", fa], tmp_path, 5, {"-o": ".tsv"})
    assert whole == joined
