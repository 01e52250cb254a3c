"""``kplearn export``: a deep run's network as an ONNX file, for onnxruntime and other runtimes.

The command's help text, with its examples, is :data:`DESCRIPTION`.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register"]

DESCRIPTION = """\
Export a deep run's network as an ONNX file, for onnxruntime and other runtimes.

The graph holds the network only (input: normalised float32 RGB, batch axis
dynamic); cropping, flip test and decoding are applied after it by kplearn, exactly
as with torch (see the kplearn.export module). Needs pip install 'kplearn[onnx]'.

examples:
  kplearn export runs/hm --format onnx                  # writes runs/hm/model.onnx
  kplearn export runs/simcc --format onnx --out simcc.onnx
  kplearn predict runs/hm face.png --runtime onnx --whole-image
"""


def register(subparsers) -> None:
    """Add the ``export`` command."""
    p = subparsers.add_parser("export", help="export a deep run's network as ONNX",
                              description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("run", metavar="RUN_DIR", help="a deep run directory (kplearn train --out)")
    p.add_argument("--format", choices=("onnx",), default="onnx", help="export format (onnx)")
    p.add_argument("--out", default=None, metavar="MODEL.onnx",
                   help="file to write (default: RUN_DIR/model.onnx)")  # fmt: skip
    p.add_argument("--exporter", choices=("auto", "torchscript", "dynamo"), default="auto",
                   help="torch exporter (auto: TorchScript, else dynamo)")  # fmt: skip
    p.add_argument("--opset", type=int, default=18, help="ONNX opset (18)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    from kplearn.export import export_onnx, onnx_metadata

    try:
        path = export_onnx(args.run, args.out, exporter=args.exporter, opset=args.opset)
        meta = onnx_metadata(path)
    except ImportError as err:  # the optional extra is missing: say how to get it
        raise ValueError(str(err)) from None
    summary = {"run": str(args.run), "onnx": str(path), "outputs": meta["kplearn_outputs"],
               "exporter": meta["kplearn_exporter"]["exporter"], "bytes": path.stat().st_size}  # fmt: skip
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"kplearn export: wrote {path} ({summary['bytes'] / 1e6:.1f} MB; outputs "
              f"{', '.join(summary['outputs'])}; {summary['exporter']} exporter)", file=sys.stderr)  # fmt: skip
    return 0
