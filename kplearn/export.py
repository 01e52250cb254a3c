"""ONNX export of a trained network, and running it with onnxruntime.

:func:`export_onnx` writes the **network** of a run (or a :class:`KeypointNet`) as an
ONNX graph; :class:`OnnxRuntimeNet` runs that graph with onnxruntime behind the
:class:`~kplearn.models.base.KeypointNet` interface, so every kplearn prediction path
(:func:`kplearn.train.predict`, ``kplearn evaluate``, ``kplearn predict --runtime onnx``,
face finding) works with it unchanged.

What is in the graph, and what is not
    The graph holds the network only: its input ``"image"`` is a float32 batch
    ``(N, 3, h, w)`` normalised as :func:`kplearn.train.augment.normalize_images` does
    (``(rgb / 255 - MEAN) / STD``, stored in the file's metadata), the batch axis is
    dynamic, and its outputs are the tensors of the network's output dict, named by
    their keys (``"heatmaps"``, ``"coords"``, ``"scores"``, ``"simcc_x"``/``"simcc_y"``,
    ``"pafs"``; a list entry such as a cascade's ``"stages"`` becomes ``"stages.0"``,
    ``"stages.1"``, ...). **Cropping, flip test and decoding (argmax + DARK, SimCC's
    sub-bin refinement, PAF grouping) are applied after the graph**, in numpy, by the
    same :meth:`KeypointNet.decode` code as with torch; so the two runtimes can only
    differ by the network's floating-point arithmetic. The file's metadata
    (``kplearn_config``) holds the model config, from which a runtime outside Python
    can take the layout, input size and decoder settings.

Exporters
    ``exporter="auto"`` (default) uses torch's TorchScript-based exporter
    (``torch.onnx.export(..., dynamo=False)``), which takes about a second here, and
    falls back to the ``torch.export``-based one (``dynamo=True``, needs ``onnxscript``;
    10-40 s on a 2-core CPU) for networks that cannot be traced -- the integral model,
    whose soft-argmax checks its map size in Python. Both are checked by
    ``tests/test_export_onnx.py`` against torch on every registered model.

Needs the optional extra ``kplearn[onnx]`` (``onnx``, ``onnxruntime``, ``onnxscript``).

Examples
--------
>>> import tempfile, torch
>>> from kplearn.models import build_model
>>> net = build_model("heatmap", "faces68", preset="fast", input_size=(64, 64))
>>> path = export_onnx(net, tempfile.mkdtemp() + "/hm.onnx")
>>> ort_net = OnnxRuntimeNet(net, path)
>>> x = torch.zeros(2, 3, 64, 64)
>>> bool((ort_net(x)["heatmaps"] - net.eval()(x)["heatmaps"]).abs().max() < 1e-4)
True
"""

from __future__ import annotations

import copy
import io
import json
import time
import warnings
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import torch
from torch import nn

from kplearn.models.base import KeypointNet

__all__ = [
    "ONNX_FILE",
    "EXPORTERS",
    "export_onnx",
    "onnx_output_names",
    "OnnxRuntimeNet",
    "use_onnx_runtime",
    "onnx_path_for",
    "onnx_metadata",
    "onnxruntime_available",
]

#: Where ``kplearn export`` writes, and ``kplearn predict --runtime onnx`` looks, by default.
ONNX_FILE = "model.onnx"
EXPORTERS = ("auto", "torchscript", "dynamo")
INPUT_NAME = "image"


