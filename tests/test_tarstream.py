"""The fast tar reader gives the regular files ``tarfile`` gives, in the same order, or a clear error."""

from __future__ import annotations

import io
import tarfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnlab.data.tarstream import TarFormatError, tar_members

pytestmark = pytest.mark.timeout(300)

# Names short and long (past ustar's 100-byte name and 155-byte prefix), ASCII and not.
SEGMENT = st.text(st.characters(codec="utf-8", exclude_characters="/\0", exclude_categories=("Cs",)),
                  min_size=1, max_size=40).filter(lambda s: s not in (".", ".."))
NAME = st.lists(SEGMENT, min_size=1, max_size=8).map("/".join)
MEMBER = st.tuples(NAME, st.binary(max_size=2_000), st.sampled_from(["file", "dir", "link"]))
FORMATS = {"gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT}
MODES = ["w", "w:gz", "w:bz2", "w:xz"]


def _archive(members, fmt: str, mode: str) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode, format=FORMATS[fmt]) as tar:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                info.type = tarfile.DIRTYPE if kind == "dir" else tarfile.SYMTYPE
                info.linkname = "elsewhere"
                tar.addfile(info)
    return out.getvalue()


def _tarfile_files(path) -> list[tuple[str, bytes]]:
    with tarfile.open(path, "r|*") as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar if m.isfile()]


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(members=st.lists(MEMBER, min_size=1, max_size=6), fmt=st.sampled_from(sorted(FORMATS)),
       mode=st.sampled_from(MODES))
def test_same_files_as_tarfile(tmp_path, members, fmt, mode):
    path = tmp_path / "a.tar"
    path.write_bytes(_archive(members, fmt, mode))
    assert list(tar_members(path)) == _tarfile_files(path)


def test_real_imdb_archive_matches_tarfile(imdb_archive):
    ours = tar_members(imdb_archive)
    with tarfile.open(imdb_archive, "r|gz") as tar:
        for member in tar:
            if member.isfile():
                name, data = next(ours)
                assert (name, data) == (member.name, tar.extractfile(member).read())
    assert next(ours, None) is None


@pytest.mark.parametrize("mode", MODES)
def test_truncated_and_damaged_archives_raise(tmp_path, mode):
    whole = _archive([("a/b.txt", b"x" * 3_000, "file"), ("a/c.txt", b"y" * 700, "file")], "gnu", mode)
    path = tmp_path / "a.tar"
    for cut in (700, 2_000, 4_000) if mode == "w" else (len(whole) // 3, len(whole) // 2, len(whole) - 8):
        path.write_bytes(whole[:cut])
        with pytest.raises(TarFormatError):
            list(tar_members(path))
    if mode == "w":  # a changed header byte breaks the checksum
        damaged = bytearray(whole)
        damaged[10] ^= 0x20
        path.write_bytes(bytes(damaged))
        with pytest.raises(TarFormatError, match="checksum"):
            list(tar_members(path))
    for junk in (b"", b"hello", bytes(1024)):
        path.write_bytes(junk)
        with pytest.raises(TarFormatError):
            list(tar_members(path))
