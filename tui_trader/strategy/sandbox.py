"""The least a strategy worker gets: a clean environment, and on Linux an OS-level sandbox.

What every worker gets, everywhere: a fresh interpreter started by the engine (never a fork
of the engine, so none of its memory: no keys, no sockets, no database), an environment with
only what Python needs (no TUI_TRADER_* variables, no tokens, no API keys), no core dumps.

On Linux, applied in the worker before the strategy's code is imported:
- Landlock (kernel 5.13+): files can be read only under Python's own folders, the strategy
  folders and a few system files; nothing can be written, created, renamed or deleted
  anywhere. With ABI 4+ no TCP connection can be made; with ABI 6+ no signal can be sent
  outside the sandbox and no abstract Unix socket reached.
- seccomp: no new sockets (so not the daemon's control socket either), no exec, no ptrace or
  reading other processes' memory, no signals to other processes.
- rlimits: no core files, no file growth.

What it does not do: limit CPU (the engine's deadline does) or memory (only `memory_mb`);
hide other processes' names; and where Landlock is missing (older kernels, macOS) the worker
can still read and write whatever the user can. `describe()` says what applied; the
strategy's status shows it.
"""

from __future__ import annotations

import ctypes
import os
import platform
import resource
import struct
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from tui_trader.config.settings import STRATEGY_TIMEOUT_ENV

# Variables a worker keeps; everything else (TUI_TRADER_*, tokens, keys, proxies) is dropped.
KEEP_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "TZ", "PYTHONPATH", "TMPDIR")


def worker_env(parent: Mapping[str, str]) -> dict[str, str]:
    env = {k: parent[k] for k in KEEP_ENV if k in parent}
    env.update(
        {
            # one thread each: a worker never competes with the engine for more than a core
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "NUMEXPR_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            STRATEGY_TIMEOUT_ENV: "0",  # the engine keeps the time here, and kills
        }
    )
    return env


# -- Linux: prctl, Landlock, seccomp ---------------------------------------------------------------

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

_libc: ctypes.CDLL | None = None


def _c() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def die_with_parent(sig: int = 9) -> bool:
    """Linux: this process is killed when its parent dies (no orphaned workers)."""
    if not sys.platform.startswith("linux"):
        return False
    return _c().prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) == 0


def _no_new_privs() -> bool:
    return _c().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0


# Landlock (uapi/linux/landlock.h); the syscall numbers are the same on every architecture.
_LL_CREATE, _LL_ADD, _LL_RESTRICT = 444, 445, 446
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_ALL_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_NET_ALL = (1 << 0) | (1 << 1)  # bind, connect (TCP)
_SCOPE_ALL = (1 << 0) | (1 << 1)  # abstract Unix sockets, signals