def onnxruntime_available() -> bool:
    """Whether ``onnxruntime`` can be imported (the ``kplearn[onnx]`` extra)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _need(module: str):
    try:
        return __import__(module)
    except ImportError:
        raise ImportError(
            f"{module} is not installed; ONNX export and runtime need the optional extra: "
            "pip install 'kplearn[onnx]'"
        ) from None


def _flatten_outputs(out: dict) -> list[tuple[str, torch.Tensor]]:
    """``[(name, tensor)]`` of an output dict: tensors by key, list entries as ``key.i``."""
    items = []
    for key, value in out.items():
        if isinstance(value, torch.Tensor):
            items.append((key, value))
        elif isinstance(value, (list, tuple)) and all(isinstance(v, torch.Tensor) for v in value):
            items += [(f"{key}.{i}", v) for i, v in enumerate(value)]
    return items


def _unflatten_outputs(names: list[str], values: list) -> dict:
    out: dict = {}
    for name, value in zip(names, values, strict=True):
        key, _, index = name.partition(".")
        if index:
            out.setdefault(key, []).append(value)
        else:
            out[key] = value
    return out


class _TupleOutputs(nn.Module):
    """The network with its output dict flattened into a tuple (what ONNX needs)."""

    def __init__(self, net: KeypointNet, names: list[str]) -> None:
        super().__init__()
        self.net = net
        self.names = names

    def forward(self, x: torch.Tensor):
        flat = dict(_flatten_outputs(self.net(x)))
        return tuple(flat[n] for n in self.names)


def _dummy_input(net: KeypointNet, batch: int = 2) -> torch.Tensor:
    w, h = net.input_size
    return torch.randn(batch, 3, h, w, generator=torch.Generator().manual_seed(0))


def onnx_output_names(net: KeypointNet) -> list[str]:
    """The graph output names of ``net`` (its output dict's tensors, see the module docstring)."""
    was = net.training
    net.eval()
    try:
        with torch.no_grad():
            return [name for name, _ in _flatten_outputs(net(_dummy_input(net)))]
    finally:
        net.train(was)


def _as_network(model) -> KeypointNet:
    if isinstance(model, KeypointNet):
        return model
    if isinstance(model, (str, Path)):
        from kplearn.train.checkpoint import load_checkpoint

        return load_checkpoint(model)[0]
    net = getattr(model, "model", None)  # a deep localiser
    if isinstance(net, KeypointNet):
        return net
    raise ValueError(
        f"ONNX export needs a deep network, a deep localiser or a deep run directory, got "
        f"{type(model).__name__} (classical models are not networks)"
    )


def _export(wrapper: nn.Module, x: torch.Tensor, path: Path, names: list[str], exporter: str,
            opset: int) -> None:  # fmt: skip
    with warnings.catch_warnings(), redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # deprecation and tracer chatter from torch.onnx
        if exporter == "torchscript":
            axes = {INPUT_NAME: {0: "batch"}} | {n: {0: "batch"} for n in names}
            torch.onnx.export(wrapper, (x,), str(path), dynamo=False, opset_version=opset,
                              input_names=[INPUT_NAME], output_names=names,
                              dynamic_axes=axes)  # fmt: skip
        else:
            _need("onnxscript")
            batch = torch.export.Dim("batch", min=1, max=4096)
            prog = torch.onnx.export(wrapper, (x,), dynamo=True, opset_version=opset,
                                     input_names=[INPUT_NAME], output_names=names,
                                     dynamic_shapes=({0: batch},), verbose=False)  # fmt: skip
            prog.save(str(path))


def export_onnx(
    model,
    path: str | Path | None = None,
    *,
    exporter: str = "auto",
    opset: int = 18,
) -> Path:
    """Write a network as an ONNX file (network only; decoding stays in kplearn).

    Parameters
    ----------
    model : KeypointNet, a deep localiser, or a deep run directory
    path : path, optional
        Output file; by default ``RUN_DIR/model.onnx`` for a run directory.
    exporter : {"auto", "torchscript", "dynamo"}
        See the module docstring; ``"auto"`` tries TorchScript, then dynamo.
    opset : int
        ONNX opset (18 by default; onnxruntime 1.16+ runs it).

    Returns
    -------
    Path
        The file written. Its metadata holds ``kplearn_config`` (the model config),
        ``kplearn_outputs``, ``kplearn_preprocessing`` and ``kplearn_exporter``.
    """
    if exporter not in EXPORTERS:
        raise ValueError(f"exporter must be one of {', '.join(EXPORTERS)}, got {exporter!r}")
    onnx = _need("onnx")
    if path is None:
        if not isinstance(model, (str, Path)):
            raise ValueError("pass path= (where to write the .onnx file)")
        path = Path(model) / ONNX_FILE
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = copy.deepcopy(_as_network(model)).cpu().eval().to(memory_format=torch.contiguous_format)
    names = onnx_output_names(net)
    wrapper = _TupleOutputs(net, names).eval()
    x = _dummy_input(net)
    order = ["torchscript", "dynamo"] if exporter == "auto" else [exporter]
    errors = []
    t0 = time.perf_counter()
    for how in order:
        try:
            _export(wrapper, x, path, names, how, opset)
            break
        except Exception as err:  # the tracer refuses Python-side checks; try the next exporter
            errors.append(f"{how}: {type(err).__name__}: {str(err).splitlines()[0][:300]}")
    else:
        raise RuntimeError(
            f"ONNX export of {net.config.get('name')!r} failed: " + "; ".join(errors)
        )
    from kplearn.data.transforms import MEAN, STD

    proto = onnx.load(str(path))
    meta = {
        "kplearn_config": json.dumps(net.config, default=_json_default),
        "kplearn_outputs": json.dumps(names),
        "kplearn_output_kind": net.output_kind,
        "kplearn_preprocessing": json.dumps(
            {
                "input": INPUT_NAME,
                "layout": "NCHW RGB float32",
                "scale": 1 / 255,
                "mean": [float(v) for v in MEAN],
                "std": [float(v) for v in STD],
            }  # fmt: skip
        ),
        "kplearn_decoder": "applied after the graph by kplearn (KeypointNet.decode)",
        "kplearn_exporter": json.dumps(
            {
                "exporter": how,
                "opset": opset,
                "torch": torch.__version__,
                "seconds": round(time.perf_counter() - t0, 2),
            }
        ),  # fmt: skip
    }
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))
    return path


