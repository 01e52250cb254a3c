"""Save the values a test cell reads, from the grader's own run of the instructor notebook.

Imported inside the grader's *reference kernel* (the instructor notebook run with
no student code, :func:`kplearn.assignments.protected.capture_reference`) by the
cell the grader inserts before each test cell. Each name becomes one entry:

- ``("module", "numpy")`` for a module (imported again by the checker),
- ``("source", "def helper(...): ...")`` for a function or class the notebook
  itself defines (run again by the checker),
- ``("pickle", b"...")`` for any other value that pickles,
- ``("missing", "why")`` otherwise (the test then cannot be checked outside the kernel).

Examples
--------
>>> import pickle, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "t.pickle")
>>> save({"np": __import__("numpy"), "n": 3}, ["np", "n", "absent"], path)
>>> entries = pickle.load(open(path, "rb"))
>>> entries["np"], entries["n"][0], "absent" in entries
(('module', 'numpy'), 'pickle', False)
"""

from __future__ import annotations

import inspect
import pickle
import types

__all__ = ["save"]


def _entry(value):
    if isinstance(value, types.ModuleType):
        return ("module", value.__name__)
    if (
        isinstance(value, types.FunctionType | type)
        and getattr(value, "__module__", None) == "__main__"
    ):
        try:
            return ("source", inspect.getsource(value))
        except (OSError, TypeError) as err:
            return ("missing", f"no source for {value!r} ({err})")
    try:
        return ("pickle", pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception as err:  # any value may refuse to pickle in its own way
        return ("missing", f"{type(value).__name__} does not pickle ({type(err).__name__})")


def save(namespace: dict, names, path: str) -> None:
    """Pickle ``{name: entry}`` for each of ``names`` present in ``namespace`` to ``path``."""
    entries = {name: _entry(namespace[name]) for name in names if name in namespace}
    with open(path, "wb") as handle:
        pickle.dump(entries, handle, protocol=pickle.HIGHEST_PROTOCOL)
