"""IREE runtime: the local devices, host<->device copies, and executables invoked at the VM level.

Tensors hold a `VmRef` to an IREE HAL buffer view (`Tensor._buf`); executables take and return
those refs directly (`VmContext.invoke` on a `VmVariantList`), which costs ~3 us per call instead
of ~5.5 us through `iree.runtime.FunctionInvoker`.

Two HAL devices share host memory, so a buffer made by one is a valid argument on the other:
  * `local-sync` runs a program on the calling thread (~3 us overhead): best for small programs;
  * `local-task` spreads a dispatch over a thread pool (12-80 us overhead): wins for big work
    such as a 1024^3 matmul (~2x on 2 cores) or the MLP train step (530 -> 400 us), loses on
    small programs and on memory-bound elementwise ones (1M-element `x*2`: 95 -> 145 us).
With SLOPE_IREE_DRIVER=auto (the default) each executable starts on local-sync and, if its
calls take longer than AUTO_THRESHOLD_S, times calls on both devices and keeps using the faster
(see _DriverChoice: it keeps measuring, so it notices when other processes take the cores).
SLOPE_IREE_DRIVER=local-sync or local-task pins every executable to one device.

Modules linked with the system linker (float64 ones, see compile.F64_FLAGS) are loaded by the
runtime through a temporary file named $TMPDIR/iree_dylib_XXXXXX that it never deletes (IREE
#5855) and whose descriptor it never closes (one per load: EMFILE after ~1000 float64 modules
under `ulimit -n 1024`); their contexts are made with TMPDIR pointing to a private folder,
$TMPDIR/slope-dylib-<pid>-*, that is emptied and whose descriptors are closed at once (see
_dylib_context), flock'd by its process and removed at exit; folders of dead processes (a crash,
kill -9) are removed by the next process that makes one.

Every executable checks the shapes and dtypes of its first call's outputs against the expected
avals (BackendError if they differ), on the slow path that the device choice already has, so
later calls cost nothing more.

With SLOPE_IREE_CALLER_SCHED=batch (opt-in) a thread waiting on a local-task call runs under
the SCHED_BATCH policy (Linux; see scheduling.py for why and what it measured).

Both devices use IREE's caching allocator (bounded: buffers up to 64 MiB, 256 MiB retained),
so a 4 MB result reuses freed memory instead of page-faulting fresh pages (1M-element `x*2`:
137 us -> 95 us).
"""
from __future__ import annotations

import atexit
import ctypes
import fcntl
import os
import shutil
import tempfile
import threading
import time

import numpy as np
import iree.runtime as rt

from slope.backends.iree.scheduling import invoker
from slope.errors import BackendError

try:  # devices are kept alive until exit (see _make_device); silence nanobind's report of that
    from iree._runtime_libs import _runtime as _native

    _native.disable_leak_checker()
except Exception:  # pragma: no cover - other runtime builds
    pass

DRIVER = os.environ.get("SLOPE_IREE_DRIVER", "auto")
if DRIVER not in ("auto", "local-sync", "local-task"):
    raise BackendError(f"SLOPE_IREE_DRIVER must be auto, local-sync or local-task, got {DRIVER!r}")
ALLOCATOR = os.environ.get("SLOPE_IREE_ALLOCATOR", "caching:device_local=64mib;256mib;64")
AUTO_THRESHOLD_S = 200e-6  # programs faster than this on local-sync never try local-task
_PROBE_CALLS = 5  # timed calls per device in the first probe
_EXPLORE_FIRST = 25  # then after this many calls, a burst of _EXPLORE_BURST on the other device;
_EXPLORE_MAX = 6400  # the gap doubles (up to this) each time a burst does not change the choice
_EXPLORE_BURST = 6
_WINDOW = 9  # recent calls per device whose median decides

_VL = rt.VmVariantList
_BV = rt.HalBufferView
_DEVICE_LOCAL = rt.MemoryType.DEVICE_LOCAL
_USAGE = rt.BufferUsage.DEFAULT