def landlock_abi() -> int:
    if not sys.platform.startswith("linux"):
        return 0
    abi = _c().syscall(_LL_CREATE, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    return max(0, int(abi))


def _fs_all(abi: int) -> int:
    return _FS_ALL_BY_ABI[max(k for k in _FS_ALL_BY_ABI if k <= abi)]


def landlock(readable: Iterable[Path]) -> str | None:
    """Read-only access beneath `readable`, no writes anywhere (and no TCP, no signals out
    where the kernel can). A description of what applied, or None when Landlock is missing."""
    abi = landlock_abi()
    if abi < 1:
        return None
    c = _c()
    fs_all = _fs_all(abi)
    fields = [fs_all]
    if abi >= 4:
        fields.append(_NET_ALL)
    if abi >= 6:
        fields.append(_SCOPE_ALL)
    attr = struct.pack(f"<{len(fields)}Q", *fields)
    ruleset = c.syscall(_LL_CREATE, ctypes.c_char_p(attr), len(attr), 0)
    if ruleset < 0:
        return None
    try:
        for path in readable:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                rights = _FS_READ_FILE | _FS_EXECUTE | (_FS_READ_DIR if path.is_dir() else 0)
                rule = struct.pack("<Qi", rights, fd)  # landlock_path_beneath_attr (packed)
                c.syscall(_LL_ADD, ruleset, 1, ctypes.c_char_p(rule), 0)
            finally:
                os.close(fd)
        if not _no_new_privs() or c.syscall(_LL_RESTRICT, ruleset, 0) != 0:
            return None
    finally:
        os.close(ruleset)
    extra = (", no TCP" if abi >= 4 else "") + (", no signals out" if abi >= 6 else "")
    return f"landlock ABI {abi} (read-only allow-list, no writes{extra})"


# seccomp: a classic BPF filter. Syscall numbers per architecture.
_ARCH = {
    "x86_64": (
        0xC000003E,
        {"socket": 41, "socketpair": 53, "connect": 42, "execve": 59, "execveat": 322, "ptrace": 101,
         "process_vm_readv": 310, "process_vm_writev": 311, "pidfd_open": 434, "pidfd_getfd": 438},
        {"kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297},
    ),
    "aarch64": (
        0xC00000B7,
        {"socket": 198, "socketpair": 199, "connect": 203, "execve": 221, "execveat": 281, "ptrace": 117,
         "process_vm_readv": 270, "process_vm_writev": 271, "pidfd_open": 434, "pidfd_getfd": 438},
        {"kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240},
    ),
}
_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_ALLOW, _ERRNO_EPERM, _KILL = 0x7FFF0000, 0x00050001, 0x80000000


def _filter(arch: int, denied: Iterable[int], own_pid_only: Iterable[int], pid: int, x32: bool) -> bytes:
    """The BPF program: wrong architecture -> kill; `denied` -> EPERM; signals (pid in the
    first argument) -> EPERM unless aimed at this process; everything else allowed."""
    prog: list[tuple[int, int | str, int | str, int]] = [(_LD_W_ABS, 0, 0, 4), (_JEQ_K, 0, "kill", arch)]
    prog.append((_LD_W_ABS, 0, 0, 0))
    if x32:
        prog.append((_JGE_K, "eperm", 0, 0x40000000))
    for nr in denied:
        prog.append((_JEQ_K, "eperm", 0, nr))
    for nr in own_pid_only:
        # if nr matches: load the low 32 bits of args[0] (little-endian) and allow only our
        # own pid; otherwise skip both and keep comparing the syscall number
        prog.append((_JEQ_K, 0, 2, nr))
        prog.append((_LD_W_ABS, 0, 0, 16))
        prog.append((_JEQ_K, "allow", "eperm", pid))
    prog.append((_RET_K, 0, 0, _ALLOW))
    labels = {"allow": len(prog) - 1, "eperm": len(prog), "kill": len(prog) + 1}
    prog.append((_RET_K, 0, 0, _ERRNO_EPERM))
    prog.append((_RET_K, 0, 0, _KILL))
    out = bytearray()
    for i, (code, jt, jf, k) in enumerate(prog):
        jt_n = labels[jt] - i - 1 if isinstance(jt, str) else jt
        jf_n = labels[jf] - i - 1 if isinstance(jf, str) else jf
        out += struct.pack("<HBBI", code, jt_n, jf_n, k)
    return bytes(out)


def seccomp() -> str | None:
    """No new sockets, no exec, no ptrace, no signals to other processes (Linux x86_64/aarch64)."""
    machine = platform.machine()
    if not sys.platform.startswith("linux") or machine not in _ARCH:
        return None
    arch, denied, signals = _ARCH[machine]
    program = _filter(arch, denied.values(), signals.values(), os.getpid(), machine == "x86_64")
    buf = ctypes.create_string_buffer(program, len(program))
    fprog = ctypes.create_string_buffer(struct.pack("@HP", len(program) // 8, ctypes.addressof(buf)))
    if not _no_new_privs():
        return None
    if _c().prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fprog, 0, 0) != 0:
        return None
    return "seccomp (no sockets, exec, ptrace or signals to others)"


def limits(memory_mb: int | None = None) -> str:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # no file can grow (Python ignores SIGXFSZ)
    text = "rlimits (no core, no file writes"
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        text += f", {memory_mb} MB of address space"
    return text + ")"


def readable_paths(strategy_dirs: Iterable[Path]) -> list[Path]:
    """What a worker may read: Python and its packages, the strategy folders, a few system
    files (time zones, the dynamic linker's cache, randomness)."""
    paths = {Path(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    paths.update(Path(p) for p in sys.path if p and Path(p).exists())
    # packages found by import hooks rather than sys.path (an editable install of tui_trader)
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file and "." not in (module.__name__ or "."):
            paths.add(Path(file).resolve().parent)
    paths.update(Path(d) for d in strategy_dirs)
    for system in ("/usr/lib", "/usr/lib64", "/usr/local/lib", "/lib", "/lib64", "/usr/share/zoneinfo",
                   "/etc/localtime", "/etc/ld.so.cache", "/dev/null", "/dev/urandom", "/proc/self"):
        paths.add(Path(system))
    return sorted(p for p in paths if p.exists() and p != Path(p.anchor))  # never the whole disk


def apply(strategy_dirs: Iterable[Path], memory_mb: int | None = None) -> str:
    """Everything this platform offers, in order; a one-line description of what applied."""
    parts = [limits(memory_mb)]
    fs = landlock(readable_paths(strategy_dirs))
    parts.append(fs or "no file sandbox (Landlock unavailable): the worker can touch the user's files")
    sc = seccomp()
    if sc:
        parts.append(sc)
    return "; ".join(parts)
