"""Protected checks: every test cell run again outside the student's kernel.

A test cell that passes in the student's kernel proves little: the submission
shares that interpreter and may have replaced ``numpy.testing``, the metrics it
is compared with, the data, or the test cell itself. So an exercise earns its
points only when its test cell (visible and hidden checks) also passes here:

1. **Reference run** (:func:`capture_reference`, once per lesson and batch).
   The grader runs the *instructor* notebook, with no student code, in its own
   kernel and saves, before each test cell, the values that test reads
   (:mod:`kplearn.assignments.capture`).
2. **Checker and student process** (:func:`run_checks`, once per submission).
   A fresh *student process* (:mod:`kplearn.assignments.student_process`, in
   the submission's scratch folder, scrubbed environment, limits) runs only the
   submission's *definitions*: top-level imports, ``def``, ``class`` and
   constant assignments of its code cells, in order. A fresh *checker process*
   rebuilds each test's namespace from the reference run, replaces the
   exercise functions (those the instructor's solution cells define) by
   proxies, and executes the instructor's test source. A proxy call sends the
   arguments to the student process and gets the result back as plain data
   (never pickle), so ``numpy.testing``, ``kplearn.metrics`` and the data the
   checks use are the checker's own, freshly imported, untouched.
3. **Traps.** While the student's function runs, the *references* of its test —
   every function the test cell calls outside numpy, torch, scipy and the
   standard library (``metrics.epe``, ``codecs.encode_heatmaps``,
   ``cv2.cornerHarris``, ...) plus the dotted names in the test cell's metadata
   ``kplearn.references`` — are replaced by traps wherever they are bound, and a
   profile hook recognises their code (also after ``importlib.reload`` or a
   verbatim copy). Calling one ends the student process; the test fails with
   "calls the reference ...". So a function that merely calls the library's
   reference earns nothing.

Some tests cannot be checked this way; they count in the kernel only and the
report says so (:attr:`CheckPlan.kernel_only`): a test reading a value the
notebook computes with the student's functions, one that differentiates
through the student's function (``autograd``/``backward``), one whose exercise
defines a class, one using IPython magics, and one reading a value of the
reference run that does not pickle. :func:`plan_checks` tells which, so the
course's tests can insist that none of its exercises is left in that state.

Examples
--------
>>> from kplearn.assignments.markup import example_notebook, parse_assignment
>>> nb = example_notebook(
...     "import numpy as np\\ndata = np.arange(4.0)",
...     "def total(x):\\n    ### BEGIN SOLUTION\\n    return float(np.sum(x))\\n    ### END SOLUTION",
...     "# Test ex1 (1 point)\\nassert total(data) == np.sum(data)",
... )
>>> plan = plan_checks(parse_assignment(nb, name="demo"))["ex1"]
>>> plan.student_names, plan.reads, plan.kernel_only
(('total',), ('data', 'np'), '')
"""

from __future__ import annotations

import ast
import base64
import builtins
import hashlib
import hmac
import importlib
import json
import os
import pickle
import secrets
import select
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from kplearn.assignments.markup import Assignment

__all__ = [
    "BASIC_MODULES",
    "CheckPlan",
    "Reference",
    "CheckResult",
    "plan_checks",
    "capture_cell",
    "capture_reference",
    "run_checks",
    "decode",
]

#: Modules whose functions are never traps: a solution may use them as freely as a test.
BASIC_MODULES = frozenset(
    "builtins numpy torch scipy math cmath random itertools functools collections operator "
    "statistics re json typing copy warnings time contextlib io os pathlib".split()
)

_CHECKER_ENV = {"TQDM_DISABLE": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}


