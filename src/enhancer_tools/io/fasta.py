"""Streaming FASTA reader and writer.

Reads plain, gzip and bgzip files; LF or CRLF line ends; wrapped or single-line records;
blank lines anywhere. Sequence case is kept (soft-masking matters to some users), so callers
upper-case where they need to.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from enhancer_tools.errors import UserError
from enhancer_tools.io.compressed import open_binary
from enhancer_tools.seq import invalid_characters


@dataclass(slots=True)
class FastaRecord:
    """One FASTA record: ``id`` is the header up to the first whitespace, ``description`` the
    rest of the header, ``line`` the 1-based line number of the header."""

    id: str
    description: str
    seq: str
    line: int


def _record(header: bytes, chunks: list[bytes], chunk_lines: list[int], path, line: int, validate: bool) -> FastaRecord:
    seq = b"".join(chunks)
    if validate:
        bad = invalid_characters(seq)
        if bad:
            shown = "".join(sorted({chr(b) if 32 < b < 127 else f"\\x{b:02x}" for b in bad}))
            bad_line = next(n for chunk, n in zip(chunks, chunk_lines) if invalid_characters(chunk))
            raise UserError(
                f"sequence has characters that are not IUPAC DNA: {shown!r} "
                "(expected A, C, G, T, N or other IUPAC codes, either case)",
                path,
                bad_line,
            )
    try:
        text = header.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError("header is not valid UTF-8 text", path, line) from None
    parts = text[1:].strip().split(None, 1)
    if not parts:
        raise UserError("FASTA header has no identifier after '>'", path, line)
    return FastaRecord(parts[0], parts[1] if len(parts) > 1 else "", seq.decode("ascii"), line)


def read_fasta(path: str | os.PathLike, validate: bool = True) -> Iterator[FastaRecord]:
    """Yield the records of a FASTA file in order.

    Raises UserError (with file and line) for text before the first header, a header without
    an identifier, non-IUPAC characters (when ``validate``), an empty file, or a damaged gzip
    stream. A record may have an empty sequence; callers decide what that means.
    """
    fh = open_binary(path)
    line_no = 0
    n = 0
    header: bytes | None = None
    header_line = 0
    chunks: list[bytes] = []
    chunk_lines: list[int] = []  # line number of each chunk, to point at a bad character
    try:
        with fh:
            for raw in fh:
                line_no += 1
                line = raw.rstrip(b"\r\n")
                if not line:
                    continue
                if line[:1] == b">":
                    if header is not None:
                        n += 1
                        yield _record(header, chunks, chunk_lines, path, header_line, validate)
                    header, header_line, chunks, chunk_lines = line, line_no, [], []
                elif header is None:
                    if line.strip() and not line.startswith(b";"):
                        raise UserError(
                            "text before the first '>' header: not a FASTA file?", path, line_no
                        )
                else:
                    chunks.append(line.strip() if line[-1:] in b" \t" else line)
                    chunk_lines.append(line_no)
            if header is not None:
                n += 1
                yield _record(header, chunks, chunk_lines, path, header_line, validate)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise UserError(f"damaged or truncated gzip stream ({exc})", path, line_no or None) from None
    if n == 0:
        raise UserError("no FASTA records found (empty file?)", path)


def write_fasta(fh: TextIO, name: str, seq: str, width: int = 0) -> None:
    """Write one record; ``name`` is the whole header text after '>'. ``width`` 0 = one line."""
    fh.write(f">{name}\n")
    if width and len(seq) > width:
        for i in range(0, len(seq), width):
            fh.write(seq[i : i + width])
            fh.write("\n")
    else:
        fh.write(seq)
        fh.write("\n")