def _make_device(driver: str):
    allocators = [ALLOCATOR] if ALLOCATOR not in ("", "0", "off") else None
    dev = rt.get_driver(driver).create_device_by_uri(driver, allocators=allocators)
    # Buffers retain their allocator but interpreter teardown frees Python objects in no
    # particular order; a device destroyed before its last buffers crashes the process at exit.
    # Devices are process-lifetime singletons anyway, so keep one extra reference forever.
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(dev))
    return dev


instance = rt.VmInstance()
device = _make_device("local-task" if DRIVER == "local-task" else "local-sync")
_hal_modules = {DRIVER if DRIVER != "auto" else "local-sync": rt.create_hal_module(instance, device)}
_devices = {DRIVER if DRIVER != "auto" else "local-sync": device}
_allocator = device.allocator
_device_lock = threading.Lock()


def _hal_module(driver: str):
    mod = _hal_modules.get(driver)
    if mod is None:
        with _device_lock:  # the local-task device (and its threads) is made on first use
            mod = _hal_modules.get(driver)
            if mod is None:
                _devices[driver] = _make_device(driver)
                mod = _hal_modules[driver] = rt.create_hal_module(instance, _devices[driver])
    return mod


_DEFAULT = next(iter(_hal_modules))
_ELEMENT_TYPES: dict = {}


def _element_type(npd):
    et = _ELEMENT_TYPES.get(npd)
    if et is None:
        from iree.runtime.dtypes import map_dtype_to_hal_element_type

        et = _ELEMENT_TYPES[npd] = map_dtype_to_hal_element_type(npd)
    return et


_OUT_TYPES: dict = {}


def _element_types(npd) -> frozenset:
    """The HAL element types a result of NumPy dtype `npd` may come back as (IREE returns signed
    integers as signless ones, e.g. INT_32 where to_device makes SINT_32)."""
    types = _OUT_TYPES.get(npd)
    if types is None:
        et = int(_element_type(npd))
        types = {et}
        if npd.kind == "i":
            types.add(int(getattr(rt.HalElementType, f"INT_{8 * npd.itemsize}")))
        types = _OUT_TYPES[npd] = frozenset(types)
    return types


def to_device(arr: np.ndarray):
    """Copy a NumPy array into a new device buffer; returns its VmRef."""
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    bv = _allocator.allocate_buffer_copy(memory_type=_DEVICE_LOCAL, allowed_usage=_USAGE, device=device,
                                         buffer=arr, element_type=_element_type(arr.dtype))
    return bv.ref


def view(buf, aval):
    """A new buffer view of buf's (row-major) data with aval's shape: a reshape without a copy."""
    bv = buf.deref(_BV)
    return _BV(bv.get_buffer(), aval.shape, bv.element_type).ref


def buffer_key(buf) -> str:
    """What tells apart the HAL buffers under buffer views (views made by `view` share theirs): the
    address in its VmRef's repr, the one place the Python API shows it."""
    return repr(buf.deref(_BV).get_buffer().ref)


def to_host(buf, aval) -> np.ndarray:
    """A fresh NumPy copy of a device buffer holding `aval`."""
    if aval.size == 0:
        return np.zeros(aval.shape, dtype=aval.dtype.np)
    view = buf.deref(_BV).map().asarray(aval.shape, aval.dtype.np)
    return np.array(view, dtype=aval.dtype.np, copy=True)


_dylib_dir: str | None = None
_dylib_owner: int | None = None  # fd of _dylib_dir, flock'd for the life of the process
DYLIB_PREFIX = "slope-dylib-"
_STALE_DYLIB_S = 60  # an old-style directory younger than this may be being set up by its owner