def _json_default(obj):
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"cannot store {type(obj).__name__} in ONNX metadata")


def onnx_metadata(path: str | Path) -> dict:
    """The ``kplearn_*`` metadata of an exported file, JSON values decoded."""
    ort = _need("onnxruntime")
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"ONNX file {str(p)!r} not found")
    sess = ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
    meta = dict(sess.get_modelmeta().custom_metadata_map)
    out = {}
    for key, value in meta.items():
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


class OnnxRuntimeNet(KeypointNet):
    """A network run by onnxruntime, with the torch network's flip merging and decoding.

    Parameters
    ----------
    net : KeypointNet
        The network the file was exported from (same config): it supplies
        ``merge_flip``, ``decode`` and, for PAF models, ``decode_people``.
    path : path
        The ``.onnx`` file from :func:`export_onnx`.
    threads : int, optional
        onnxruntime intra-op threads (default: ``torch.get_num_threads()``).
    """

    def __init__(self, net: KeypointNet, path: str | Path, threads: int | None = None) -> None:
        ort = _need("onnxruntime")
        super().__init__(net.config)
        self.output_kind = net.output_kind
        self.net = net.eval()
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"ONNX file {str(p)!r} not found")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(threads or torch.get_num_threads())
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(p), opts, providers=["CPUExecutionProvider"])
        except Exception as err:
            raise ValueError(f"{str(p)!r} could not be loaded by onnxruntime: {err}") from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or list(inputs[0].shape[1:]) != [
            3,
            net.input_size[1],
            net.input_size[0],
        ]:
            raise ValueError(
                f"{str(p)!r} takes {[i.shape for i in inputs]}, but the model takes "
                f"(N, 3, {net.input_size[1]}, {net.input_size[0]}): exported from another model?"
            )
        self.input_name = inputs[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]
        meta = self.session.get_modelmeta().custom_metadata_map
        stored = meta.get("kplearn_config")
        if stored is not None:
            cfg = json.loads(stored)
            for key in ("name", "num_keypoints", "input_size"):
                if key in cfg and cfg[key] != net.config.get(key):
                    raise ValueError(
                        f"{str(p)!r} was exported from a model with {key}={cfg[key]!r}, "
                        f"not {net.config.get(key)!r}"
                    )
        self.path = p

    def forward(self, x: torch.Tensor) -> dict:
        feed = np.ascontiguousarray(x.detach().cpu().float().numpy())
        values = self.session.run(self.output_names, {self.input_name: feed})
        return _unflatten_outputs(self.output_names, [torch.from_numpy(v) for v in values])

    def merge_flip(self, out: dict, out_flipped: dict) -> dict:
        return self.net.merge_flip(out, out_flipped)

    def decode(self, out: dict):
        return self.net.decode(out)

    def decode_people(self, out: dict, **kwargs):
        return self.net.decode_people(out, **kwargs)

    def loss(self, out: dict, keypoints: torch.Tensor):
        raise TypeError("an onnxruntime network predicts only; train the torch network")

    def extra_repr(self) -> str:
        return f"path={str(self.path)!r}, {super().extra_repr()}"


def onnx_path_for(run_dir: str | Path, path: str | Path | None = None) -> Path:
    """The ONNX file of a run: ``path`` if given, else ``RUN_DIR/model.onnx``; missing is an error."""
    p = Path(run_dir) / ONNX_FILE if path is None else Path(path)
    if not p.is_file():
        raise FileNotFoundError(
            f"ONNX file {str(p)!r} not found; make it with: kplearn export {run_dir} --format onnx"
            + ("" if path is None else f" --out {path}")
        )
    return p


def use_onnx_runtime(localiser, path: str | Path, threads: int | None = None):
    """Switch a loaded deep localiser to onnxruntime, in place (returned for chaining)."""
    if (
        getattr(localiser, "family", "classical") != "deep"
        or getattr(localiser, "model", None) is None
    ):
        raise ValueError(
            "the ONNX runtime applies to deep models only (classical models are not networks)"
        )
    net = localiser.model.net if isinstance(localiser.model, OnnxRuntimeNet) else localiser.model
    localiser.model = OnnxRuntimeNet(net, path, threads)
    return localiser
