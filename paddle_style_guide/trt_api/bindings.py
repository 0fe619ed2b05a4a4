"""Fetch the real TensorRT binding wheels and record their API surfaces.

No TensorRT runtime can be installed on the machines that build this site, but
the Python binding wheels on PyPI are real: ``tensorrt.so`` is the actual
pybind11 module, it only needs ``libnvinfer.so.N``, ``libnvonnxparser.so.N``
and ``libnvinfer_plugin.so.N`` to load.  We download each pinned wheel with
``pip download --no-deps``, verify its SHA-256, unpack it under
``.cache/trt_api/``, build a stub library with gcc that exports the entry points
the module links against (each one aborts loudly if ever called; introspection
never calls them), import the module in a fresh interpreter and dump its API
surface to JSON.  TensorRT-RTX is introspected from the installed
``tensorrt_rtx_bindings`` (it loads as it is).

Each surface file carries its key (wheel SHA-256, version, introspector hash)
and a checksum of its content; :func:`load_surfaces` rebuilds any file whose
key or checksum does not match.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .surface import Surface

REPO_ROOT = Path(__file__).resolve().parents[2]
INTROSPECTOR = Path(__file__).with_name("_introspect.py")
SCHEMA = 1


class BindingsError(RuntimeError):
    """A setup step failed; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class Target:
    """One TensorRT Python API to introspect."""

    key: str  # what ``# trt-api:`` claims and reports use: "10", "11", "rtx"
    module: str  # the public module name: "tensorrt" or "tensorrt_rtx"
    package: str  # the importable binding package inside the wheel
    version: str
    product: str  # for messages: "TensorRT", "TensorRT-RTX"
    requirement: str | None = None  # pip requirement; None = use the installed package
    wheel: str | None = None  # exact file name pip must produce
    sha256: str | None = None  # of the wheel file

    @property
    def label(self) -> str:
        return f"{self.product} {self.version}"


# 10.16.1.11 is the newest 10.x release; its API is a strict superset of
# 10.13.0.35 (no name removed, 475 added), so it stands for "TensorRT 10".
WHEEL_PLATFORM = "manylinux_2_28_x86_64"
WHEEL_PYTHON = "3.11"
TARGETS = (
    Target(
        key="10",
        module="tensorrt",
        package="tensorrt_bindings",
        version="10.16.1.11",
        product="TensorRT",
        requirement="tensorrt-cu12-bindings==10.16.1.11",
        wheel="tensorrt_cu12_bindings-10.16.1.11-cp311-none-manylinux_2_28_x86_64.whl",
        sha256="150ef2b672487e29a8ea916353467c3e199994fb33589167e3641a928e243aa7",
    ),
    Target(
        key="11",
        module="tensorrt",
        package="tensorrt_bindings",
        version="11.4.0.106",
        product="TensorRT",
        requirement="tensorrt-cu13-bindings==11.4.0.106",
        wheel="tensorrt_cu13_bindings-11.4.0.106-cp311-none-manylinux_2_28_x86_64.whl",
        sha256="d072ac2a095e2be749fefc847adfb25d5ebe70303401df62ede8fe67a59f27fc",
    ),
    Target(
        key="rtx",
        module="tensorrt_rtx",
        package="tensorrt_rtx_bindings",
        version="1.7.1.116",  # pinned in requirements.txt
        product="TensorRT-RTX",
    ),
)
TARGETS_BY_KEY = {t.key: t for t in TARGETS}


