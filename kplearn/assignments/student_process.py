"""The student process of the protected checks: the submission's functions, called on request.

Started by the checker (:mod:`kplearn.assignments.protected`) as
``python student_process.py`` — by path, so that nothing of the grader is
imported — in the submission's scratch folder with a scrubbed environment and
limits. It reads length-prefixed messages on stdin and answers on a private
copy of stdout (fd 1 and 2 are sent to ``/dev/null`` before any student code
runs):

- the first message (pickled, from the trusted checker) holds the submission's
  definitions and, per test, the references to trap;
- each further message asks for one call ``name(*args, **kwargs)``; the answer
  is JSON built by :func:`encode` (numbers, strings, containers, numpy arrays and
  torch tensors as raw bytes) — never pickle, so the checker runs no code of the
  student's when it reads it.

While a call runs, the references of its test are replaced by traps wherever
they are bound, and a profile hook recognises their code objects (also after a
reload or a verbatim copy) and builtins: a trap writes ``{"trap": name}`` and
ends the process.
"""

from __future__ import annotations

import ast
import base64
import builtins
import importlib
import json
import os
import pickle
import struct
import sys
import threading

MAX_REPLY = 256 * 1024 * 1024
_KINDS = "biufc"


def encode(value, depth: int = 0):
    """``value`` as JSON-ready tagged data (TypeError for anything else)."""
    if depth > 50:
        raise TypeError("the value is nested too deeply")
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, int):
        return {"t": "int", "v": str(int(value))}
    if isinstance(value, float):
        return {"t": "float", "v": repr(float(value))}
    if isinstance(value, complex):
        return {"t": "complex", "v": [repr(value.real), repr(value.imag)]}
    if isinstance(value, str):
        return {"t": "str", "v": str(value)}
    if isinstance(value, tuple | list):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {"t": kind, "v": [encode(item, depth + 1) for item in value]}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    module = type(value).__module__.split(".")[0]
    if module == "torch":
        import torch

        if isinstance(value, torch.Tensor):
            array = value.detach().cpu().numpy()
            return {"t": "tensor", **_array(array)}
    if module == "numpy":
        import numpy as np

        if isinstance(value, np.ndarray):
            return {"t": "ndarray", **_array(value)}
        if isinstance(value, np.generic):
            return {"t": "npscalar", **_array(np.asarray(value))}
    raise TypeError(f"returned a {type(value).__name__}, which the grader cannot transfer")


def _array(array) -> dict:
    import numpy as np

    if array.dtype.kind not in _KINDS:
        raise TypeError(f"returned an array of dtype {array.dtype}, which the grader cannot transfer")
    # Not np.ascontiguousarray: it turns a 0-d array (a scalar loss) into shape (1,).
    array = np.require(array, requirements="C")
    return {
        "dtype": array.dtype.str,
        "shape": list(array.shape),
        "data": base64.b64encode(array.tobytes()).decode("ascii"),
    }


_STATEMENTS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_CONSTANT_NODES = (
    ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.UnaryOp, ast.BinOp,
    ast.unaryop, ast.operator, ast.Load, ast.Name,
)


def _is_constant(node) -> bool:
    return all(isinstance(n, _CONSTANT_NODES) for n in ast.walk(node))


