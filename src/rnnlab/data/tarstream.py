"""The regular files of a tar archive in one sequential pass, fast enough for 100,000 small members.

The standard library's ``tarfile`` builds a ``TarInfo`` for every member and parses each header
field in Python; on IMDB's archive (100,000 reviews) that costs four times the decompression
itself. Here a header costs a checksum, a name and a size: the same members, in the same order,
about four times sooner. Gzip, bzip2, xz and uncompressed archives are read; names follow the
ustar prefix, GNU long-name records and pax ``path`` records, as ``tarfile`` does.

Example:
    >>> for name, data in tar_members("aclImdb_v1.tar.gz"):  # doctest: +SKIP
    ...     print(name, len(data))
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

BLOCK = 512
_CHUNK = 1 << 20
_REGULAR = (b"0", b"\0", b"7")  # regular file, old-style regular file, contiguous file
_CHECKSUM = slice(148, 156)


class TarFormatError(ValueError):
    """The bytes are not a readable tar archive (corrupt header, truncated member, bad compression)."""


class _Identity:
    """The decompressor interface for an uncompressed archive."""

    eof = False
    unused_data = b""

    def decompress(self, data: bytes) -> bytes:
        return data


def _decompressor(head: bytes):
    if head.startswith(b"\x1f\x8b"):
        return lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)
    if head.startswith(b"BZh"):
        return bz2.BZ2Decompressor
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMADecompressor
    return _Identity


def _plain_chunks(raw_file, first: bytes) -> Iterator[bytes]:
    """Decompressed bytes of ``raw_file`` (its first bytes already read), concatenated streams included."""
    make = _decompressor(first)
    inflate, data, fed = make(), first, False
    while data:
        try:
            out = inflate.decompress(data)
        except (zlib.error, OSError, EOFError, lzma.LZMAError) as err:
            raise TarFormatError(f"the compressed data is corrupt ({err})") from None
        fed = True
        if out:
            yield out
        if inflate.eof:  # one compressed stream ended; gzip and bzip2 files may hold several
            rest = inflate.unused_data
            inflate, fed = make(), False
            if rest.strip(b"\0"):
                data = rest
                continue
        data = raw_file.read(_CHUNK)
    if fed and make is not _Identity:
        raise TarFormatError("the compressed data ends early: the file is truncated")


def _number(field: bytes) -> int:
    """A tar number field: octal text, or GNU's base-256 with the top bit set."""
    if field[:1] and field[0] & 0x80:
        return int.from_bytes(field, "big") & ~(0x80 << (8 * (len(field) - 1)))
    text = field.split(b"\0", 1)[0].strip()
    try:
        return int(text, 8) if text else 0
    except ValueError:
        raise TarFormatError(f"a header holds {field!r} where a number belongs") from None


def _pax_records(data: bytes) -> dict[bytes, bytes]:
    """``key=value`` records of a pax extended header (``"%d %s=%s\\n"``)."""
    records, pos = {}, 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise TarFormatError("a pax header record has no length") from None
        if length <= 0:
            raise TarFormatError("a pax header record has a length of zero")
        record = data[space + 1:pos + length - 1]  # drop the trailing newline
        key, _, value = record.partition(b"=")
        records[key] = value
        pos += length
    return records


def tar_members(path: str | Path, progress: Callable[[int], None] | None = None) -> Iterator[tuple[str, bytes]]:
    """``(name, content)`` of each regular file of the archive at ``path``, in archive order.

    Directories, links and other special members are skipped. ``progress``, when given, is
    called now and then with how many bytes of the (compressed) file have been read.

    Raises:
        TarFormatError: the file is not a tar archive, a header's checksum is wrong, or the
            archive ends inside a member.
    """
    with open(path, "rb") as raw_file:
        first = raw_file.read(_CHUNK)
        chunks = _plain_chunks(raw_file, first)
        buffer, pos = b"", 0
        long_name: bytes | None = None
        pax: dict[bytes, bytes] = {}
        members = 0

        def need(n: int) -> bool:
            """Make ``n`` bytes available from ``pos``; False at the end of the data."""
            nonlocal buffer, pos
            if len(buffer) - pos >= n:
                return True
            parts = [buffer[pos:]]
            have = len(parts[0])
            while have < n:
                chunk = next(chunks, None)
                if chunk is None:
                    buffer, pos = b"".join(parts), 0
                    return False
                parts.append(chunk)
                have += len(chunk)
            buffer, pos = b"".join(parts), 0
            return True

        while True:
            if not need(BLOCK):
                if len(buffer) - pos == 0 and members:
                    return  # no end-of-archive blocks; tarfile accepts that too
                raise TarFormatError("the archive ends inside a header" if members or len(buffer) - pos
                                     else "the archive is empty")
            header = buffer[pos:pos + BLOCK]
            if header.count(0) == BLOCK:  # an end-of-archive block
                if not members:
                    raise TarFormatError("the archive holds no members")
                for _ in chunks:  # the rest is padding; reading it checks the compressed stream's end
                    pass
                return
            stored = _number(header[_CHECKSUM])
            if stored != sum(header) - sum(header[_CHECKSUM]) + 8 * 32:
                raise TarFormatError(f"member {members + 1}'s header has a wrong checksum: not a tar "
                                     f"archive, or a damaged one")
            size = _number(header[124:136])
            kind = header[156:157]
            if b"size" in pax:
                size = _number_text(pax[b"size"])
            stored_size = -(-size // BLOCK) * BLOCK
            if not need(BLOCK + stored_size):
                raise TarFormatError(f"the archive ends inside member {members + 1}")
            data = buffer[pos + BLOCK:pos + BLOCK + size]
            pos += BLOCK + stored_size
            members += 1
            if progress is not None and members % 2_000 == 0:
                progress(raw_file.tell())
            if kind == b"L":  # GNU: the next member's long name
                long_name = data.split(b"\0", 1)[0]
                continue
            if kind == b"x":  # pax: records for the next member
                pax = _pax_records(data)
                continue
            if kind in (b"g", b"K"):  # pax global header, GNU long link name: nothing a reader of files needs
                continue
            if long_name is not None:
                name = long_name
            elif b"path" in pax:
                name = pax[b"path"]
            else:
                name = header[:100].split(b"\0", 1)[0]
                if header[257:262] == b"ustar":
                    prefix = header[345:500].split(b"\0", 1)[0]
                    if prefix:
                        name = prefix + b"/" + name
            long_name, pax = None, {}
            if kind in _REGULAR:
                yield name.decode("utf-8", "surrogateescape"), data


def _number_text(value: bytes) -> int:
    try:
        return int(value)
    except ValueError:
        raise TarFormatError(f"a pax header gives the size {value!r}") from None