def cache_dir() -> Path:
    """``.cache/trt_api`` in the repository, or ``$TRT_API_CACHE``."""
    return Path(os.environ.get("TRT_API_CACHE") or REPO_ROOT / ".cache" / "trt_api")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _lock(root: Path):
    """Serialise installs between concurrent processes (pytest + CLI)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _check_host() -> None:
    here = f"{sys.implementation.name} {sys.version_info[0]}.{sys.version_info[1]} on {sys.platform}/{platform.machine()}"
    if (sys.implementation.name, f"{sys.version_info[0]}.{sys.version_info[1]}", sys.platform, platform.machine()) != (
        "cpython",
        WHEEL_PYTHON,
        "linux",
        "x86_64",
    ):
        raise BindingsError(
            f"the pinned TensorRT binding wheels are for CPython {WHEEL_PYTHON} on Linux x86_64, this is {here}: "
            "run with the project venv (.venv/bin/python)"
        )


# --- wheels -------------------------------------------------------------------------------------


def fetch_wheels(targets=TARGETS) -> dict[str, Path]:
    """Make sure each pinned wheel is in the cache with the right hash; download what is missing."""
    wheel_dir = cache_dir() / "wheels"
    wanted = [t for t in targets if t.requirement]
    missing = [t for t in wanted if not (wheel_dir / t.wheel).is_file() or _sha256(wheel_dir / t.wheel) != t.sha256]
    if missing:
        _check_host()
        with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
            req = Path(tmp) / "requirements.txt"
            req.write_text("".join(f"{t.requirement} --hash=sha256:{t.sha256}\n" for t in missing))
            cmd = [
                sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                "--require-hashes", "--disable-pip-version-check", "--no-input", "--quiet",
                "--platform", WHEEL_PLATFORM, "--python-version", WHEEL_PYTHON, "--implementation", "cp",
                "--dest", str(Path(tmp) / "dl"), "-r", str(req),
            ]  # fmt: skip
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
                names = ", ".join(t.requirement for t in missing)
                raise BindingsError(
                    f"pip download of {names} failed ({last}); check network access to PyPI "
                    f"or put the wheels into {wheel_dir}"
                )
            wheel_dir.mkdir(parents=True, exist_ok=True)
            for t in missing:
                got = Path(tmp) / "dl" / t.wheel
                if not got.is_file():
                    raise BindingsError(f"pip did not produce {t.wheel}; the pin in {__file__} needs updating")
                if _sha256(got) != t.sha256:
                    raise BindingsError(f"{t.wheel} has an unexpected SHA-256; refusing to use it")
                os.replace(got, wheel_dir / t.wheel)
    return {t.key: wheel_dir / t.wheel for t in wanted}


def unpack(target: Target, wheel: Path) -> Path:
    """Unpack ``wheel`` once into ``unpacked/<sha>``; return that directory (a sys.path entry)."""
    dest = cache_dir() / "unpacked" / target.sha256[:16]
    marker = dest / ".sha256"
    if marker.is_file() and marker.read_text().strip() == target.sha256:
        return dest
    tmp = Path(tempfile.mkdtemp(dir=cache_dir(), prefix="unpack."))
    try:
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(tmp)
        (tmp / ".sha256").write_text(target.sha256 + "\n")
        _publish_dir(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return dest


# --- stub libraries -------------------------------------------------------------------------------


def _tool(name: str, why: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BindingsError(f"`{name}` not found: install it (apt-get install {why}); it is needed to build the stub libnvinfer")
    return path


def stub_requirements(extension: Path) -> tuple[list[str], list[str]]:
    """(missing NEEDED libraries, unresolved symbols) of the binding extension.

    The libraries are the ``libnv*`` entries of the ELF NEEDED list; the symbols
    are the undefined, unversioned, strong symbols that neither the C/C++
    runtime (versioned: ``@GLIBC_``, ``@CXXABI_``), the interpreter
    (``Py*``/``_Py*``) nor anything already loaded in this process (e.g. an
    unversioned ``dlopen`` from libc) provides.
    """
    import ctypes

    process = ctypes.CDLL(None)
    readelf = _tool("readelf", "binutils")
    nm = _tool("nm", "binutils")
    dyn = subprocess.run([readelf, "-d", "-W", str(extension)], capture_output=True, text=True, check=True).stdout
    needed = []
    for line in dyn.splitlines():
        if "(NEEDED)" in line:
            lib = line.split("[", 1)[1].rstrip("]")
            if lib.startswith("libnv"):
                needed.append(lib)
    out = subprocess.run([nm, "-D", "--undefined-only", str(extension)], capture_output=True, text=True, check=True).stdout
    symbols = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 2 or parts[0] != "U":
            continue  # weak ("w") symbols may stay unresolved
        name = parts[1]
        if "@" in name or name.startswith(("Py", "_Py")) or hasattr(process, name):
            continue
        symbols.append(name)
    return needed, sorted(set(symbols))


_STUB_C = """\
/* Stub for introspecting TensorRT Python bindings only: every entry point aborts. */
#include <stdio.h>
#include <stdlib.h>
#define STUB(name) void *name(void) {{ \\
    fputs("trt_api stub: " #name " called; this library is for introspection only\\n", stderr); abort(); }}
{body}
"""


def build_stub(extension: Path) -> Path:
    """Build (once) a directory of stub ``libnv*.so.N`` satisfying ``extension``; return it."""
    needed, symbols = stub_requirements(extension)
    if not needed:
        raise BindingsError(f"{extension} links no libnv* library; the introspection recipe needs updating")
    source = _STUB_C.format(body="\n".join(f"STUB({s})" for s in symbols))
    key = hashlib.sha256((source + "\n".join(needed)).encode()).hexdigest()[:16]
    dest = cache_dir() / "stubs" / key
    if all((dest / lib).is_file() for lib in needed):
        return dest
    gcc = _tool("gcc", "gcc")
    tmp = Path(tempfile.mkdtemp(dir=cache_dir(), prefix="stub."))
    try:
        (tmp / "stub.c").write_text(source)
        proc = subprocess.run(
            [gcc, "-shared", "-fPIC", "-O1", "-Wl,-soname,libtrt_api_stub.so", "-o", str(tmp / "libtrt_api_stub.so"), str(tmp / "stub.c")],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise BindingsError(f"gcc failed to build the TensorRT stub library: {proc.stderr.strip()[:300]}")
        for lib in needed:
            os.symlink("libtrt_api_stub.so", tmp / lib)
        _publish_dir(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return dest


# --- introspection --------------------------------------------------------------------------------


def _introspector_hash() -> str:
    return hashlib.sha256(INTROSPECTOR.read_bytes()).hexdigest()


def _installed_key(target: Target) -> tuple[str, Path]:
    """(sha256 over the installed package's files, package dir) for targets used as installed."""
    import importlib.util

    spec = importlib.util.find_spec(target.package)
    if spec is None or not spec.submodule_search_locations:
        raise BindingsError(
            f"{target.package} is not installed: `.venv/bin/pip install -r requirements.txt` "
            f"(pins {target.product} {target.version})"
        )
    pkg = Path(list(spec.submodule_search_locations)[0])
    h = hashlib.sha256()
    for path in sorted(p for p in pkg.rglob("*") if p.is_file() and p.suffix in (".py", ".so")):
        h.update(path.relative_to(pkg).as_posix().encode() + b"\0")
        h.update(_sha256(path).encode())
    return h.hexdigest(), pkg.parent


def expected_key(target: Target, sha256: str) -> dict:
    return {
        "schema": SCHEMA,
        "target": target.key,
        "module": target.module,
        "version": target.version,
        "sha256": sha256,
        "introspector": _introspector_hash(),
        "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
    }


def _surface_path(target: Target, sha256: str) -> Path:
    return cache_dir() / "surfaces" / f"{target.module}-{target.version}-{sha256[:16]}.json"


def _content_hash(surface: dict) -> str:
    return hashlib.sha256(json.dumps(surface, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _read_verified(path: Path, key: dict) -> dict | None:
    """The surface in ``path`` if its key and checksum match, else None."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("key") != key:
        return None
    surface = doc.get("surface")
    if not isinstance(surface, dict) or doc.get("content_sha256") != _content_hash(surface):
        return None
    return surface


def introspect(target: Target, site_dir: Path | None, lib_dir: Path | None) -> dict:
    """Run the introspector in a fresh interpreter; return the surface dict."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if lib_dir is not None:
        env["LD_LIBRARY_PATH"] = os.pathsep.join([str(lib_dir)] + ([env["LD_LIBRARY_PATH"]] if env.get("LD_LIBRARY_PATH") else []))
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        raw = Path(tmp) / "surface.json"
        cmd = [sys.executable, "-s", str(INTROSPECTOR), target.package, target.module, str(raw)]
        if site_dir is not None:
            cmd.append(str(site_dir))
        # cwd = tmp: nothing in the repository can shadow the binding package.
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp)
        if proc.returncode != 0 or not raw.is_file():
            tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
            raise BindingsError(f"introspecting {target.label} failed (exit {proc.returncode}): {tail}")
        surface = json.loads(raw.read_text(encoding="utf-8"))
    if surface.get("version") != target.version:
        raise BindingsError(
            f"{target.package} reports version {surface.get('version')}, pinned {target.version}: "
            "reinstall the pinned version (requirements.txt) or update the pin"
        )
    return surface


def ensure_surface(target: Target) -> tuple[Path, dict]:
    """Return (file, surface) of ``target``, verified, building it if needed."""
    if target.requirement:
        sha = target.sha256
    else:
        sha, _ = _installed_key(target)
    key = expected_key(target, sha)
    path = _surface_path(target, sha)
    surface = _read_verified(path, key)
    if surface is not None:
        return path, surface
    with _lock(cache_dir()):
        surface = _read_verified(path, key)
        if surface is not None:  # another process built it meanwhile
            return path, surface
        if target.requirement:
            _check_host()
            wheel = fetch_wheels()[target.key]  # one pip call for every missing wheel
            site = unpack(target, wheel)
            extension = site / target.package / (target.module + ".so")
            if not extension.is_file():
                raise BindingsError(f"{target.wheel} has no {target.package}/{target.module}.so; the pin needs updating")
            surface = introspect(target, site, build_stub(extension))
        else:
            surface = introspect(target, None, None)
        doc = {"key": key, "content_sha256": _content_hash(surface), "surface": surface}
        _write_atomic(path, json.dumps(doc, sort_keys=True, separators=(",", ":")))
    return path, surface


def load_surfaces(keys=None) -> dict[str, Surface]:
    """Surfaces for ``keys`` (default: all targets), installing whatever is missing."""
    out = {}
    for k in keys or TARGETS_BY_KEY:
        if k not in TARGETS_BY_KEY:
            raise BindingsError(f"unknown TensorRT target {k!r}; known: {', '.join(TARGETS_BY_KEY)}")
        target = TARGETS_BY_KEY[k]
        _, surface = ensure_surface(target)
        out[k] = Surface(target.key, target.module, target.product, target.version, surface["objects"])
    return out


def _publish_dir(tmp: Path, dest: Path) -> None:
    """Replace ``dest`` with the finished folder ``tmp`` (a rename, so never half-written)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, dest)