def _close_leaked_dylib_fds():
    """Close the descriptors IREE leaves open on its temporary files in _dylib_dir: its POSIX
    iree_dynamic_library_make_temp_file_path mkstemp()s a unique name and never closes the fd (one
    per system-linked load; IREE 3.13). Nothing refers to that fd, so closing it is safe; the
    library itself is mapped by dlopen and needs no descriptor. Every descriptor into _dylib_dir is
    one of those (only IREE writes there); ~1.5 us per open descriptor of the process, per load."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:  # pragma: no cover - no /proc
        return
    prefix = os.path.join(_dylib_dir, "iree_dylib_")
    for name in names:
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if target.startswith(prefix):
            try:
                os.close(int(name))
            except OSError:
                pass


def _lock_dir(path: str) -> int:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _new_dylib_dir():
    """This process's directory for IREE's temporary libraries: $TMPDIR/slope-dylib-<pid>-XXXXXXXX,
    flock'd while the process lives (and by the children it forks, which share the lock), removed at
    exit. It is made and locked under another name, then renamed: a slope-dylib-<pid>-* directory
    nobody holds is stale from its first moment. Directories whose owner died without removing
    theirs (a crash, kill -9) are removed first."""
    global _dylib_dir, _dylib_owner
    clean_stale_dylib_dirs()
    pid = os.getpid()
    staging = tempfile.mkdtemp(prefix=f".{DYLIB_PREFIX}{pid}-")
    fd = _lock_dir(staging)
    final = os.path.join(os.path.dirname(staging), os.path.basename(staging)[1:])
    os.rename(staging, final)
    _dylib_dir, _dylib_owner = final, fd
    atexit.register(_remove_dylib_dir, final, pid)


def _remove_dylib_dir(path, pid):
    if os.getpid() == pid:  # not in a forked child that exits: the parent still uses it
        shutil.rmtree(path, ignore_errors=True)


def _dylib_dir_owner_alive(path: str, name: str, now: float, open_paths) -> bool | None:
    """Whether the process that made a slope-dylib directory is alive (None: cannot tell).
    `open_paths()`: the paths all processes have open (see _open_paths), for old-style directories."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True  # its owner holds the lock
    finally:
        os.close(fd)
    parts = name[len(DYLIB_PREFIX):].split("-")
    if len(parts) == 2 and parts[0].isdigit():  # made by this code: locked before it got its name
        return False
    # Directories of older slope versions (slope-dylib-XXXXXXXX) have no lock, but their owners
    # keep one leaked descriptor per loaded library in them.
    try:
        if now - os.stat(path).st_mtime < _STALE_DYLIB_S:
            return None
    except OSError:
        return None
    paths = open_paths()
    if paths is None:
        return None
    prefix = path + "/"
    return any(p.startswith(prefix) for p in paths)


def _open_paths() -> list | None:
    """The targets of every process's open descriptors (None if some process's cannot be read)."""
    if not os.path.isdir("/proc"):  # pragma: no cover
        return None
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            names = os.listdir(f"/proc/{pid}/fd")
        except PermissionError:
            return None
        except OSError:
            continue
        for n in names:
            try:
                out.append(os.readlink(f"/proc/{pid}/fd/{n}"))
            except OSError:
                pass
    return out


