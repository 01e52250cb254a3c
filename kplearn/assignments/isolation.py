"""Keep a submission's processes apart from the grader: scratch folders, limits, clean-up.

What every process that runs student code gets (the kernel and the student
process of the protected checks, :mod:`kplearn.assignments.protected`):

- its own **scratch folder** (:func:`make_scratch`): ``work/`` (the working
  directory, holding only what the lesson needs), ``home/``, ``tmp/`` and
  ``lib/kplearn`` — a copy of the package (and ``lib/datasets``, the sample
  data beside it that lessons read), so that ``kplearn.__file__`` and
  :func:`kplearn.lessons.default_lesson_dir` lead into the scratch folder and
  not to the course's ``notebooks/`` with the solutions;
- a **scrubbed environment** (:func:`scrubbed_env`): ``PATH``, locale and time
  zone, ``HOME``/``TMPDIR`` in the scratch folder, ``PYTHONPATH`` on the copy,
  and nothing else of the grader's (no tokens, no paths to the course);
- **limits** (:func:`limit_process`): address space (``RLIMIT_AS``), a number
  of processes, no core files; it runs in its own session;
- an **environment token** so that every descendant can be found and killed at
  the end (:func:`kill_marked`), even one that left the session; the grader's
  worker is also a child subreaper (:func:`become_subreaper`), so orphans come
  back to it.

This makes cheating by accident or by the obvious routes impossible; it is not a
sandbox. Code running under the grader's user can still read any file that user
can read (if it knows where to look), signal the grader's processes and read
their memory. For a class whose work you do not trust, grade each submission in
a container (nbgrader under JupyterHub with a container spawner, or ``docker run
--network none --read-only`` per submission) or under an account that can read
nothing else.

Examples
--------
>>> env = scrubbed_env("/tmp/s", token="abc")
>>> env["HOME"], env["KPLEARN_GRADING_TOKEN"], "SECRET" in env
('/tmp/s/home', 'abc', False)
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

__all__ = [
    "TOKEN_VARIABLE",
    "LibrarySnapshot",
    "holds",
    "start_helper",
    "make_scratch",
    "scrubbed_env",
    "limit_process",
    "become_subreaper",
    "children",
    "descendants",
    "kill_tree",
    "kill_marked",
    "is_stopped",
    "reap_orphans",
    "remove",
]

#: Environment variable holding the per-submission token of every student process.
TOKEN_VARIABLE = "KPLEARN_GRADING_TOKEN"

_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")


class LibrarySnapshot:
    """The files of the installed ``kplearn`` package, read once, written back on demand.

    Taken before any student code runs. :meth:`write` puts a fresh copy of the
    package into a folder (a scratch folder, or the grader's private copy);
    :meth:`changed` lists installed files that differ from the snapshot. The
    installed files are never written.
    """

    def __init__(self, package_dir: str | Path | None = None) -> None:
        if package_dir is None:
            import kplearn

            package_dir = Path(kplearn.__file__).resolve().parent
        self.root = Path(package_dir)
        self.files: dict[str, bytes] = {}
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                self.files[path.relative_to(self.root).as_posix()] = path.read_bytes()
        # The sample data beside the package (kplearn.lessons.sample_path), which lessons
        # read; never the notebooks folder.
        self.samples: dict[str, bytes] = {}
        samples = self.root.parent / "datasets"
        if samples.is_dir():
            for path in sorted(samples.rglob("*")):
                if path.is_file() and path.stat().st_size <= 50 * 1024**2:
                    self.samples[path.relative_to(samples).as_posix()] = path.read_bytes()

    def write(self, lib_dir: str | Path) -> Path:
        """Write the package as ``lib_dir/kplearn``; returns that folder."""
        target = Path(lib_dir) / "kplearn"
        for folder, files in ((target, self.files), (Path(lib_dir) / "datasets", self.samples)):
            for name, data in files.items():
                path = folder / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        return target

    def changed(self) -> list[str]:
        """Installed files that differ from the snapshot (read-only: nothing is rewritten).

        The grader's own processes import the library from a private copy
        (:meth:`write`), so a submission that edits the installed package
        changes nothing of this batch's grading; the report names the files so
        that the instructor can reinstall before the next run.
        """
        return [name for name, data in self.files.items() if not holds(self.root / name, data)]


def holds(path: str | Path, data: bytes) -> bool:
    """Whether the file ``path`` holds exactly ``data`` (a missing or unreadable one does not).

    Examples
    --------
    >>> holds("/nonexistent/file", b"")
    False
    """
    try:
        return Path(path).read_bytes() == data
    except OSError:
        return False


def start_helper(module: str, **popen) -> subprocess.Popen:
    """Start one of the grader's helper processes, ``python -m module``, in a new session.

    The grading worker and the protected checker start this way. Its stdin and
    stdout are pipes (the caller sends the job on stdin and reads the replies);
    ``popen`` (``stderr``, ``env``, ``cwd``) goes to :class:`subprocess.Popen`.
    """
    return subprocess.Popen(
        [sys.executable, "-m", module],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
        **popen,
    )


def make_scratch(base: str | Path, snapshot: LibrarySnapshot | None = None) -> Path:
    """A new scratch folder under ``base`` with ``work/``, ``home/``, ``tmp/`` and ``lib/``."""
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="submission-", dir=base))
    for name in ("work", "home", "tmp", "lib"):
        (root / name).mkdir()
    if snapshot is not None:
        snapshot.write(root / "lib")
    return root


def scrubbed_env(scratch: str | Path, *, token: str, extra: dict | None = None) -> dict[str, str]:
    """The environment of a student process: see the module docstring."""
    scratch = Path(scratch)
    env = {key: os.environ[key] for key in _KEEP if key in os.environ}
    env.setdefault("PATH", "/usr/bin:/bin")
    python_dir = str(Path(sys.executable).parent)
    if python_dir not in env["PATH"].split(os.pathsep):
        env["PATH"] = python_dir + os.pathsep + env["PATH"]
    env.update(
        {
            "HOME": str(scratch / "home"),
            "TMPDIR": str(scratch / "tmp"),
            "MPLCONFIGDIR": str(scratch / "home" / ".matplotlib"),
            "PYTHONPATH": str(scratch / "lib"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "JUPYTER_PLATFORM_DIRS": "1",
            TOKEN_VARIABLE: token,
        }
    )
    env.update(extra or {})
    return env


def limit_process(memory: int | None = None, processes: int | None = 256):
    """A ``preexec_fn`` that sets the limits of the module docstring in the child.

    ``memory`` is the address-space limit in bytes (``None``: none). ``processes``
    is how many processes beyond the user's current count the child may start:
    ``RLIMIT_NPROC`` counts all processes of the user, so the limit is set to
    that count plus ``processes`` (root is not bound by it).
    """
    current = _process_count() if processes is not None else 0

    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        if processes is not None:
            soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
            want = current + processes
            if hard != resource.RLIM_INFINITY:
                want = min(want, hard)
            resource.setrlimit(resource.RLIMIT_NPROC, (want, want))

    return apply


def _process_count() -> int:
    uid = os.getuid()
    count = 0
    for entry in _proc_entries():
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid:
                count += 1
        except OSError:
            pass
    return count


def _proc_entries() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def become_subreaper() -> bool:
    """Make orphaned descendants of this process its children (Linux); False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, parent pid) of ``pid`` from /proc, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return fields[0], int(fields[1])


