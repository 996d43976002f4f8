"""The disk cache of compiled modules: verified entries, per-key file locks, a size cap with LRU eviction.

Layout under cache_dir() (default ~/.cache/slope/iree, SLOPE_CACHE_DIR to move it, `off` to disable):
    <key[:2]>/<key>.vmfb   a compiled module (entry point @main)
    <key[:2]>/<key>.ref    a program compiled by compile_many as one function of a shared module: it names
                           that module's key and the function
    <key[:2]>/<key>.lock   flock'd while the key is being compiled (one compile across processes)
    <key[:2]>/<key>.vmfb.<pid>.<random>.tmp   an entry being written (renamed into place when
                           complete; eviction removes those of dead writers and any older than an hour)

Every entry is
    MAGIC                                  b"slope-iree-cache 2\n"
    sha256 (hex) of everything below, "\n"
    one line of JSON: kind ("vmfb" or "ref"), key, text (sha256 of the StableHLO text), flags,
                      compiler and runtime versions, size of the payload; a ref adds module and function
    the payload (the .vmfb bytes; empty for a ref)
and is verified before its bytes reach IREE (decode): magic, checksum (one flipped bit or a truncation
anywhere fails it), the key it was stored for (an entry copied or renamed to another key fails it),
the compiler and runtime versions and the flags. A key is the sha256 of (FORMAT, compiler, runtime,
flags, sha256 of the text), so the identity in the header determines the key.

The cache is capped (SLOPE_CACHE_MAX_MB, default 2048; 0 or `off`: no cap): loads touch an entry
(its mtime and atime), and when a process's running estimate of the cache size passes the cap,
the least recently used entries are removed down to 90% of it. `python -m slope cache info|clear`.
No entry is ever evaluated as code: the header is JSON, the payload only goes to IREE after the
checks above.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import tempfile
import threading
import time

FORMAT = "slope-iree-cache 2"
MAGIC = (FORMAT + "\n").encode()
DEFAULT_MAX_MB = 2048
SUFFIXES = (".vmfb", ".ref", ".lock", ".tmp")
STALE_TMP_S = 3600  # a .tmp file of a live writer older than this is abandoned too (writes take ms)
RESCAN_WRITES = 64  # a process re-measures the cache after this many writes (other processes write too)


class Corrupt(Exception):
    """An entry that must not be loaded (the message says why)."""


class CacheWarning(UserWarning):
    """A compile-cache entry failed verification and was recompiled (warned once per process)."""


def cache_dir() -> str | None:
    d = os.environ.get("SLOPE_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "slope", "iree"))
    if d in ("", "0", "off"):
        return None
    return d


def max_bytes() -> int | None:
    """The cap in bytes (SLOPE_CACHE_MAX_MB, default 2048 MB); None: no cap."""
    v = os.environ.get("SLOPE_CACHE_MAX_MB", str(DEFAULT_MAX_MB)).strip()
    if v.lower() in ("", "off", "none", "inf"):
        return None
    try:
        mb = float(v)
    except ValueError:
        return DEFAULT_MAX_MB << 20
    return None if mb <= 0 else int(mb * (1 << 20))


# ---- versions and keys ---------------------------------------------------------------------------

_versions: dict[str, str] = {}


def _package_version(module: str, dist: str) -> str:
    """VERSION+revision of an IREE package, read from its version.py (without importing it)."""
    v = _versions.get(module)
    if v is None:
        text = None
        try:
            import importlib.util

            spec = importlib.util.find_spec(module)
            for loc in (spec.submodule_search_locations or []) if spec else []:
                with open(os.path.join(loc, "version.py")) as f:
                    text = f.read()
                break
        except (OSError, ImportError, ValueError):
            text = None
        if text:
            ver = re.search(r'VERSION\s*=\s*"([^"]*)"', text)
            rev = re.search(r'"IREE"\s*:\s*"([^"]*)"', text)
            v = (ver.group(1) + ("+" + rev.group(1) if rev else "")) if ver else hashlib.sha256(text.encode()).hexdigest()
        else:  # pragma: no cover - unusual installs
            import importlib.metadata

            try:
                v = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                v = "unknown"
        _versions[module] = v
    return v


def compiler_version() -> str:
    return _package_version("iree.compiler", "iree-base-compiler")


def runtime_version() -> str:
    return _package_version("iree._runtime_libs", "iree-base-runtime")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_key(text_sha: str, flags) -> str:
    return _key_of(compiler_version(), runtime_version(), list(flags), text_sha)


def _key_of(compiler, runtime, flags, text_sha) -> str:
    h = hashlib.sha256()
    h.update("\0".join([FORMAT, compiler, runtime, "\x1f".join(flags), text_sha]).encode())
    return h.hexdigest()


def paths(key: str):
    """(.vmfb path, .ref path) of a key, or (None, None) without a cache."""
    d = cache_dir()
    if not d:
        return None, None
    stem = os.path.join(d, key[:2], key)
    return stem + ".vmfb", stem + ".ref"


def lock_path(key: str) -> str | None:
    d = cache_dir()
    return os.path.join(d, key[:2], key + ".lock") if d else None


# ---- entry format --------------------------------------------------------------------------------

def encode(kind: str, key: str, text_sha: str | None, flags, payload: bytes = b"", **extra) -> bytes:
    header = {"kind": kind, "key": key, "text": text_sha, "flags": list(flags), "compiler": compiler_version(),
              "runtime": runtime_version(), "size": len(payload), **extra}
    body = json.dumps(header, sort_keys=True).encode() + b"\n" + payload
    return MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def decode(data: bytes, kind: str, key: str, flags, text_sha: str | None = None):
    """(header, payload) of a verified entry stored for `key`; raises Corrupt otherwise. text_sha=None
    (a shared module reached through a ref) checks the key against the header's own text hash."""
    if not data.startswith(MAGIC):
        raise Corrupt("not a slope cache entry of this format")
    nl = data.find(b"\n", len(MAGIC))
    if nl != len(MAGIC) + 64:
        raise Corrupt("no checksum line")
    body = data[nl + 1:]
    if hashlib.sha256(body).hexdigest().encode() != data[len(MAGIC):nl]:
        raise Corrupt("checksum mismatch (flipped bits or truncated)")
    end = body.find(b"\n")
    try:
        header = json.loads(body[:end].decode())
        h_kind, h_key, h_text, h_flags = header["kind"], header["key"], header["text"], header["flags"]
        h_compiler, h_runtime, size = header["compiler"], header["runtime"], header["size"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise Corrupt(f"unreadable header ({e})") from None
    payload = body[end + 1:]
    if h_kind != kind:
        raise Corrupt(f"a {h_kind!r} entry where a {kind!r} one belongs")
    if h_key != key:
        raise Corrupt(f"stored for another key ({h_key})")
    if h_compiler != compiler_version() or h_runtime != runtime_version():
        raise Corrupt(f"made by IREE compiler {h_compiler} / runtime {h_runtime}, not "
                      f"{compiler_version()} / {runtime_version()}")
    if h_flags != list(flags):
        raise Corrupt(f"compiled with flags {h_flags}, not {list(flags)}")
    if text_sha is not None and h_text != text_sha:
        raise Corrupt("compiled from another program")
    if not isinstance(h_text, str) or _key_of(h_compiler, h_runtime, h_flags, h_text) != key:
        raise Corrupt("header does not match its key")
    if size != len(payload):
        raise Corrupt(f"payload of {len(payload)} bytes, header says {size}")
    return header, payload


# ---- files ---------------------------------------------------------------------------------------

def read(path) -> bytes | None:
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def touch(path):
    """Mark an entry used now (LRU eviction goes by last use)."""
    try:
        os.utime(path)
    except OSError:
        pass


def remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def write(path, data: bytes):
    """Write an entry atomically: a temporary file in the same directory, renamed into place, so a
    reader (or a crash, even kill -9) never sees half an entry. A cache that cannot be written is
    only slower."""
    d = os.path.dirname(path)
    try:
        os.makedirs(d, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=f"{os.path.basename(path)}.{os.getpid()}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            remove(tmp)
            raise
    except OSError:
        return
    _account(len(data))


# ---- locks ---------------------------------------------------------------------------------------

def _lock_one(path):
    """An fd holding an exclusive flock on `path` (created if needed), or None if it cannot be made.
    Eviction may unlink a lock file: after acquiring, check the path still names the locked file."""
    for _ in range(100):
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd
        except OSError:
            pass
        os.close(fd)
    return None  # pragma: no cover - the file keeps being replaced: go on unlocked


@contextlib.contextmanager
def locked(keys):
    """Hold the file locks of `keys` (in sorted order, so that no two holders deadlock)."""
    fds = []
    try:
        for key in sorted(set(keys)):
            path = lock_path(key)
            fd = _lock_one(path) if path else None
            if fd is not None:
                fds.append(fd)
        yield
    finally:
        for fd in reversed(fds):
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


# ---- size cap ------------------------------------------------------------------------------------

_size_lock = threading.Lock()
_estimate: int | None = None  # this process's idea of the cache's size (bytes); None: not measured
_estimate_dir: str | None = None  # the directory it was measured for
_writes = 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tmp_stale(name: str, mtime: float, now: float) -> bool:
    """Whether a .tmp file was left by a writer that died (its pid is in its name) or long ago."""
    m = re.search(r"\.(\d+)\.[^.]*\.tmp$", name)
    return now - mtime > STALE_TMP_S or (m is not None and now - mtime > 60 and not _pid_alive(int(m.group(1))))


def scan(d: str | None = None):
    """[(path, bytes, last use, suffix)] of every file of the cache (entries, locks, temporaries)."""
    d = d or cache_dir()
    out = []
    if not d:
        return out
    try:
        subdirs = [e for e in os.scandir(d) if e.is_dir(follow_symlinks=False) and len(e.name) == 2]
    except OSError:
        return out
    for sub in subdirs:
        try:
            entries = list(os.scandir(sub.path))
        except OSError:
            continue
        for e in entries:
            suffix = os.path.splitext(e.name)[1]
            if suffix not in SUFFIXES:
                continue
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            out.append((e.path, st.st_size, max(st.st_mtime, st.st_atime), suffix))
    return out


def _remove_lock_if_idle(path):
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.unlink(path)  # while holding it: a waiter that opened it re-opens (see _lock_one)
    except OSError:
        pass
    finally:
        os.close(fd)


def evict(cap: int | None, d: str | None = None) -> int:
    """Remove abandoned temporaries, then (if `cap` bytes is not None) least recently used entries
    until the cache is at most 90% of `cap`. Returns the bytes left."""
    files = scan(d)
    now = time.time()
    total = 0
    entries = []
    stems = {}
    for path, size, used, suffix in files:
        if suffix == ".tmp":
            if _tmp_stale(os.path.basename(path), used, now):
                remove(path)
                continue
        elif suffix in (".vmfb", ".ref"):
            entries.append((used, path, size))
            stems[path[:-len(suffix)]] = stems.get(path[:-len(suffix)], 0) + 1
        total += size
    if cap is not None and total > cap:
        target = int(0.9 * cap)
        for used, path, size in sorted(entries):
            if total <= target:
                break
            remove(path)
            total -= size
            stem = path[:path.rindex(".")]
            stems[stem] -= 1
            if not stems[stem]:
                _remove_lock_if_idle(stem + ".lock")
    return total


def _account(nbytes: int):
    """Note a write; measure the cache on the first write and every RESCAN_WRITES, evict when over the cap."""
    global _estimate, _estimate_dir, _writes
    cap = max_bytes()
    if cap is None:
        return
    with _size_lock:
        _writes += 1
        d = cache_dir()
        if _estimate is None or _estimate_dir != d or _writes % RESCAN_WRITES == 0:
            _estimate, _estimate_dir = sum(size for _, size, _, _ in scan(d)), d
        else:
            _estimate += nbytes
        if _estimate > cap:
            _estimate = evict(cap)


# ---- info / clear --------------------------------------------------------------------------------

def info(d: str | None = None) -> dict:
    d = d or cache_dir()
    files = scan(d)
    count = {s: 0 for s in SUFFIXES}
    size = 0
    for _, n, _, suffix in files:
        count[suffix] += 1
        size += n
    return {"dir": d, "modules": count[".vmfb"], "refs": count[".ref"], "entries": count[".vmfb"] + count[".ref"],
            "locks": count[".lock"], "temporaries": count[".tmp"], "bytes": size, "cap": max_bytes()}


def clear(d: str | None = None) -> tuple[int, int]:
    """Remove every file of the cache (only files it made); returns (files removed, bytes)."""
    d = d or cache_dir()
    n = size = 0
    for path, nbytes, _, suffix in scan(d):
        if suffix == ".lock":
            _remove_lock_if_idle(path)
            continue
        try:
            os.unlink(path)
        except OSError:
            continue
        n += 1
        size += nbytes
    if d:
        for sub in os.listdir(d) if os.path.isdir(d) else []:
            p = os.path.join(d, sub)
            if len(sub) == 2 and os.path.isdir(p):
                try:
                    os.rmdir(p)  # only if empty
                except OSError:
                    pass
    return n, size
