"""The command line's language-model options, shared by ``qa ask``, ``qa serve`` and
``qa eval``."""

from __future__ import annotations

import argparse

from qa.generate.llm import KEY_ENV, LLM, PARALLEL


def add_llm_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "generated answers (optional)",
        f"a language model also writes an answer, checked against its passages; the key, if "
        f"the endpoint wants one, goes in ${KEY_ENV}",
    )
    group.add_argument(
        "--llm-url",
        metavar="URL",
        help="an OpenAI-compatible API's base, e.g. http://localhost:8080/v1",
    )
    group.add_argument("--llm-model", metavar="NAME", help="the model to ask there")
    group.add_argument(
        "--llm-parallel",
        metavar="N",
        type=int,
        default=PARALLEL,
        help=f"answers the model writes at once (default {PARALLEL}); a question beyond "
        "them waits briefly, then gets the reports' answer with a note",
    )


def llm_of(args: argparse.Namespace) -> LLM | None:
    """The endpoint the options name, or None; ValueError naming the flag that is missing."""
    url, model = getattr(args, "llm_url", None), getattr(args, "llm_model", None)
    if not url and not model:
        return None
    if not url or not model:
        missing = "--llm-url" if not url else "--llm-model"
        raise ValueError(
            f"{missing} is missing: a language model needs both --llm-url and --llm-model"
        )
    parallel = getattr(args, "llm_parallel", PARALLEL)
    if parallel < 1:
        raise ValueError(f"--llm-parallel must be 1 or more, got {parallel}")
    return LLM(url, model, parallel=parallel)