def clean_stale_dylib_dirs(root: str | None = None) -> list:
    """Remove the slope-dylib-* directories under `root` (default: the temporary directory) whose
    owning process is dead; returns their paths. Live ones, and those whose owner cannot be told, stay."""
    root = root or tempfile.gettempdir()
    removed = []
    now = time.time()
    try:
        names = [n for n in os.listdir(root) if n.startswith(DYLIB_PREFIX) or n.startswith("." + DYLIB_PREFIX)]
    except OSError:
        return removed
    cached = []

    def open_paths():  # read once, only if an old-style directory needs it
        if not cached:
            cached.append(_open_paths())
        return cached[0]

    for name in names:
        path = os.path.join(root, name)
        if path == _dylib_dir or not os.path.isdir(path) or os.path.islink(path):
            continue
        if name.startswith("."):  # a process died between making its directory and naming it
            try:
                young = now - os.stat(path).st_mtime < _STALE_DYLIB_S
            except OSError:
                continue
            alive = True if young else _dylib_dir_owner_alive(path, name[1:], now, open_paths)
        else:
            alive = _dylib_dir_owner_alive(path, name, now, open_paths)
        if alive is False:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _dylib_context(hal_module, module):
    """A VmContext for a system-linked module (float64 ones), which IREE loads by writing the library
    to a temporary file and dlopen()ing it. IREE reads TMPDIR once per process (at its first such
    load), so every load of the process uses the directory of the first. After each load its
    leftover placeholder file is removed and the descriptor it leaks is closed (see
    _close_leaked_dylib_fds): nothing stays open or on disk however many modules are loaded."""
    global _dylib_owner
    with _device_lock:  # TMPDIR is process-wide: one such load at a time
        if _dylib_dir is None:
            _new_dylib_dir()
        elif not os.path.isdir(_dylib_dir):  # removed under us: IREE still uses that path
            os.makedirs(_dylib_dir, exist_ok=True)
            old_owner, _dylib_owner = _dylib_owner, _lock_dir(_dylib_dir)
            os.close(old_owner)
        old = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = _dylib_dir
        try:
            return rt.VmContext(instance, [hal_module, module])
        finally:
            if old is None:
                del os.environ["TMPDIR"]
            else:
                os.environ["TMPDIR"] = old
            _close_leaked_dylib_fds()
            for f in os.listdir(_dylib_dir):  # the library is loaded (dlopen): its files are not needed
                if f.startswith("iree_dylib_"):
                    try:
                        os.unlink(os.path.join(_dylib_dir, f))
                    except OSError:
                        pass


def load_module(vmfb: bytes):
    return rt.VmModule.copy_buffer(instance, vmfb)


class LoadedModule:
    """One loaded .vmfb and its VM contexts (made per device on first use). A module compiled from
    several programs at once (compile.compile_many) is loaded once and shared by their executables."""

    def __init__(self, vmfb: bytes, system_linked: bool = False):
        try:
            self.module = load_module(vmfb)
        except Exception as e:  # noqa: BLE001 - IREE raises RuntimeError/ValueError for bad bytes
            raise BackendError(f"IREE could not load a module: {e}") from e
        self.system_linked = system_linked
        self.contexts = {}
        self.invokers = {}

    def context(self, driver):
        ctx = self.contexts.get(driver)
        if ctx is None:
            hal = _hal_module(driver)
            ctx = self.contexts[driver] = (_dylib_context(hal, self.module) if self.system_linked
                                           else rt.VmContext(instance, [hal, self.module]))
        return ctx

    def invoker(self, driver):
        """`invoke(function, args, rets)` on `driver` (see scheduling.invoker)."""
        inv = self.invokers.get(driver)
        if inv is None:
            inv = self.invokers[driver] = invoker(driver, self.context(driver))
        return inv


