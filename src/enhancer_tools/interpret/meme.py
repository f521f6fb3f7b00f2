"""Known-motif databases: a MEME text file (the MEME suite's minimal format), or JASPAR from the
SQLite database inside the pyjaspar wheel (offline; nothing is downloaded at run time).

A motif is a name and a probability matrix [4, width] (A, C, G, T).
"""

from __future__ import annotations

import importlib.util
import os
import re
import sqlite3
from dataclasses import dataclass

import numpy as np

from enhancer_tools.errors import UserError

JASPAR_RELEASE = "JASPAR2024"
_WIDTH = re.compile(r"\bw=\s*(\d+)")


@dataclass
class Motif:
    """A known motif: ``name`` (e.g. 'MA0523.2 TCF7L2'), ``matrix`` [4, width] of probabilities."""

    name: str
    matrix: np.ndarray
    family: str = ""


def _matrix_row(line: str, path: str, number: int) -> list[float]:
    try:
        row = [float(x) for x in line.split()]
    except ValueError:
        raise UserError(f"line {number}: a matrix row must hold 4 numbers, not {line.strip()[:40]!r}", path) from None
    if len(row) != 4 or min(row) < 0:
        raise UserError(f"line {number}: a matrix row must hold 4 non-negative numbers (A C G T)", path)
    return row


def read_meme(path: str) -> list[Motif]:
    """Motifs of a MEME file; UserError with the line number when it is malformed (a MOTIF
    without a ``letter-probability matrix`` line, a short or non-numeric matrix, no motif)."""
    motifs: list[Motif] = []
    name, width, rows = None, 0, []
    try:
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if name is not None and width and len(rows) < width:
                    rows.append(_matrix_row(line, path, number))
                    if len(rows) == width:
                        motifs.append(Motif(name, np.array(rows).T))
                        name, width, rows = None, 0, []
                elif line.startswith("MOTIF"):
                    if name is not None:
                        raise UserError(f"line {number}: motif {name!r} has no letter-probability matrix", path)
                    name = " ".join(line[5:].split()) or f"motif_{len(motifs) + 1}"
                elif name is not None and line.startswith("letter-probability"):
                    found = _WIDTH.search(line)
                    if not found or int(found.group(1)) < 1:
                        raise UserError(f"line {number}: letter-probability matrix line without w=WIDTH", path)
                    width = int(found.group(1))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the MEME file ({exc.__class__.__name__})", path) from None
    if name is not None:
        raise UserError(f"motif {name!r} ends before its matrix is complete ({len(rows)} of {width or '?'} rows)", path)
    if not motifs:
        raise UserError("no motifs found (a MEME file has 'MOTIF name' lines, each followed by a "
                        "'letter-probability matrix: ... w=N' line and N rows of 4 numbers)", path)
    return motifs


def jaspar_path(release: str = JASPAR_RELEASE) -> str:
    """The SQLite database of a JASPAR release inside the installed pyjaspar package."""
    spec = importlib.util.find_spec("pyjaspar")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("known-motif matching against JASPAR needs the pyjaspar package (pip install pyjaspar), "
                        "or give --motifs FILE.meme")
    path = os.path.join(next(iter(spec.submodule_search_locations)), "data", f"{release}.sqlite")
    if not os.path.exists(path):
        raise UserError(f"this pyjaspar has no {release} database", path)
    return path


def read_jaspar(release: str = JASPAR_RELEASE, tax_group: str = "vertebrates", collection: str = "CORE") -> list[Motif]:
    """The latest version of each matrix of a JASPAR collection and taxonomic group, as
    probabilities (counts normalised per column), named 'MA0523.2 TCF7L2'."""
    query = """
        SELECT m.ID, m.BASE_ID, m.VERSION, m.NAME,
               (SELECT VAL FROM MATRIX_ANNOTATION f WHERE f.ID = m.ID AND f.TAG = 'family')
        FROM MATRIX m JOIN MATRIX_ANNOTATION a ON a.ID = m.ID
        WHERE m.COLLECTION = ? AND a.TAG = 'tax_group' AND a.VAL = ?"""
    with sqlite3.connect(f"file:{jaspar_path(release)}?mode=ro", uri=True) as db:
        latest: dict[str, tuple] = {}
        for row in db.execute(query, (collection, tax_group)):
            if row[1] not in latest or row[2] > latest[row[1]][2]:
                latest[row[1]] = row
        motifs = []
        for matrix_id, base_id, version, name, family in sorted(latest.values(), key=lambda r: r[1]):
            cells = db.execute("SELECT row, col, val FROM MATRIX_DATA WHERE ID = ?", (matrix_id,)).fetchall()
            width = max(col for _, col, _ in cells)
            counts = np.zeros((4, width))
            for letter, col, val in cells:
                counts["ACGT".index(letter.upper()), col - 1] = val
            motifs.append(Motif(f"{base_id}.{version} {name}", counts / counts.sum(axis=0, keepdims=True),
                                family or ""))
    if not motifs:
        raise UserError(f"{release} has no {collection} motifs of the taxonomic group {tax_group!r}")
    return motifs