def is_stopped(pid: int) -> bool:
    """Whether ``pid`` is stopped (``SIGSTOP``) or traced."""
    info = _stat(pid)
    return info is not None and info[0] in ("T", "t")


def children(pid: int) -> list[int]:
    """Pids whose parent is ``pid``."""
    return [p for p in _proc_entries() if (_stat(p) or ("", -1))[1] == pid]


def descendants(pid: int) -> list[int]:
    """Every descendant of ``pid`` (children first)."""
    parents = {}
    for p in _proc_entries():
        info = _stat(p)
        if info is not None:
            parents[p] = info[1]
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [p for p, parent in parents.items() if parent == current and p not in found]
        found.extend(kids)
        frontier.extend(kids)
    return found


def _kill(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def kill_tree(pid: int, *, include_self: bool = True, rounds: int = 5) -> None:
    """SIGKILL ``pid`` and all its descendants (repeated: a dying tree may still fork)."""
    for _ in range(rounds):
        pids = descendants(pid)
        if include_self:
            pids.insert(0, pid)
        pids = [p for p in pids if (_stat(p) or ("Z", 0))[0] != "Z"]  # one read: it may exit
        if not pids:
            break
        # Stop first so that nothing forks while the tree is being killed.
        for p in pids:
            try:
                os.kill(p, signal.SIGSTOP)
            except OSError:
                pass
        _kill(pids)
        time.sleep(0.02)


def kill_marked(token: str) -> int:
    """SIGKILL every process whose environment holds ``TOKEN_VARIABLE=token``; the count."""
    needle = f"{TOKEN_VARIABLE}={token}".encode()
    killed = 0
    for _ in range(5):
        found = []
        for pid in _proc_entries():
            if pid == os.getpid():
                continue
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            if needle in environ.split(b"\0"):
                found.append(pid)
        if not found:
            break
        _kill(found)
        killed += len(found)
        time.sleep(0.02)
    return killed


def reap_orphans() -> None:
    """Collect exited children (zombies) of this process without blocking.

    Only for a process whose children are all started without ``subprocess``
    bookkeeping it still needs (the grading worker, once its kernel is gone).
    """
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        except OSError:
            return
        if pid == 0:
            return


def remove(path: str | Path) -> None:
    """Delete a scratch folder, whatever a submission left in it."""
    shutil.rmtree(path, ignore_errors=True)