class Executable:
    """One function of a compiled module (`main`, or `function` of a shared LoadedModule), callable
    on device buffer refs."""

    compile_s = None  # seconds compiling it in this process (set by compile.py; None: from the disk cache)

    def __init__(self, vmfb, name: str, in_avals, out_avals, source: str, system_linked: bool = False,
                 function: str = "main"):
        self.name, self.in_avals, self.out_avals, self.source = name, list(in_avals), list(out_avals), source
        self.n_out = len(self.out_avals)
        try:
            self.loaded = vmfb if isinstance(vmfb, LoadedModule) else LoadedModule(vmfb, system_linked)
            self.module = self.loaded.module
            self.function, self._fn = function, self.module.lookup_function(function)
            if self._fn is None:
                raise BackendError(f"module has no @{function}")
            self.driver = _DEFAULT
            self._invoke = self.loaded.invoker(_DEFAULT)
        except Exception as e:  # pragma: no cover - defensive
            raise BackendError(f"IREE could not load the module for {name}: {e}\n--- program ---\n{source}") from e
        # device choice (auto mode): None when settled, else a _DriverChoice timing the calls
        self._choice = _DriverChoice() if DRIVER == "auto" else None
        # calls take the slow path (_slow_invoke) until the outputs were checked once and the device
        # choice is settled; the fast path costs one attribute test, as the device choice alone did
        self._checked = False
        self._slow = True

    def retyped(self, name: str, in_avals, out_avals, source: str):
        """The same function on other avals (a module with `?` dims serves every shape): its own
        output check and device choice, the module shared."""
        return Executable(self.loaded, name, in_avals, out_avals, source, self.loaded.system_linked, self.function)

    def use_driver(self, driver: str):
        """Run on this device from now on (no automatic choice); used by benchmarks to compare them."""
        if driver not in ("local-sync", "local-task"):
            raise BackendError(f"driver must be local-sync or local-task, got {driver!r}")
        self._choice = None
        self._slow = not self._checked
        self.driver, self._invoke = driver, self.loaded.invoker(driver)
        return self

    def __call__(self, bufs):
        """Run on device buffer refs; returns a list of refs (inputs must already be checked)."""
        args = _VL(len(bufs))
        for b in bufs:
            args.push_ref(b)
        rets = _VL(self.n_out)
        self._run(args, rets)
        return [rets.get_as_ref(i) for i in range(self.n_out)]

    def call_binary(self, a, b):
        """`self([a, b])[0]` for a single-result binary executable, with less Python."""
        args = _VL(2)
        args.push_ref(a)
        args.push_ref(b)
        rets = _VL(1)
        self._run(args, rets)
        return rets.get_as_ref(0)

    def _run(self, args, rets):
        """Invoke the function: the slow path while the driver is chosen or outputs are checked."""
        if self._slow:
            self._slow_invoke(args, rets)
        else:
            try:
                self._invoke(self._fn, args, rets)
            except Exception as e:
                raise self._error(e) from e

    def _slow_invoke(self, args, rets):
        """A call while the device choice is timing calls or before the outputs were checked."""
        if self._choice is not None:
            self._timed_invoke(args, rets)
        else:
            try:
                self._invoke(self._fn, args, rets)
            except Exception as e:
                raise self._error(e) from e
        if not self._checked:
            self._check_outputs(rets)
            self._checked = True
        self._slow = self._choice is not None

    def _check_outputs(self, rets):
        """Raise BackendError unless IREE returned the expected number, shapes and dtypes of outputs
        (a module that does not match its program must not hand out wrongly shaped data)."""
        got = []
        for i in range(rets.size):
            try:
                bv = rets.get_as_ref(i).deref(_BV)
                got.append((tuple(bv.shape), int(bv.element_type)))
            except Exception:
                got.append(None)
        want = [(tuple(a.shape), _element_types(a.dtype.np)) for a in self.out_avals]
        if len(got) == len(want) and all(g is not None and g[0] == w[0] and g[1] in w[1] for g, w in zip(got, want)):
            return

        def show(g):
            if g is None:
                return "not a buffer"
            try:
                t = rt.HalElementType(g[1]).name
            except ValueError:
                t = str(g[1])
            return f"{t}{list(g[0])}"

        raise BackendError(f"IREE returned outputs that do not match {self.name}'s: expected "
                           f"{', '.join(a.str_short() for a in self.out_avals)}, got "
                           f"{', '.join(show(g) for g in got) or 'none'}\n--- program ---\n{self.source}")

    def _error(self, e):
        return BackendError(f"IREE failed running {self.name}: {e}\n--- program ---\n{self.source}")

    def _timed_invoke(self, args, rets):
        choice = self._choice
        driver = choice.next_driver()
        invoke = self._invoke if driver == self.driver else self.loaded.invoker(driver)
        t = time.perf_counter()
        try:
            invoke(self._fn, args, rets)
        except Exception as e:
            raise self._error(e) from e
        best = choice.record(driver, time.perf_counter() - t)
        if best is None:  # small program: stays on local-sync, untimed from now on
            self._choice = None
        elif best != self.driver:
            self.driver, self._invoke = best, self.loaded.invoker(best)

    @property
    def driver_times(self):
        """Median recent seconds per call on each device, as measured by the auto driver choice."""
        c = self._choice
        return {d: c.estimate(d) for d in c.recent if c.recent[d]} if c is not None else {}


