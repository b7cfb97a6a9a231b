"""``qa serve``: the web chat at / and the REST API under /api/v1/, in one process.

This module is imported to build the ``qa`` parser: keep heavy imports (gradio) inside ``run``.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: localhost)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("qa serve is being built")
