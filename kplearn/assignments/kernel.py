"""Run code cells one at a time in a Jupyter kernel, with hard time limits.

:class:`KernelSession` is a small executor on top of ``jupyter_client`` made
for running untrusted submissions: every wait is bounded, a cell that runs
past its limit is interrupted (and, when the interrupt does not stop it, the
kernel is declared stuck so the caller can restart it), a kernel that dies is
reported rather than raised, and the output kept per cell is capped.

Examples
--------
>>> with KernelSession() as kernel:
...     kernel.run("x = 6 * 7", timeout=10).status
...     kernel.run("print(x)", timeout=10).text
'ok'
'42\\n'
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

__all__ = ["CellOutcome", "KernelSession", "KernelStartError", "SENTINEL_MIME", "sentinel_line"]

#: MIME type of the display a grader appends to a cell to prove the cell ran to its end.
SENTINEL_MIME = "application/vnd.kplearn.sentinel+json"


def sentinel_line(token: str) -> str:
    """A statement that displays ``token`` under :data:`SENTINEL_MIME` (no visible output)."""
    return (
        '__import__("IPython").display.display('
        f"{{{SENTINEL_MIME!r}: {{'token': {token!r}}}}}, raw=True)"
    )


class KernelStartError(RuntimeError):
    """The kernel could not be started (an environment problem, not the submission's)."""


@dataclass
class CellOutcome:
    """What happened when one cell ran.

    ``status`` is ``"ok"``, ``"error"`` (an exception; ``ename``/``evalue``
    say which), ``"timeout"`` (ran past its limit and was interrupted) or
    ``"dead"`` (the kernel process died). ``kernel_ok`` is False when the
    kernel is dead or did not answer the interrupt: it must be restarted
    before anything else runs. ``sentinel`` is True when the cell displayed
    the token passed to :meth:`KernelSession.run`.
    """

    status: str = "ok"
    ename: str = ""
    evalue: str = ""
    traceback: list[str] = field(default_factory=list)
    outputs: list = field(default_factory=list)
    seconds: float = 0.0
    sentinel: bool = False
    kernel_ok: bool = True
    execution_count: int | None = None

    @property
    def text(self) -> str:
        """Everything the cell printed to stdout."""
        return "".join(
            o.get("text", "")
            for o in self.outputs
            if o.get("output_type") == "stream" and o.get("name") == "stdout"
        )


class KernelSession:
    """A Jupyter kernel that runs one cell at a time under time limits.

    Parameters
    ----------
    cwd : path, optional
        Working directory of the kernel (default: the current one).
    env : dict, optional
        Extra environment variables for the kernel (added to ``os.environ``,
        or the whole environment with ``replace_env``).
    kernel_name : str
        Kernel spec to start (``"python3"``).
    startup_timeout : float
        Seconds to wait for the kernel to answer after starting.
    interrupt_grace : float
        Seconds a cell has to stop after its time limit sent an interrupt;
        after that the kernel is declared stuck.
    max_output_chars : int
        Text and data kept per cell; the rest is dropped (with a note) so that a
        cell printing without end cannot exhaust the grader's memory.
    """

    def __init__(
        self,
        cwd: str | Path | None = None,
        env: dict[str, str] | None = None,
        *,
        kernel_name: str = "python3",
        startup_timeout: float = 60.0,
        interrupt_grace: float = 5.0,
        max_output_chars: int = 200_000,
        replace_env: bool = False,
        preexec_fn=None,
    ) -> None:
        self.cwd = str(Path(cwd).resolve()) if cwd is not None else os.getcwd()
        self.env = dict(env or {})
        self.kernel_name = kernel_name
        self.startup_timeout = float(startup_timeout)
        self.interrupt_grace = float(interrupt_grace)
        self.max_output_chars = int(max_output_chars)
        self.replace_env = bool(replace_env)
        self.preexec_fn = preexec_fn
        self.km = None
        self.kc = None
        self._stderr = None
        self.restarts = 0

    # --- life cycle -------------------------------------------------------------
    def start(self) -> None:
        """Start the kernel and wait until it answers (``KernelStartError`` otherwise)."""
        from jupyter_client import KernelManager

        self._stderr = tempfile.TemporaryFile(mode="w+b")
        km = KernelManager(kernel_name=self.kernel_name)
        kc = None
        base = {} if self.replace_env else dict(os.environ)
        extra = {"preexec_fn": self.preexec_fn} if self.preexec_fn is not None else {}
        try:
            km.start_kernel(
                cwd=self.cwd,
                # Faulthandler: a segfault leaves a Python traceback in stderr_tail().
                env={**base, "PYTHONFAULTHANDLER": "1", **self.env},
                **extra,
                # A history database per kernel would be shared (and locked) across kernels.
                extra_arguments=["--HistoryManager.hist_file=:memory:"],
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
            )
            kc = km.client()
            kc.start_channels()
            kc.allow_stdin = False
            kc.wait_for_ready(timeout=self.startup_timeout)
        except Exception as err:
            self.km, self.kc = km, kc
            self.stop()
            raise KernelStartError(f"kernel {self.kernel_name!r} did not start: {err}") from err
        self.km, self.kc = km, kc

    def stop(self) -> None:
        """Kill the kernel (and its process group) and close the channels; safe to repeat."""
        kc, km = self.kc, self.km
        self.kc = self.km = None
        if kc is not None:
            try:
                kc.stop_channels()
            except Exception:  # noqa: S110 - best effort on a kernel being torn down
                pass
        if km is not None:
            try:
                if km.has_kernel:
                    km.shutdown_kernel(now=True)
            except Exception:
                pass
            try:
                km.cleanup_resources()
            except Exception:
                pass
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def restart(self) -> None:
        """Replace the kernel by a fresh one (all state is lost)."""
        self.stop()
        self.restarts += 1
        self.start()

    def __enter__(self) -> KernelSession:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def alive(self) -> bool:
        """Whether the kernel process is running."""
        try:
            return self.km is not None and bool(self.km.is_alive())
        except Exception:
            return False

    def exit_description(self) -> str:
        """How the dead kernel ended: ``"exit code 1"``, ``"signal 11"``, or ``""``."""
        try:
            code = self.km.provisioner.process.poll()
        except Exception:
            return ""
        if code is None:
            return ""
        return f"signal {-code}" if code < 0 else f"exit code {code}"

    def stderr_tail(self, lines: int = 3) -> str:
        """The last lines the kernel process wrote to its stderr (crash messages)."""
        if self._stderr is None:
            return ""
        try:
            self._stderr.flush()
            self._stderr.seek(0)
            text = self._stderr.read()[-4000:].decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""
        # ipykernel's start-up notice is no crash message.
        kept = [
            line
            for line in text.splitlines()
            if line.strip() and "Kernel is running over TCP" not in line
        ]
        return "\n".join(kept[-lines:])

    # --- running ----------------------------------------------------------------
    def run(self, source: str, timeout: float, *, token: str | None = None) -> CellOutcome:
        """Run one cell; never raises for anything the code in the cell does.

        Parameters
        ----------
        source : str
            Cell source (IPython syntax).
        timeout : float
            Seconds allowed before the cell is interrupted.
        token : str, optional
            When given, :attr:`CellOutcome.sentinel` says whether the cell
            displayed this token under :data:`SENTINEL_MIME`.
        """
        if self.kc is None:
            raise RuntimeError("the kernel is not running (call start())")
        outcome = CellOutcome()
        start = time.monotonic()
        msg_id = self.kc.execute(source, store_history=True, allow_stdin=False, stop_on_error=False)
        state = {"idle": False, "reply": None, "chars": 0, "clipped": False}
        self._wait(msg_id, start + max(float(timeout), 0.0), outcome, state, token)
        if outcome.status == "timeout" and outcome.kernel_ok:
            # Interrupted: give the cell a moment to stop, or declare the kernel stuck.
            try:
                self.km.interrupt_kernel()
            except Exception:
                outcome.kernel_ok = False
            else:
                outcome.status = "ok"
                self._wait(msg_id, time.monotonic() + self.interrupt_grace, outcome, state, token)
                if outcome.status == "dead":
                    outcome.kernel_ok = False
                elif outcome.status == "timeout":
                    outcome.kernel_ok = False  # the interrupt did not stop it
                outcome.status = "timeout"
        elif outcome.status == "ok" and state["reply"] is not None:
            content = state["reply"]["content"]
            count = content.get("execution_count")
            outcome.execution_count = count if isinstance(count, int) else None
            if content.get("status") != "ok":
                outcome.status = "error"
                outcome.ename = str(content.get("ename", "Error"))
                outcome.evalue = str(content.get("evalue", content.get("status", "")))
                outcome.traceback = [str(line) for line in content.get("traceback", [])]
        outcome.seconds = time.monotonic() - start
        return outcome

    def executed_sources(self, timeout: float = 10.0) -> dict[int, str]:
        """What the kernel says it executed: execution count -> source after its input
        transformers (IPython's parsed history); empty if it does not answer.

        Compared with the grader's own copy of a test cell, this shows a cell
        rewritten before it ran (an input transformer installed by a submission).
        Evidence from inside the student's kernel, so a hint, never proof.
        """
        if self.kc is None:
            return {}
        try:
            msg_id = self.kc.history(
                raw=False, output=False, hist_access_type="range", session=0, start=1, stop=100000
            )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                reply = self.kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    history = reply["content"].get("history", [])
                    return {int(line): str(source) for _, line, source in history}
        except Exception:
            return {}
        return {}

    def _wait(self, msg_id, deadline, outcome, state, token) -> None:
        """Read iopub and shell messages of ``msg_id`` until idle + reply, death or ``deadline``."""
        kc = self.kc
        while state["reply"] is None or not state["idle"]:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                outcome.status = "timeout"
                return
            msg = None
            if not state["idle"]:
                try:
                    msg = kc.get_iopub_msg(timeout=min(0.1, remaining))
                except queue.Empty:
                    pass
                except Exception:  # a closed socket: the kernel went away
                    pass
                if msg is not None and msg.get("parent_header", {}).get("msg_id") == msg_id:
                    self._handle(msg, outcome, state, token)
            # Idle already seen: wait on the shell channel instead of polling it.
            wait = min(0.1, remaining) if state["idle"] else 0
            while state["reply"] is None:
                try:
                    reply = kc.get_shell_msg(timeout=wait)
                except queue.Empty:
                    break
                except Exception:
                    break
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    state["reply"] = reply
            if msg is None and not self.alive():
                outcome.status = "dead"
                outcome.kernel_ok = False
                return

    def _handle(self, msg, outcome, state, token) -> None:
        kind = msg["msg_type"]
        content = msg["content"]
        if kind == "status":
            if content.get("execution_state") == "idle":
                state["idle"] = True
            return
        if kind == "clear_output":
            outcome.outputs.clear()
            return
        if kind not in ("stream", "display_data", "execute_result", "error"):
            return
        data = content.get("data", {})
        if SENTINEL_MIME in data:
            payload = data[SENTINEL_MIME]
            if token is not None and isinstance(payload, dict) and payload.get("token") == token:
                outcome.sentinel = True
            return
        if state["clipped"]:
            return
        size = len(content.get("text", "")) if kind == "stream" else len(json.dumps(content))
        room = self.max_output_chars - state["chars"]
        if size > room:
            state["clipped"] = True
            note = f"\n[kplearn: output beyond {self.max_output_chars} characters dropped]\n"
            if kind == "stream" and room > 0:
                self._append_stream(outcome, content["name"], content["text"][:room])
            outcome.outputs.append(nbformat.v4.new_output("stream", name="stderr", text=note))
            return
        state["chars"] += size
        if kind == "stream":
            self._append_stream(outcome, content["name"], content["text"])
            return
        try:
            outcome.outputs.append(nbformat.v4.output_from_msg(msg))
        except ValueError:
            pass

    @staticmethod
    def _append_stream(outcome, name, text) -> None:
        last = outcome.outputs[-1] if outcome.outputs else None
        if last is not None and last.output_type == "stream" and last.name == name:
            last.text += text
        else:
            outcome.outputs.append(nbformat.v4.new_output("stream", name=name, text=text))