class _DriverChoice:
    """Chooses local-sync or local-task for one executable from timed calls (auto mode).

    Call 0 warms up; the next _PROBE_CALLS are timed on local-sync. If the fastest is under
    AUTO_THRESHOLD_S the program is small: it stays on local-sync and is never timed again.
    Otherwise one warm-up and _PROBE_CALLS timed calls run on local-task. From then on every call
    is timed (perf_counter costs ~0.1 us, nothing next to >= 200 us) and runs on the device whose
    recent calls have the lower median; local-task must be 10% faster to be chosen, since its
    thread pool also takes the process's other cores. After _EXPLORE_FIRST calls a burst of
    _EXPLORE_BURST calls on the other device refreshes its samples (the burst's first call is a
    warm-up); the gap doubles each time a burst changes nothing. The first burst comes soon because
    the five-call probe can be disturbed (on 2 cores, a moment of load from elsewhere makes
    local-task look no faster than local-sync: a 1024^3 matmul then ran 2x slower for the next 200
    calls when the first burst waited that long); the choice follows the machine, e.g. when
    another process takes a core and the thread pool stops paying off. Medians, not means: on 2
    cores a local-task call now and then loses a scheduler time slice (~4 ms; rare since the caller
    waits under SCHED_BATCH, see scheduling.py) and must not flip the choice. Calls
    alternating between the devices would be no fairer: local-task right after local-sync is
    slower than in a run.
    Results do not depend on the device: both run the same code over the same dispatch grid."""

    __slots__ = ("n", "recent", "current", "burst", "gap", "next_burst")

    def __init__(self):
        self.n = 0
        self.recent = {"local-sync": [], "local-task": []}
        self.current = "local-sync"
        self.burst = 0  # calls left in an exploring burst on the other device
        self.gap = _EXPLORE_FIRST  # calls between bursts: doubles while bursts change nothing, since
        self.next_burst = 2 * _PROBE_CALLS + 2 + _EXPLORE_FIRST  # a burst on the slower device (local-task on a busy machine) costs

    def _other(self):
        return "local-task" if self.current == "local-sync" else "local-sync"

    def estimate(self, driver):
        v = sorted(self.recent[driver])
        return v[len(v) // 2] if v else None

    def next_driver(self):
        n = self.n
        if n <= 2 * _PROBE_CALLS + 1:
            return "local-sync" if n <= _PROBE_CALLS else "local-task"
        if self.burst == 0 and n >= self.next_burst:
            self.burst = _EXPLORE_BURST
            self.recent[self._other()] = []
        return self._other() if self.burst else self.current

    def record(self, driver, seconds):
        """Returns the device to use next, or None when the program is too small to bother."""
        n = self.n = self.n + 1
        if n <= 2 * _PROBE_CALLS + 2:
            if n != 1 and n != _PROBE_CALLS + 2:  # skip each device's warm-up call
                self.recent[driver].append(seconds)
            if n == _PROBE_CALLS + 1:
                return None if min(self.recent[driver]) < AUTO_THRESHOLD_S else "local-task"
            if n < 2 * _PROBE_CALLS + 2:
                return driver
        elif self.burst:
            self.burst -= 1
            if self.burst < _EXPLORE_BURST - 1:  # the burst's first call is its warm-up
                self.recent[driver].append(seconds)
            if not self.burst:  # burst over: explore again soon if it changed the choice, else later
                before = self.current
                self.current = self._best()
                self.gap = _EXPLORE_FIRST if self.current != before else min(2 * self.gap, _EXPLORE_MAX)
                self.next_burst = n + self.gap
            return self.current
        else:
            recent = self.recent[driver]
            recent.append(seconds)
            if len(recent) > _WINDOW:
                del recent[0]
        self.current = self._best()
        return self.current

    def _best(self):
        return "local-task" if self.estimate("local-task") < 0.9 * self.estimate("local-sync") else "local-sync"