def definitions(source: str) -> list:
    """Top-level imports, defs, classes and constant assignments of a cell (ast nodes)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    kept = []
    for node in tree.body:
        if isinstance(node, _STATEMENTS):
            kept.append(node)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            if _is_constant(node.value):
                kept.append(node)
    return kept


class _Channel:
    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd, self.write_fd = read_fd, write_fd
        self._write = os.write
        self._pack = struct.pack

    def read(self) -> bytes:
        head = self._exact(4)
        (size,) = struct.unpack(">I", head)
        return self._exact(size)

    def _exact(self, n: int) -> bytes:
        chunks, got = [], 0
        while got < n:
            chunk = os.read(self.read_fd, n - got)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def send(self, message: dict) -> None:
        data = json.dumps(message).encode("utf-8")
        if len(data) > MAX_REPLY:
            data = json.dumps(
                {"error": {"type": "ValueError", "message": "the returned value is too large"}}
            ).encode()
        payload = self._pack(">I", len(data)) + data
        while payload:
            written = self._write(self.write_fd, payload)
            payload = payload[written:]


def _resolve(module: str, qualname: str):
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class _Traps:
    """Reference replacements and the profile hook for one test at a time."""

    def __init__(self, channel: _Channel, namespace: dict, spec: dict) -> None:
        self.channel = channel
        self.exit = os._exit
        self.sites: dict[str, list] = {}
        self.codes: dict[str, dict] = {}
        self.builtin_ids: dict[str, dict] = {}
        self.active_codes: dict = {}
        self.active_ids: dict = {}
        self.profile = self.hook  # one bound method, compared by identity
        for test, refs in spec.items():
            sites, codes, ids = [], {}, {}
            for module, qualname, label in refs:
                try:
                    obj = _resolve(module, qualname)
                except Exception:  # noqa: S112 - a reference that does not exist here traps nothing
                    continue
                func = getattr(obj, "__func__", obj)
                code = getattr(func, "__code__", None)
                if code is not None:
                    codes[(code.co_name, code.co_code)] = label
                else:
                    ids[id(func)] = label
                trap = self._trap(label)
                for holder in [namespace, *[vars(m) for m in list(sys.modules.values()) if m]]:
                    try:
                        items = list(holder.items())
                    except Exception:  # noqa: S112 - exotic module dicts
                        continue
                    for key, value in items:
                        if value is obj or value is func:
                            sites.append((holder, key, value, trap))
            self.sites[test], self.codes[test], self.builtin_ids[test] = sites, codes, ids

    def _trap(self, label: str):
        def trap(*args, **kwargs):
            self.violation(label)

        return trap

    def violation(self, label: str) -> None:
        try:
            sys.setprofile(None)
            self.channel.send({"trap": label})
        finally:
            self.exit(3)

    def hook(self, frame, event, arg):
        if event == "call":
            label = self.active_codes.get((frame.f_code.co_name, frame.f_code.co_code))
            if label is not None:
                self.violation(label)
        elif event == "c_call":
            label = self.active_ids.get(id(arg))
            if label is not None:
                self.violation(label)

    def __enter__(self):
        return self

    def activate(self, test: str) -> None:
        for holder, key, _, trap in self.sites.get(test, []):
            holder[key] = trap
        self.active_codes = self.codes.get(test, {})
        self.active_ids = self.builtin_ids.get(test, {})
        threading.setprofile(self.profile)
        sys.setprofile(self.profile)

    def deactivate(self, test: str) -> bool:
        """Put the references back; False when the student's code removed the hook."""
        intact = sys.getprofile() is self.profile
        sys.setprofile(None)
        threading.setprofile(None)
        for holder, key, original, _ in self.sites.get(test, []):
            holder[key] = original
        return intact


def main() -> None:
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]
    out_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    channel = _Channel(0, out_fd)
    init = pickle.loads(channel.read())  # from the trusted checker
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    skipped = []
    for source in init["definitions"]:
        for node in definitions(source):
            try:
                code = compile(ast.Module([node], type_ignores=[]), "<submission>", "exec")
                exec(code, namespace)  # noqa: S102 - running the submission is the point
            except BaseException as err:  # noqa: BLE001 - a student statement may raise anything
                skipped.append(f"line {getattr(node, 'lineno', '?')}: {type(err).__name__}: {err}")
    traps = _Traps(channel, namespace, init["traps"])
    channel.send({"ready": True, "skipped": skipped[:20]})
    while True:
        try:
            request = pickle.loads(channel.read())  # from the trusted checker
        except EOFError:
            os._exit(0)
        name, test = request["call"], request["test"]
        func = namespace.get(name)
        if not callable(func):
            channel.send({"error": {"type": "NameError", "message": f"name {name!r} is not defined"}})
            continue
        traps.activate(test)
        try:
            value = func(*request["args"], **request["kwargs"])
            error = None
        except BaseException as err:  # noqa: BLE001 - reported to the checker
            value, error = None, err
        intact = traps.deactivate(test)
        if not intact:
            traps.violation("sys.setprofile (the grader's trap was switched off)")
        if error is not None:
            channel.send({"error": {"type": type(error).__name__, "message": str(error)[:2000]}})
            continue
        try:
            reply = {"value": encode(value)}
        except (TypeError, RecursionError) as err:
            reply = {"error": {"type": "TypeError", "message": str(err)}}
        channel.send(reply)


if __name__ == "__main__":
    main()