@dataclass(frozen=True)
class CheckPlan:
    """How one test cell is checked outside the kernel.

    ``source`` is the instructor's full test cell (visible and hidden checks) as
    Python, ``student_names`` the exercise functions (defined by the
    instructor's solution cells) it may call, ``reads`` the other names it reads
    (taken from the reference run), ``references`` extra dotted names to trap
    (test-cell metadata ``kplearn.references``), ``kernel_only`` why the test
    cannot be checked outside the kernel ('' when it can).
    """

    grade_id: str
    source: str
    student_names: tuple[str, ...]
    reads: tuple[str, ...]
    references: tuple[str, ...] = ()
    kernel_only: str = ""


@dataclass
class Reference:
    """Captured reference values per grade id (pickled bytes), from :func:`capture_reference`."""

    lesson: str
    captures: dict[str, bytes]
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


@dataclass
class CheckResult:
    """The outcome of one protected check."""

    grade_id: str
    passed: bool
    message: str = ""
    checked: bool = True  # False: kernel-only (message says why)


def _python(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _stores_loads(tree) -> tuple[set[str], list[str]]:
    """Names stored anywhere in ``tree``; names loaded before any store of them (in order)."""
    events = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            events.append((node.lineno, node.col_offset, type(node.ctx).__name__, node.id))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            events.append((node.lineno, node.col_offset, "Store", node.name))
        elif isinstance(node, ast.alias):
            name = (node.asname or node.name).split(".")[0]
            events.append((getattr(node, "lineno", 0), 0, "Store", name))
        elif isinstance(node, ast.arg):
            events.append((node.lineno, node.col_offset, "Store", node.arg))
    stored: set[str] = set()
    free: list[str] = []
    for *_, kind, name in sorted(events):
        if kind == "Load":
            if name not in stored and name not in free:
                free.append(name)
        else:
            stored.add(name)
    return stored, free


def _top_level_names(tree) -> tuple[set[str], set[str]]:
    """(names defined by def/class, other names stored) at the top level of ``tree``."""
    defs, stores = set(), set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defs.add(node.name)
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    stores.add(sub.id)
    return defs, stores


def plan_checks(assignment: Assignment) -> dict[str, CheckPlan]:
    """How each test cell of ``assignment`` is checked outside the kernel (module docstring)."""
    nb = assignment.nb
    solution_cells = {s.index for s in assignment.solutions}
    test_cells = {t.index: t for t in assignment.tests}
    student_defs: set[str] = set()
    classes: set[str] = set()
    tainted: set[str] = set()
    trees = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            trees[index] = ast.parse(_python(cell.source))
        except SyntaxError:
            trees[index] = ast.parse("")
        if index in solution_cells:
            defs, stores = _top_level_names(trees[index])
            student_defs |= defs
            tainted |= stores - defs
            classes |= {n.name for n in trees[index].body if isinstance(n, ast.ClassDef)}
    # A value computed from the student's functions is the student's, not the reference's.
    # Statement by statement: a cell may define a reference value and then print a result.
    for index in sorted(trees):
        if index in solution_cells:
            continue
        for statement in trees[index].body:
            loads = {n.id for n in ast.walk(statement) if isinstance(n, ast.Name)}
            if loads & (student_defs | tainted):
                defs, stores = _top_level_names(ast.Module([statement], type_ignores=[]))
                tainted |= (defs | stores) - student_defs
    plans = {}
    for index, test in test_cells.items():
        plan = _plan_test(nb, index, test, trees[index], student_defs, classes, tainted)
        if plan.kernel_only.startswith("it reads") and test.hidden:
            # The hidden checks alone may still be checkable outside the kernel.
            lines = nb.cells[index].source.splitlines()
            hidden = "\n".join(
                "\n".join(lines[r.begin + 1 : r.end]) for r in test.hidden
            )
            try:
                tree = ast.parse(_python(hidden))
            except SyntaxError:
                tree = None
            if tree is not None:
                alone = _plan_test(nb, index, test, tree, student_defs, classes, tainted, hidden)
                if not alone.kernel_only:
                    plan = alone
        plans[test.grade_id] = plan
    return plans


def _plan_test(nb, index, test, tree, student_defs, classes, tainted, source=None) -> CheckPlan:
    source = _python(nb.cells[index].source if source is None else source)
    _, free = _stores_loads(tree)
    free = [n for n in free if not hasattr(builtins, n)]
    uses = tuple(sorted(n for n in free if n in student_defs))
    reads = tuple(sorted(n for n in free if n not in student_defs))
    meta = nb.cells[index].get("metadata", {}).get("kplearn", {})
    refs = meta.get("references", []) if isinstance(meta, dict) else []
    if isinstance(refs, str):
        refs = [refs]
    reason = ""
    if "get_ipython" in source:
        reason = "it uses IPython magics"
    elif "autograd" in source or ".backward(" in source:
        reason = "it differentiates through the student's function"
    elif set(uses) & classes:
        reason = f"the exercise defines a class ({', '.join(sorted(set(uses) & classes))})"
    elif set(reads) & tainted:
        names = ", ".join(sorted(set(reads) & tainted))
        reason = f"it reads {names}, which the notebook computes with the student's code"
    elif not uses:
        reason = "it calls no function of the exercise"
    return CheckPlan(test.grade_id, source, uses, reads, tuple(str(r) for r in refs), reason)


def capture_cell(names, path: str | Path) -> str:
    """Source of the cell the reference run inserts before a test cell."""
    return (
        '__import__("kplearn.assignments.capture", fromlist=["save"])'
        f".save(globals(), {list(names)!r}, {str(path)!r})"
    )


def capture_reference(
    assignment: Assignment,
    *,
    parameters: dict | None = None,
    cell_timeout: float = 900.0,
    scratch_base: str | Path | None = None,
    snapshot=None,
    memory: int | None = None,
    kernel_name: str = "python3",
) -> Reference:
    """Run the instructor notebook once, no student code, and capture what each test reads.

    The kernel runs isolated like a submission's (:mod:`kplearn.assignments.isolation`),
    so that the reference sees the same library copy and environment.
    """
    import tempfile

    from kplearn.assignments import isolation
    from kplearn.assignments.kernel import KernelSession

    start = time.perf_counter()
    plans = plan_checks(assignment)
    snapshot = snapshot or isolation.LibrarySnapshot()
    base = Path(scratch_base) if scratch_base else Path(tempfile.mkdtemp(prefix="kplearn-ref-"))
    base.mkdir(parents=True, exist_ok=True)
    scratch = isolation.make_scratch(base, snapshot)
    out = scratch / "capture"
    out.mkdir()
    token = secrets.token_hex(8)
    env = isolation.scrubbed_env(scratch, token=token, extra=_kernel_env())
    problems: list[str] = []
    captures: dict[str, bytes] = {}
    kernel = KernelSession(
        scratch / "work", env, kernel_name=kernel_name, replace_env=True,
        preexec_fn=isolation.limit_process(memory),
    )
    kernel.start()
    try:
        tests = {t.index: t.grade_id for t in assignment.tests}
        for index, cell in enumerate(assignment.nb.cells):
            if cell.cell_type != "code" or "injected-parameters" in cell.metadata.get("tags", []):
                continue
            gid = tests.get(index)
            if gid is not None and not plans[gid].kernel_only:
                kernel.run(capture_cell(plans[gid].reads, out / f"{gid}.pickle"), 60)
            outcome = kernel.run(cell.source, cell_timeout)
            if outcome.status != "ok":
                problems.append(f"cell {index + 1}: {outcome.status} {outcome.ename} {outcome.evalue}")
            if index == assignment.parameters_index and parameters:
                kernel.run("\n".join(f"{k} = {v!r}" for k, v in parameters.items()), 60)
            if not outcome.kernel_ok:
                problems.append(f"the reference kernel stopped at cell {index + 1}")
                break
    finally:
        kernel.stop()
        isolation.kill_marked(token)
    for gid, plan in plans.items():
        path = out / f"{gid}.pickle"
        if not plan.kernel_only and path.is_file():
            captures[gid] = path.read_bytes()
    isolation.remove(scratch)
    return Reference(assignment.name, captures, time.perf_counter() - start, problems)


def _kernel_env() -> dict[str, str]:
    return {
        "TQDM_DISABLE": "1",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "KPLEARN_GRADING": "1",
        "OMP_NUM_THREADS": "1",
    }


# --- plain data back from the student process ---------------------------------------------
_KINDS = "biufc"


def decode(data, depth: int = 0):
    """The value of :func:`kplearn.assignments.student_process.encode`'s tagged data.

    Only numbers, strings, lists, tuples, dicts, numpy arrays (numeric and bool
    dtypes) and torch tensors come back; anything else raises ``ValueError``.

    Examples
    --------
    >>> decode({"t": "tuple", "v": [{"t": "int", "v": "2"}, {"t": "float", "v": "nan"}]})
    (2, nan)
    """
    if depth > 60 or not isinstance(data, dict):
        raise ValueError("malformed value from the student process")
    kind = data.get("t")
    value = data.get("v")
    if kind == "none":
        return None
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return int(str(value))
    if kind == "float":
        return float(str(value))
    if kind == "complex":
        return complex(float(value[0]), float(value[1]))
    if kind == "str":
        return str(value)
    if kind in ("list", "tuple"):
        items = [decode(item, depth + 1) for item in value]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {decode(k, depth + 1): decode(v, depth + 1) for k, v in value}
    if kind in ("ndarray", "npscalar", "tensor"):
        import numpy as np

        dtype = np.dtype(str(data["dtype"]))
        if dtype.kind not in _KINDS:
            raise ValueError(f"dtype {dtype} is not allowed")
        shape = tuple(int(n) for n in data["shape"])
        array = np.frombuffer(base64.b64decode(data["data"]), dtype=dtype).reshape(shape).copy()
        if kind == "npscalar":
            return array[()]
        if kind == "tensor":
            import torch

            return torch.from_numpy(array)
        return array
    raise ValueError(f"malformed value from the student process (kind {kind!r})")


# --- framing -------------------------------------------------------------------------------
def _send(fd: int, payload: bytes) -> None:
    data = struct.pack(">I", len(payload)) + payload
    while data:
        data = data[os.write(fd, data) :]


def _read_chunk(fd: int, deadline: float, size: int) -> bytes | None:
    """Up to ``size`` bytes from ``fd`` once it has some; None on EOF or when ``deadline`` passes."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
        if ready:
            return os.read(fd, size) or None


def _receive(fd: int, deadline: float, limit: int = 300 * 1024 * 1024) -> bytes | None:
    """One length-prefixed message from ``fd``; None on EOF or when ``deadline`` passes."""
    buffer = b""
    need = 4
    size = None
    while True:
        while len(buffer) < need:
            chunk = _read_chunk(fd, deadline, min(need - len(buffer), 1 << 20))
            if chunk is None:
                return None
            buffer += chunk
        if size is None:
            (size,) = struct.unpack(">I", buffer[:4])
            if size > limit:
                return None
            buffer, need = b"", size
            if size == 0:
                return b""
        else:
            return buffer


class StudentCrashed(Exception):
    """The student process died, timed out, or hit a trap during a call."""


class _StudentClient:
    """The checker's end of the student process."""

    def __init__(self, job: dict) -> None:
        self.job = job
        self.proc = None
        self.failure = ""
        self.skipped: list[str] = []

    def start(self) -> None:
        job = self.job
        script = Path(__file__).with_name("student_process.py")
        from kplearn.assignments import isolation

        self.proc = subprocess.Popen(
            [sys.executable, str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=job["cwd"],
            env=job["env"],
            start_new_session=True,
            preexec_fn=isolation.limit_process(job.get("memory")),
        )
        init = {"definitions": job["definitions"], "traps": job["traps"]}
        _send(self.proc.stdin.fileno(), pickle.dumps(init))
        reply = self._reply(job["start_timeout"])
        self.skipped = list(reply.get("skipped", [])) if isinstance(reply, dict) else []

    def _reply(self, timeout: float) -> dict:
        data = _receive(self.proc.stdout.fileno(), time.monotonic() + timeout)
        if data is None:
            alive = self.proc.poll() is None
            self.stop()
            raise StudentCrashed(
                f"the student's code ran longer than {timeout:.0f} s" if alive
                else "the student process died"
            )
        try:
            message = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self.stop()
            raise StudentCrashed("the student process answered garbage") from None
        if not isinstance(message, dict):
            self.stop()
            raise StudentCrashed("the student process answered garbage")
        if "trap" in message:
            self.stop()
            raise StudentCrashed(
                f"calls the reference {message['trap']}, which this exercise re-implements"
            )
        return message

    def call(self, test: str, name: str, args, kwargs):
        if self.failure:
            raise StudentCrashed(self.failure)
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        try:
            payload = pickle.dumps({"call": name, "test": test, "args": args, "kwargs": kwargs})
        except Exception as err:
            raise TypeError(f"the grader cannot send these arguments to {name}: {err}") from None
        try:
            _send(self.proc.stdin.fileno(), payload)
        except OSError:
            self.stop()
            self.failure = "the student process died"
            raise StudentCrashed(self.failure) from None
        try:
            reply = self._reply(self.job["call_timeout"])
        except StudentCrashed as err:
            self.failure = str(err)
            raise
        if "error" in reply:
            error = reply["error"] if isinstance(reply["error"], dict) else {}
            kind = str(error.get("type", "Exception"))
            message = str(error.get("message", ""))
            cls = getattr(builtins, kind, None)
            if not (isinstance(cls, type) and issubclass(cls, Exception)):
                raise RuntimeError(f"{kind}: {message}")
            try:
                raised = cls(message)
            except Exception:
                raised = RuntimeError(f"{kind}: {message}")
            raise raised
        try:
            return decode(reply.get("value"))
        except (ValueError, TypeError, KeyError) as err:
            raise StudentCrashed(f"the student's function returned an unreadable value ({err})") from None

    def stop(self) -> None:
        if self.proc is not None:
            from kplearn.assignments import isolation

            isolation.kill_tree(self.proc.pid)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self.proc = None


class _Proxy:
    def __init__(self, client: _StudentClient, test: str, name: str) -> None:
        self._client, self._test, self.__name__ = client, test, name

    def __call__(self, *args, **kwargs):
        return self._client.call(self._test, self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<student function {self.__name__}>"


# --- the checker process -----------------------------------------------------------------
def _namespace(entries: dict) -> tuple[dict, str]:
    namespace = {"__name__": "__kplearn_check__", "__builtins__": builtins}
    for name, (kind, value) in entries.items():
        try:
            if kind == "module":
                namespace[name] = importlib.import_module(value)
            elif kind == "pickle":
                namespace[name] = pickle.loads(value)  # noqa: S301 - the grader's own reference run
        except Exception as err:
            return namespace, f"the reference value {name} cannot be loaded ({type(err).__name__}: {err})"
    for name, (kind, value) in entries.items():
        if kind == "source":
            try:
                exec(compile(value, f"<reference {name}>", "exec"), namespace)  # noqa: S102
            except Exception as err:
                return namespace, f"the notebook's {name} cannot be defined again ({err})"
        elif kind == "missing":
            return namespace, f"the reference value {name} is not available ({value})"
    return namespace, ""


def _references(tree, namespace: dict, extra) -> list[tuple[str, str, str]]:
    """(module, qualname, label) of the functions the test calls outside BASIC_MODULES."""
    found: dict[str, tuple[str, str, str]] = {}

    def chain(node):
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            return [node.id, *reversed(parts)]
        return None

    targets = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            names = chain(node.func)
            if names:
                targets.append(names)
    for dotted in extra:
        targets.append(["__import__", *str(dotted).split(".")])
    for names in targets:
        try:
            if names[0] == "__import__":
                module_path = names[1:]
                obj = None
                for cut in range(len(module_path), 0, -1):
                    try:
                        obj = importlib.import_module(".".join(module_path[:cut]))
                    except ImportError:
                        continue
                    for attr in module_path[cut:]:
                        obj = getattr(obj, attr)
                    break
            else:
                obj = namespace[names[0]]
                for attr in names[1:]:
                    obj = getattr(obj, attr)
        except Exception:  # noqa: S112 - not resolvable here: nothing to trap
            continue
        if isinstance(obj, _Proxy) or isinstance(obj, type) or not callable(obj):
            continue
        func = getattr(obj, "__func__", obj)
        module = getattr(func, "__module__", None) or ""
        qualname = getattr(func, "__qualname__", None) or getattr(func, "__name__", "")
        if not module or not qualname or "<" in qualname:
            continue
        if module.split(".")[0] in BASIC_MODULES:
            continue
        label = ".".join(names[1:] if names[0] == "__import__" else names)
        found[f"{module}:{qualname}"] = (module, qualname, label)
    return list(found.values())


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout


def _checker_main() -> None:
    job = pickle.load(sys.stdin.buffer)  # from the grading worker (trusted)
    sys.stdin.close()
    out = sys.stdout.buffer
    key = job["key"].encode()

    def emit(message: dict) -> None:
        data = json.dumps(message, sort_keys=True)
        mac = hmac.new(key, data.encode(), hashlib.sha256).hexdigest()
        out.write((json.dumps({"data": data, "mac": mac}) + "\n").encode())
        out.flush()

    for name, value in _CHECKER_ENV.items():
        os.environ.setdefault(name, value)
    os.chdir(job["checker_cwd"])
    prepared = []
    trap_spec = {}
    for test in job["tests"]:
        namespace, problem = _namespace(pickle.loads(test["captured"]))  # noqa: S301
        tree = ast.parse(test["source"])
        refs = _references(tree, namespace, test["references"]) if not problem else []
        trap_spec[test["grade_id"]] = refs
        prepared.append((test, namespace, problem, tree))
    client = _StudentClient({**job["student"], "traps": trap_spec})
    signal.signal(signal.SIGALRM, _alarm)
    for test, namespace, problem, tree in prepared:
        gid = test["grade_id"]
        if problem:
            emit({"grade_id": gid, "passed": False, "checked": False, "message": problem})
            continue
        client.failure = ""
        for name in test["student_names"]:
            namespace[name] = _Proxy(client, gid, name)
        code = compile(tree, f"<protected check {gid}>", "exec")
        message, passed = "", False
        # A little beyond one call's limit, so that a single slow call is reported as such.
        signal.alarm(max(1, int(job["test_timeout"]) + 5))
        try:
            exec(code, namespace)  # noqa: S102 - the instructor's test source
            passed = True
        except _Timeout:
            message = f"the protected check ran longer than {job['test_timeout']:.0f} s"
            client.stop()  # a call may still be running in the student process
        except StudentCrashed as err:
            message = str(err)
        except AssertionError as err:
            first = " ".join(str(err).split())[:300]
            message = "AssertionError" + (f": {first}" if first else "")
        except Exception as err:  # the check failed with another error
            message = f"{type(err).__name__}: {' '.join(str(err).split())[:300]}"
        finally:
            signal.alarm(0)
        if client.failure:  # a trap or a crash the test code caught
            passed, message = False, client.failure
        emit({"grade_id": gid, "passed": passed, "checked": True, "message": message,
              "skipped": client.skipped[:5]})
    client.stop()


def run_checks(
    plans: dict[str, CheckPlan],
    reference: Reference,
    student_sources: list[str],
    *,
    scratch: str | Path,
    env: dict[str, str],
    memory: int | None = None,
    call_timeout: float = 120.0,
    test_timeout: float = 600.0,
    start_timeout: float = 120.0,
) -> dict[str, CheckResult]:
    """Run the protected checks of one submission (module docstring); never raises for it.

    ``student_sources`` are the submission's code cells (test cells excluded) in
    the order of the graded notebook; ``scratch`` its scratch folder (the
    student process works in ``scratch/work`` with ``env``).
    """
    results: dict[str, CheckResult] = {}
    tests = []
    for gid, plan in plans.items():
        if plan.kernel_only:
            results[gid] = CheckResult(gid, True, f"checked in the kernel only: {plan.kernel_only}", False)
        elif gid not in reference.captures:
            results[gid] = CheckResult(
                gid, True, "checked in the kernel only: the reference run did not reach this test", False
            )
        else:
            tests.append(
                {
                    "grade_id": gid,
                    "source": plan.source,
                    "student_names": list(plan.student_names),
                    "captured": reference.captures[gid],
                    "references": list(plan.references),
                }
            )
    if not tests:
        return results
    key = secrets.token_hex(16)
    checker_cwd = Path(scratch) / "checker"
    checker_cwd.mkdir(exist_ok=True)
    job = {
        "key": key,
        "tests": tests,
        "checker_cwd": str(checker_cwd),
        "test_timeout": float(test_timeout),
        "student": {
            "definitions": [_python_or_empty(s) for s in student_sources],
            "cwd": str(Path(scratch) / "work"),
            "env": env,
            "memory": memory,
            "call_timeout": float(call_timeout),
            "start_timeout": float(start_timeout),
        },
    }
    from kplearn.assignments import isolation

    proc = isolation.start_helper("kplearn.assignments.protected", stderr=subprocess.PIPE)
    try:
        proc.stdin.write(pickle.dumps(job))
        proc.stdin.close()
        deadline = time.monotonic() + start_timeout + test_timeout * len(tests) + 30
        while time.monotonic() < deadline:
            line = _readline(proc.stdout, deadline)
            if line is None:
                break
            try:
                wrapped = json.loads(line)
                data = wrapped["data"]
                mac = hmac.new(key.encode(), data.encode(), hashlib.sha256).hexdigest()
                if not hmac.compare_digest(mac, str(wrapped["mac"])):
                    continue  # not from the checker: ignored
                message = json.loads(data)
            except (ValueError, KeyError, TypeError):
                continue
            gid = message.get("grade_id")
            if gid in {t["grade_id"] for t in tests} and gid not in results:
                results[gid] = CheckResult(
                    gid, bool(message.get("passed")), str(message.get("message", "")),
                    bool(message.get("checked", True)),
                )
            if all(t["grade_id"] in results for t in tests):
                break
    finally:
        isolation.kill_tree(proc.pid)
        stderr = b""
        try:
            proc.wait(timeout=10)
            stderr = proc.stderr.read()[-2000:]
        except (subprocess.TimeoutExpired, OSError, ValueError):
            pass
        for stream in (proc.stdout, proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
        isolation.kill_marked(env.get(isolation.TOKEN_VARIABLE, "-"))
    for test in tests:
        gid = test["grade_id"]
        if gid not in results:
            tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            results[gid] = CheckResult(gid, False, f"the protected check did not finish {tail[0]}".strip())
    return results


def _python_or_empty(source: str) -> str:
    try:
        return _python(source)
    except Exception:
        return ""


_BUFFERS: dict[int, bytes] = {}


def _readline(stream, deadline: float) -> str | None:
    fd = stream.fileno()
    buffer = _BUFFERS.pop(fd, b"")
    while b"\n" not in buffer:
        chunk = _read_chunk(fd, deadline, 1 << 20)
        if chunk is None:
            return None
        buffer += chunk
        if len(buffer) > 64 * 1024 * 1024:
            return None
    line, _, rest = buffer.partition(b"\n")
    _BUFFERS[fd] = rest
    return line.decode("utf-8", "replace")


if __name__ == "__main__":
    _checker_main()
