"""Model zips (how models travel between Galaxy tools) are unpacked safely: exactly one model
folder, no links or escaping names, bounded members and bytes, nothing left behind on refusal."""

import io
import os
import shutil
import stat
import struct
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest

from enhancer_tools.errors import UserError
from enhancer_tools.io import model_archive
from enhancer_tools.io.model_archive import main, unpack_model_archive

ROOT = Path(__file__).resolve().parents[1]
OUR_LAYOUT = {"model.json": b'{"kind": "kmer", "format_version": 1}\n', "config.json": b"{}\n",
              "model.safetensors": b"\0" * 64, "calibration.json": b"{}\n",
              "provenance.json": b"{}\n"}


def _zip(path, members, method=zipfile.ZIP_DEFLATED):
    """Write ``members`` [(name, bytes or None for a folder, unix mode or None)] as given."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names we craft
        with zipfile.ZipFile(path, "w", method) as zf:
            for name, data, mode in members:
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = method
                if data is None:
                    info.external_attr = ((mode or 0o40755) << 16) | 0x10
                    data = b""
                else:
                    info.external_attr = (mode or 0o100644) << 16
                zf.writestr(info, data)
    return path


def _model(prefix="model/", files=OUR_LAYOUT, folder_entry=True):
    members = [(prefix, None, None)] if prefix and folder_entry else []
    return members + [(prefix + name, data, None) for name, data in files.items()]


def _tree(path):
    return sorted(str(p.relative_to(path)) for p in Path(path).rglob("*"))


# ---------------------------------------------------------------- archives that unpack


def test_our_layout_in_a_top_folder(tmp_path):
    archive = _zip(tmp_path / "m.zip", _model("model/"))
    dest = tmp_path / "out"
    got = unpack_model_archive(archive, dest)
    assert got == os.path.join(dest, "model")
    assert sorted(os.listdir(got)) == sorted(OUR_LAYOUT)
    assert (Path(got) / "model.safetensors").read_bytes() == OUR_LAYOUT["model.safetensors"]
    assert _tree(dest) == ["model"] + [f"model/{n}" for n in sorted(OUR_LAYOUT)]


def test_model_at_the_archive_root_without_folder_entries(tmp_path):
    archive = _zip(tmp_path / "m.zip", _model(""))
    dest = tmp_path / "out"
    dest.mkdir()  # an existing empty folder is fine
    assert unpack_model_archive(archive, dest) == str(dest)
    assert sorted(os.listdir(dest)) == sorted(OUR_LAYOUT)


def test_hugging_face_folder_with_subfolders_and_macos_litter(tmp_path):
    hf = {"config.json": b"{}", "model.safetensors": b"w" * 10, "tokenizer.json": b"{}",
          "tokenizer_config.json": b"{}", "bert_layers.py": b"# code\n"}
    members = _model("DNABERT-2-117M/", hf, folder_entry=False)
    members += [("DNABERT-2-117M/extra/notes.txt", b"hi", None),
                ("__MACOSX/DNABERT-2-117M/._config.json", b"junk", None)]
    archive = _zip(tmp_path / "hf.zip", members)
    got = unpack_model_archive(archive, tmp_path / "out")
    assert got == os.path.join(tmp_path / "out", "DNABERT-2-117M")
    assert "__MACOSX" not in os.listdir(tmp_path / "out")
    assert (Path(got) / "extra" / "notes.txt").read_bytes() == b"hi"


def test_round_trip_of_the_zip_model_macro_and_a_dot_prefix(tmp_path, monkeypatch):
    """@ZIP_MODEL@ runs `python3 -m zipfile -c MODEL.zip model/` in the job folder."""
    (tmp_path / "model").mkdir()
    for name, data in OUR_LAYOUT.items():
        (tmp_path / "model" / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    zipfile.main(["-c", "made.zip", "model/"])
    got = unpack_model_archive("made.zip", "out")
    assert got == os.path.join("out", "model") and sorted(os.listdir(got)) == sorted(OUR_LAYOUT)
    archive = _zip(tmp_path / "dot.zip", _model("./model/"))
    assert unpack_model_archive(archive, tmp_path / "out2") == os.path.join(tmp_path / "out2", "model")


def test_the_galaxy_test_model_unpacks(tmp_path):
    got = unpack_model_archive(ROOT / "test-data" / "galaxy" / "enhancernet_tiny.zip", tmp_path / "out")
    assert os.path.isfile(os.path.join(got, "model.json"))


def test_files_get_the_umask_not_the_archive_modes(tmp_path):
    archive = _zip(tmp_path / "m.zip", [("model/config.json", b"{}", 0o104777),  # setuid + 777
                                        ("model/run.sh", b"echo", 0o100777)])
    old = os.umask(0o027)
    try:
        got = unpack_model_archive(archive, tmp_path / "out")
    finally:
        os.umask(old)
    for name in ("config.json", "run.sh"):
        assert stat.S_IMODE(os.stat(os.path.join(got, name)).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(got).st_mode) == 0o750


def test_command_prints_the_model_dir(tmp_path, capsys):
    archive = _zip(tmp_path / "m.zip", _model("model/"))
    assert main([str(archive), str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert captured.out == os.path.join(str(tmp_path / "out"), "model") + "\n"
    assert captured.err == ""


# ---------------------------------------------------------------- archives that are refused


def _lying_size(path):
    """A 1 MiB member whose central-directory and local headers declare 10 bytes."""
    _zip(path, _model("model/", {"config.json": b"{}", "model.safetensors": b"\0" * 2**20}))
    data = bytearray(path.read_bytes())
    for sig, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        start = 0
        while (at := data.find(sig, start)) >= 0:
            name_len = struct.unpack_from("<H", data, at + (28 if sig == b"PK\x01\x02" else 26))[0]
            name_at = at + (46 if sig == b"PK\x01\x02" else 30)
            if bytes(data[name_at:name_at + name_len]).endswith(b"model.safetensors"):
                struct.pack_into("<I", data, at + offset, 10)
            start = at + 4
    path.write_bytes(bytes(data))
    return path


def _corrupt_last_member(path):
    """Good central directory, but the last member's deflate data is garbage: the members before
    it are extracted first, so this checks that they are removed again."""
    _zip(path, _model("model/", {"config.json": b"{}", "model.json": b"{}",
                                 "model.safetensors": os.urandom(4096)}), method=zipfile.ZIP_STORED)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("model/model.safetensors")
    data = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    data[start:start + 16] = b"\xff" * 16  # stored: the CRC check fails
    path.write_bytes(bytes(data))
    return path


BAD = {
    # id: (build(path) -> path, limits, part of the message)
    "too_many_members": (lambda p: _zip(p, _model("model/") + [(f"model/x{i}", b"", None) for i in range(5)]),
                         {"max_members": 8}, "members, more than the limit of 8"),
    "too_big_declared": (lambda p: _zip(p, _model("model/", {"config.json": b"{}", "w": b"\0" * 50_000})),
                         {"max_total_bytes": 10_000}, "more than the limit of 9.8 KiB"),
    "size_header_lies": (_lying_size, {}, "model.safetensors"),
    "symlink": (lambda p: _zip(p, _model("model/") + [("model/evil", b"/etc/passwd", 0o120777)]),
                {}, "member 'model/evil' is a symbolic link"),
    "fifo": (lambda p: _zip(p, _model("model/") + [("model/pipe", b"", 0o010644)]), {}, "is a named pipe"),
    "absolute_name": (lambda p: _zip(p, _model("model/") + [("/tmp/evil.txt", b"x", None)]),
                      {}, "member '/tmp/evil.txt' has an absolute path"),
    "dotdot_name": (lambda p: _zip(p, _model("model/") + [("model/../../evil.txt", b"x", None)]),
                    {}, "has a '..' component"),
    "backslash_name": (lambda p: _zip(p, _model("model/") + [("model\\..\\evil.txt", b"x", None)]),
                       {}, "contains a backslash"),
    "drive_letter": (lambda p: _zip(p, _model("model/") + [("C:/evil.txt", b"x", None)]),
                     {}, "starts with a drive letter"),
    "control_chars": (lambda p: _zip(p, _model("model/") + [("model/a\nb", b"x", None)]),
                      {}, "control characters"),
    "duplicate_name": (lambda p: _zip(p, _model("model/") + [("model/config.json", b"{}", None)]),
                       {}, "member 'model/config.json' appears more than once"),
    "file_and_folder": (lambda p: _zip(p, _model("model/") + [("model/sub", b"x", None), ("model/sub/y", b"y", None)]),
                        {}, "is a file but other members lie inside it"),
    "two_model_dirs": (lambda p: _zip(p, _model("a/") + _model("b/")), {}, "holds 2 model folders (a/, b/"),
    "nested_checkpoint": (lambda p: _zip(p, _model("model/") + _model("model/checkpoint-1/")),
                          {}, "holds 2 model folders"),
    "no_model_dir": (lambda p: _zip(p, [("model/", None, None), ("model/model.json", b"{}", None)]),
                     {}, "holds no config.json"),
    "empty_zip": (lambda p: _zip(p, []), {}, "holds no config.json"),
    "too_deep": (lambda p: _zip(p, _model("a/b/")), {}, "lies more than one folder deep"),
    "file_beside_model": (lambda p: _zip(p, _model("model/") + [("README.txt", b"x", None)]),
                          {}, "holds 'README.txt' beside the model folder model/"),
    "encrypted_flag": (lambda p: _encrypted(p), {}, "is encrypted"),
    "not_a_zip": (lambda p: (p.write_text(">s1\nACGT\n"), p)[1], {}, "is not a zip archive"),
    "truncated_zip": (lambda p: (_zip(p, _model("model/")), p.write_bytes(p.read_bytes()[:-30]), p)[2],
                      {}, "is not a zip archive or is corrupt"),
    "corrupt_member": (_corrupt_last_member, {}, "member 'model/model.safetensors' is corrupt"),
}


def _encrypted(path):
    _zip(path, _model("model/"))
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")  # first central-directory entry: set the encryption flag
    struct.pack_into("<H", data, at + 8, struct.unpack_from("<H", data, at + 8)[0] | 1)
    path.write_bytes(bytes(data))
    return path


def _cli_limits(limits):
    args = []
    if "max_members" in limits:
        args += ["--max-members", str(limits["max_members"])]
    if "max_total_bytes" in limits:
        args += ["--max-bytes", str(limits["max_total_bytes"])]
    return args


@pytest.mark.parametrize("case", sorted(BAD))
def test_refused_by_the_function(tmp_path, case):
    build, limits, message = BAD[case]
    archive = build(tmp_path / "bad.zip")
    dest = tmp_path / "out"
    with pytest.raises(UserError) as caught:
        unpack_model_archive(archive, dest, **limits)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(archive) + ": ")
    assert not dest.exists()
    assert sorted(os.listdir(tmp_path)) == ["bad.zip"]


@pytest.mark.parametrize("case", sorted(BAD))
def test_refused_by_the_command_exit_2_one_line(tmp_path, case, capsys):
    build, limits, message = BAD[case]
    archive = build(tmp_path / "bad.zip")
    dest = tmp_path / "out"
    dest.mkdir()  # an existing empty folder is emptied again, not removed
    assert main([str(archive), str(dest), *_cli_limits(limits)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith(f"Error: {archive}: ") and message in line
    assert "Traceback" not in captured.err
    assert list(dest.iterdir()) == []


def test_dest_not_empty_is_refused_and_left_alone(tmp_path, capsys):
    archive = _zip(tmp_path / "m.zip", _model("model/"))
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="is not empty"):
        unpack_model_archive(archive, dest)
    assert main([str(archive), str(dest)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"Error: {dest}: is not empty; unpack into a new or empty folder"]
    assert _tree(dest) == ["keep.txt"] and (dest / "keep.txt").read_text() == "mine"


def test_dest_is_a_file(tmp_path):
    archive = _zip(tmp_path / "m.zip", _model("model/"))
    (tmp_path / "out").write_text("x")
    with pytest.raises(UserError, match="is not a folder"):
        unpack_model_archive(archive, tmp_path / "out")


def test_missing_archive(tmp_path, capsys):
    assert main([str(tmp_path / "absent.zip"), str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.splitlines() == [f"Error: {tmp_path / 'absent.zip'}: no such file"]


def test_member_count_is_checked_before_the_central_directory_is_read(tmp_path, monkeypatch):
    archive = _zip(tmp_path / "m.zip", _model("model/"))

    def no_parse(*args, **kwargs):
        raise AssertionError("ZipFile opened")

    monkeypatch.setattr(zipfile, "ZipFile", no_parse)
    with pytest.raises(UserError, match="holds 6 members, more than the limit of 3"):
        unpack_model_archive(archive, tmp_path / "out", max_members=3)


@pytest.mark.parametrize("declared, budget, message", [
    (10, 1000, "expands to more than the 10 bytes its header declares"),
    (5000, 100, "expands past the limit on unpacked size"),
])
def test_streamed_copy_counts_the_real_bytes(declared, budget, message):
    out = io.BytesIO()
    with pytest.raises(UserError, match=message):
        model_archive._copy_limited(io.BytesIO(b"x" * 3000), out, declared, budget, "m/w", "a.zip")
    assert len(out.getvalue()) <= max(0, min(declared, budget))


def test_the_galaxy_failure_test_data_is_refused(tmp_path):
    """tools/score-regions/score-regions.xml expects this message from its bad model zip."""
    archive = ROOT / "test-data" / "galaxy" / "bad_model_dotdot.zip"
    with pytest.raises(UserError, match=r"member 'model/\.\./\.\./outside\.txt' has a '\.\.' component"):
        unpack_model_archive(archive, tmp_path / "out")
    assert archive.stat().st_size < 1000
    assert "bad_model_dotdot.zip" in (ROOT / "tools" / "score-regions" / "score-regions.xml").read_text()


def test_python_m_and_console_script_without_heavy_imports(tmp_path):
    archive = _zip(tmp_path / "m.zip", _model("model/"))
    code = ("import sys\nfrom enhancer_tools.io.model_archive import main\nrc = main(sys.argv[1:])\n"
            "heavy = [m for m in ('torch', 'transformers', 'tokenizers', 'numpy', 'click') if m in sys.modules]\n"
            "assert not heavy, heavy\nsys.exit(rc)\n")
    out = subprocess.run([sys.executable, "-c", code, str(archive), str(tmp_path / "a")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == os.path.join(str(tmp_path / "a"), "model") + "\n"
    out = subprocess.run([sys.executable, "-m", "enhancer_tools.io.model_archive", str(tmp_path / "absent.zip"),
                          str(tmp_path / "b")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stderr.startswith("Error: ") and len(out.stderr.splitlines()) == 1
    script = shutil.which("enhancer-unpack-model", path=os.path.dirname(sys.executable))
    # the Galaxy wrappers call this console script: its absence is a broken install, not a skip
    assert script is not None, "enhancer-unpack-model is not installed next to this interpreter (pip install -e .)"
    out = subprocess.run([script, str(archive), str(tmp_path / "c")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == os.path.join(str(tmp_path / "c"), "model")
