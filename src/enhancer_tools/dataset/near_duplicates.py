"""Near-duplicate clustering and search with vsearch (both strands), not a hand-written aligner.

vsearch compares upper-cased sequences (``--qmask none``: soft-masked letters count like any
other), keeps full labels and accepts sequences of any length.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable

from enhancer_tools.errors import UserError

_COMMON = ["--strand", "both", "--qmask", "none", "--minseqlength", "1", "--notrunclabels", "--quiet"]


def vsearch_path() -> str:
    """The vsearch executable, or a UserError saying how to get it."""
    exe = shutil.which("vsearch")
    if exe is None:
        raise UserError(
            "near-duplicate options need vsearch on the PATH (Debian/Ubuntu: apt install vsearch; "
            "conda: conda install -c bioconda vsearch)"
        )
    return exe


def _write(path: str, seqs: Iterable[tuple[int, bytes]]) -> int:
    n = 0
    with open(path, "wb") as fh:
        for i, s in seqs:
            fh.write(b">%d\n%s\n" % (i, s.upper()))
            n += 1
    return n


def _run(args: list[str]) -> None:
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise UserError(f"vsearch failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")


def cluster(seqs: Iterable[tuple[int, bytes]], identity: float, threads: int = 1) -> dict[int, int]:
    """Greedy clustering (vsearch --cluster_fast) of (index, sequence) pairs at ``identity``.

    Returns {index: centroid index} for every sequence given.
    """
    exe = vsearch_path()
    with tempfile.TemporaryDirectory(prefix="enh-vsearch-") as tmp:
        fa, uc = os.path.join(tmp, "in.fa"), os.path.join(tmp, "out.uc")
        if not _write(fa, seqs):
            return {}
        _run([exe, "--cluster_fast", fa, "--id", str(identity), "--uc", uc, "--threads", str(threads), *_COMMON])
        centroid = {}
        with open(uc) as fh:
            for line in fh:
                f = line.rstrip("\n").split("\t")
                if f[0] == "S":
                    centroid[int(f[8])] = int(f[8])
                elif f[0] == "H":
                    centroid[int(f[8])] = int(f[9])
    return centroid


def search(queries: Iterable[tuple[int, bytes]], database: Iterable[tuple[int, bytes]], identity: float, threads: int = 1) -> dict[int, int]:
    """For each query (index, sequence), a database index at >= ``identity`` (vsearch
    --usearch_global, both strands); queries without such a hit are absent."""
    exe = vsearch_path()
    with tempfile.TemporaryDirectory(prefix="enh-vsearch-") as tmp:
        q, db, out = (os.path.join(tmp, n) for n in ("q.fa", "db.fa", "hits.tsv"))
        if not _write(q, queries) or not _write(db, database):
            return {}
        _run([exe, "--usearch_global", q, "--db", db, "--id", str(identity), "--userout", out,
              "--userfields", "query+target", "--maxaccepts", "1", "--threads", str(threads), *_COMMON])
        with open(out) as fh:
            return {int(a): int(b) for a, b in (line.split() for line in fh if line.strip())}
