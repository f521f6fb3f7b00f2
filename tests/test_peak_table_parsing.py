"""The vectorised peak parser agrees with the line-by-line reader (io.intervals) on every line."""

import random

from enhancer_tools.genome import windows as W
from enhancer_tools.genome.summit_windows import Rejects, build_peak_table
from enhancer_tools.io.intervals import read_intervals


def random_line(rng):
    start = rng.randrange(0, 10**9)
    end = start + rng.randrange(-2, 2000)
    cols = ["chr1", str(start), str(end), f"p{rng.randrange(100)}", "0", rng.choice(".+-"), "1.5", "2", "3",
            str(rng.choice([-1, -2, 0, 5, end - start]))]
    kind = rng.randrange(12)
    if kind == 0:
        cols[1] = "+" + cols[1]
    elif kind == 1:
        cols[2] = "1e5"
    elif kind == 2:
        cols = cols[:6]
    elif kind == 3:
        cols[5] = "x"
    elif kind == 4:
        return " ".join(cols)
    elif kind == 5:
        cols[9] = "-1"
    elif kind == 6:
        return "# comment"
    elif kind == 7:
        cols[1] = "0" * 14 + "5"
    return "\t".join(cols)


def test_vectorised_and_line_parsers_agree(tmp_path):
    rng = random.Random(3)
    path = tmp_path / "p.narrowPeak"
    path.write_text("track x\n" + "\n".join(random_line(rng) for _ in range(3000)) + "\n")
    bad = {}
    expected = {iv.line: iv for iv in read_intervals(path, on_bad=lambda n, text, why: bad.__setitem__(n, why))}
    rejects = Rejects()
    table = build_peak_table(str(path), {"chr1": 2 * 10**9}, W.ChromFilter(), rejects, None, None)
    assert {n: d for n, (_, d) in rejects.rows.items()} == bad
    assert sorted(table.line.tolist()) == sorted(expected)
    for line, start, end, offset, strand in zip(table.line.tolist(), table.start.tolist(), table.end.tolist(),
                                                table.offset.tolist(), table.strand.tolist()):
        iv = expected[line]
        assert (start, end, "." if strand == 0 else "+-"[strand - 1]) == (iv.start, iv.end, iv.strand)
        assert offset == (-1 if iv.summit is None else iv.summit - iv.start)
