"""Compile `recurrent.cc` with this machine's C++ compiler into rnnlab's cache, once.

The library is built for this CPU (`-march=native`) against the XLA FFI headers of the
installed jaxlib, so its file name carries a digest of the source, the flags, the compiler,
jaxlib's version and the CPU's features: a change to any of them builds a new file, and a folder
shared by different machines never hands one of them another's instructions. `make install`
builds it (`python -m rnnlab.models.kernels`); otherwise the first model that needs it does,
under a lock, so processes started together build it once.

It is part of the installation, not of the data cache: it lives in ``$RNNLAB_KERNEL_DIR``, else
in a ``build`` folder beside this file when the installation is writable, else in rnnlab's
cache folder. Emptying the data cache does not rebuild it.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

SOURCE = Path(__file__).with_name("recurrent.cc")
FLAGS = ("-O3", "-march=native", "-fno-trapping-math", "-std=c++17", "-shared", "-fPIC")
COMPILER_ENV = "CXX"
KERNEL_DIR_ENV = "RNNLAB_KERNEL_DIR"


class KernelBuildError(RuntimeError):
    """The recurrent kernels could not be compiled (no compiler, or it failed)."""


def compiler() -> str | None:
    """The C++ compiler to use: ``$CXX``, else ``g++``, else ``c++``; None when there is none."""
    explicit = os.environ.get(COMPILER_ENV)
    if explicit:
        return shutil.which(explicit) or explicit
    return shutil.which("g++") or shutil.which("c++")


def _cpu_features() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return line
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _compiler_version(cxx: str) -> str:
    try:
        return subprocess.run([cxx, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def library_dir() -> Path:
    """The folder of compiled kernels (see the module's note)."""
    explicit = os.environ.get(KERNEL_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    beside = SOURCE.parent / "build"
    if os.access(beside if beside.is_dir() else SOURCE.parent, os.W_OK):
        return beside
    from rnnlab.data.locate import cache_dir

    return cache_dir() / "kernels"


def library_path(cxx: str | None = None) -> Path:
    """Where this machine's build of the kernels lives (whether or not it is built yet)."""
    import jaxlib

    cxx = cxx or compiler() or "c++"
    digest = hashlib.sha256()
    for part in (SOURCE.read_bytes(), " ".join(FLAGS).encode(), _compiler_version(cxx).encode(),
                 jaxlib.__version__.encode(), _cpu_features().encode(), platform.machine().encode()):
        digest.update(part)
        digest.update(b"\0")
    return library_dir() / f"recurrent-{digest.hexdigest()[:16]}.so"


def build() -> Path:
    """The compiled library's path, compiling it first when this machine has no build yet."""
    import jax.ffi

    from rnnlab.data.textcache import building

    cxx = compiler()
    if cxx is None:
        raise KernelBuildError(f"no C++ compiler found (install g++ or set {COMPILER_ENV})")
    target = library_path(cxx)
    if target.exists():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise KernelBuildError(f"cannot make {target.parent} ({err.strerror or err}); set {KERNEL_DIR_ENV}") from None
    with building(target):
        if target.exists():  # built by another process while this one waited
            return target
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".so", dir=target.parent)
        os.close(fd)
        command = [cxx, *FLAGS, f"-I{jax.ffi.include_dir()}", str(SOURCE), "-o", tmp]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["no message"])[-1]
                raise KernelBuildError(f"{cxx} failed ({last})")
            os.replace(tmp, target)
        except (OSError, subprocess.SubprocessError) as err:
            raise KernelBuildError(f"{cxx} could not run ({err})") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return target
