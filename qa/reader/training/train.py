"""Train the reader: the bundled all-MiniLM-L6-v2 with a span head, fine-tuned on SQuAD v1.1.

    python -m qa.reader.training.train --out runs/reader    # resumes from runs/reader if there
    python -m qa.reader.training.train --out runs/reader --export qa/reader/model
    python -m qa.reader.training.train --out runs/reader --export qa/reader/model --stop  # as is
    python -m qa.reader.training.train --out runs/more --init qa/reader/model --offset 1700
        # a fresh schedule from exported weights, past the 1,700 batches they were trained on

Seeded; the settings go to ``config.json``, loss and validation EM/F1 to ``log.jsonl``, and a
checkpoint (model, optimizer, schedule, position) to ``checkpoint.pt`` every ``--save-every``
steps, so an interrupted run picks up where it stopped. Validation uses held-out articles
(``--val-fraction``), each question read with its own paragraph. Negatives (``--negatives``:
a share of the questions paired with a similar paragraph of another article) teach it to say
there is no answer. On a CPU with bf16 support, autocast to bf16 roughly doubles the speed; on
a GPU (used when there is one) an epoch takes minutes instead of hours. ``--data`` defaults to
SQuAD v1.1 train in the shared data folder (:func:`qa.config.shared_folder`); ``--export``
writes the weights, ``training.json`` (the settings, its paths never absolute) and a model card.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import shared_folder
from qa.reader.reader import BUNDLED_READER, MAX_LENGTH, STRIDE, Reader
from qa.reader.training.data import (
    SEED,
    VAL_FRACTION,
    Article,
    Example,
    examples,
    load_squad,
    negatives,
    split_articles,
    squad_path,
)
from qa.reader.training.hard import TRAINED, entity_pools, hard_negatives


@dataclass
class Config:
    data: str = field(default_factory=lambda: str(squad_path()))  # SQuAD v1.1 train
    init: str = ""  # weights to start from: a reader saved by --export (default: the embedder)
    offset: int = 0  # batches of the data order --init's weights were trained on: skipped
    seed: int = SEED
    epochs: float = 2.0
    batch: int = 32
    lr: float = 1e-4
    warmup: float = 0.1
    weight_decay: float = 0.01
    max_length: int = MAX_LENGTH
    stride: int = STRIDE
    negatives: float = 0.33
    hard_negatives: float = 0.0  # near misses of each kind (training.hard), per question
    hard_kinds: str = ",".join(TRAINED)  # which kinds (training.hard.KINDS), in this order
    val_fraction: float = VAL_FRACTION
    val_questions: int = 1000  # questions scored at each evaluation (0: all)
    eval_every: int = 500
    save_every: int = 100
    max_steps: int = 0  # stop after this many steps (0: run the epochs)
    limit: int = 0  # use only this many training questions (0: all), for quick runs
    bf16: bool = True
    threads: int = 0  # torch threads (0: its default)
    device: str = ""  # "cpu", "cuda", ... (default: cuda when there is one, else cpu)


def featurize(tokenizer: Any, items: list[Example], config: Config) -> list[tuple[Any, ...]]:
    """Training windows: (input_ids, token_type_ids, start token, end token); a window that
    does not hold the whole answer, and every negative, points at [CLS] (token 0)."""
    windows = []
    for first in range(0, len(items), 1000):
        part = items[first : first + 1000]
        enc = tokenizer(
            [e.question for e in part],
            [e.context for e in part],
            truncation="only_second",
            max_length=config.max_length,
            stride=config.stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        for i, owner in enumerate(enc["overflow_to_sample_mapping"]):
            example = part[owner]
            sequence = enc.sequence_ids(i)
            offsets = enc["offset_mapping"][i]
            start = end = 0
            if example.answerable:
                a, b = example.start, example.start + len(example.answer)
                context = [t for t, s in enumerate(sequence) if s == 1]
                if offsets[context[0]][0] <= a and offsets[context[-1]][1] >= b:
                    start = next(t for t in context if offsets[t][1] > a)
                    end = next(t for t in reversed(context) if offsets[t][0] < b)
            ids = np.asarray(enc["input_ids"][i], dtype=np.int32)
            types = np.asarray(enc["token_type_ids"][i], dtype=np.int8)
            windows.append((ids, types, start, end))
    return windows


def batches(n_items: int, lengths: np.ndarray, size: int, seed: int) -> list[np.ndarray]:
    """One epoch's batches: shuffled, then sorted by length within groups of 50 batches, so
    padding stays small; the same seed gives the same batches."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_items)
    group = size * 50
    found = []
    for first in range(0, n_items, group):
        part = order[first : first + group]
        part = part[np.argsort(lengths[part], kind="stable")]
        found += [part[i : i + size] for i in range(0, len(part), size)]
    rng.shuffle(found)
    return found


def collate(windows: list[tuple[Any, ...]], rows: np.ndarray) -> dict[str, Any]:
    import torch

    width = max(len(windows[r][0]) for r in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    types = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for j, r in enumerate(rows):
        n = len(windows[r][0])
        ids[j, :n], types[j, :n], mask[j, :n] = windows[r][0], windows[r][1], 1
    return {
        "input_ids": torch.from_numpy(ids),
        "token_type_ids": torch.from_numpy(types),
        "attention_mask": torch.from_numpy(mask),
        "start_positions": torch.tensor([windows[r][2] for r in rows]),
        "end_positions": torch.tensor([windows[r][3] for r in rows]),
    }


def validate(reader: Reader, items: list[Example]) -> dict[str, float]:
    """EM and F1 with the gold paragraph (SQuAD normalisation), and how often "no answer"
    beats the best span on the answerable questions, on the unrelated paragraphs
    (``negatives``) and on the near misses (``hard``, :mod:`qa.reader.training.hard`)."""
    from qa.eval.metrics import exact_match, f1

    em = f1_sum = 0.0
    answerable = [e for e in items if e.answerable]
    abstained = 0
    for example in answerable:
        spans = reader.read(example.question, [example.context])
        guess = example.context[spans[0].start : spans[0].end] if spans else ""
        em += exact_match(guess, [example.answer], numbers=False)
        f1_sum += f1(guess, [example.answer], numbers=False)
        abstained += bool(spans) and spans[0].margin < 0
    refused: dict[str, list[bool]] = {"negatives": [], "hard": []}
    for example in items:
        if not example.answerable:
            spans = reader.read(example.question, [example.context])
            kind = "negatives" if example.qid.endswith("-neg") else "hard"
            refused[kind].append(not spans or spans[0].margin < 0)
    n = max(1, len(answerable))
    result = {
        "em": 100 * em / n,
        "f1": 100 * f1_sum / n,
        "no_answer_on_answerable": abstained / n,
        "no_answer_on_negatives": sum(refused["negatives"]) / max(1, len(refused["negatives"])),
    }
    if refused["hard"]:
        result["no_answer_on_hard"] = sum(refused["hard"]) / len(refused["hard"])
    return result


def run(
    config: Config, out: Path, export: Path | None = None, *, stop: bool = False
) -> dict[str, float]:
    """Train (or resume) into ``out``; with ``export``, write the final model there. With
    ``stop``, train no further: validate and export the last checkpoint as it is."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    if config.threads:
        torch.set_num_threads(config.threads)
    out.mkdir(parents=True, exist_ok=True)
    saved = out / "config.json"
    # settings added since a run began take their defaults, so the run can still resume; where
    # it runs (device, threads) is not part of the recipe
    if saved.exists() and _recipe({**asdict(Config()), **json.loads(saved.read_text())}) != (
        _recipe(asdict(config))
    ):
        raise SystemExit(f"{out} holds a run with other settings; use another --out")
    saved.write_text(json.dumps(asdict(config), indent=2) + "\n")
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)

    train_articles, val_articles = training_split(config)
    val = examples(val_articles)
    val = random.Random(config.seed).sample(val, min(len(val), config.val_questions or len(val)))
    pools = entity_pools(train_articles)
    val += negatives(val, val_articles, config.negatives, config.seed)
    kinds = config.hard_kinds.split(",")
    val += hard_negatives(val, val_articles, config.hard_negatives, config.seed, pools, kinds)
    device = torch.device(config.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    checkpoint = out / "checkpoint.pt"
    state = (
        torch.load(checkpoint, map_location=device, weights_only=False)
        if (checkpoint.exists())
        else None
    )
    # a checkpoint holds every weight: resuming needs the --init weights no longer
    start = config.init if config.init and (state is None or Path(config.init).is_dir()) else ""
    start = start or _base()
    tokenizer = AutoTokenizer.from_pretrained(start, local_files_only=True)
    model = AutoModelForQuestionAnswering.from_pretrained(
        start, local_files_only=True, dtype=torch.float32
    ).to(device)
    if state is not None:
        model.load_state_dict(state["model"])
        log(out, {"event": "resumed", "step": state["step"]})
    reader = Reader(model, tokenizer, bf16=config.bf16)
    step = state["step"] if state is not None else 0
    if not stop:
        train = examples(train_articles)
        if config.limit:
            train = random.Random(config.seed).sample(train, config.limit)
        train += negatives(train, train_articles, config.negatives, config.seed)[
            : round(len(train) * config.negatives)
        ]
        train += hard_negatives(
            train, train_articles, config.hard_negatives, config.seed, pools, kinds
        )
        windows = featurize(tokenizer, train, config)
        log(
            out,
            {
                "event": "data",
                "train_questions": len(train),
                "windows": len(windows),
                "val_questions": len(val),
            },
        )
        step = fit(config, out, reader, windows, val, state)
    model.eval()
    result = validate(reader, val)
    if export is not None:
        write_model(model, tokenizer, export, result, config, step)
    return result


def training_split(config: Config) -> tuple[list[Article], list[Article]]:
    """(train, validation) articles: the split every held-out measure uses (its seed is
    :data:`SEED`, whatever ``config.seed``, which orders and samples the data), so that a run
    with another seed never trains on the articles it will be judged on."""
    return split_articles(load_squad(config.data), config.val_fraction, SEED)


def _base() -> str:
    """The bundled embedder's folder, the default starting point."""
    from qa.embed import BUNDLED_MODEL, model_path

    return model_path(BUNDLED_MODEL)


def fit(
    config: Config,
    out: Path,
    reader: Reader,
    windows: list[tuple[Any, ...]],
    val: list[Example],
    state: dict[str, Any] | None,
) -> int:
    """The training loop, from ``state`` (a checkpoint) if given; the steps done in all."""
    import torch

    model = reader.model
    device = next(model.parameters()).device
    lengths = np.array([len(w[0]) for w in windows])
    per_epoch = math.ceil(len(windows) / config.batch)
    total = config.max_steps or math.ceil(per_epoch * config.epochs)
    log(out, {"event": "plan", "steps": total, "per_epoch": per_epoch})
    decay = [p for n, p in model.named_parameters() if "LayerNorm" not in n and "bias" not in n]
    rest = [p for n, p in model.named_parameters() if "LayerNorm" in n or "bias" in n]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": config.weight_decay},
            {"params": rest, "weight_decay": 0.0},
        ],
        lr=config.lr,
        fused=device.type == "cuda",
    )
    warm = max(1, int(total * config.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    step = 0
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step = state["step"]
    checkpoint = out / "checkpoint.pt"
    started, done, losses = time.monotonic(), 0, []
    while step < total:
        epoch, position = divmod(step + config.offset, per_epoch)
        order = batches(len(windows), lengths, config.batch, config.seed * 1000 + epoch)
        for rows in order[position:]:
            model.train()
            inputs = {k: v.to(device) for k, v in collate(windows, rows).items()}
            with torch.autocast(device.type, torch.bfloat16, enabled=config.bf16):
                loss = model(**inputs).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            step, done = step + 1, done + 1
            losses.append(loss.detach())  # read every 20 steps: no wait for the GPU each step
            if step % 20 == 0:
                seconds = (time.monotonic() - started) / done
                log(
                    out,
                    {
                        "step": step,
                        "loss": torch.stack(losses).float().mean().item(),
                        "lr": schedule.get_last_lr()[0],
                        "s_per_step": round(seconds, 3),
                    },
                )
                losses = []
            if step % config.save_every == 0 or step == total:
                save(out, checkpoint, model, optimizer, schedule, step)
            if step % config.eval_every == 0 or step == total:
                model.eval()
                log(out, {"event": "validation", "step": step, **validate(reader, val)})
            if step >= total:
                break
    return step


def _recipe(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if k not in ("device", "threads")}


def save(out: Path, path: Path, model: Any, optimizer: Any, schedule: Any, step: int) -> None:
    import torch

    tmp = out / "checkpoint.tmp"
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "schedule": schedule.state_dict(),
        "step": step,
    }
    torch.save(state, tmp)
    os.replace(tmp, path)


def write_model(
    model: Any, tokenizer: Any, folder: Path, result: dict[str, float], config: Config, step: int
) -> None:
    """The model in half precision (safetensors) with its tokenizer and a model card."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    model.to(torch.float16).save_pretrained(folder, safe_serialization=True)
    model.to(torch.float32)
    tokenizer.save_pretrained(folder)
    recipe = {**asdict(config), "data": recorded_path(config.data)}
    recipe["init"] = recorded_path(config.init)
    (folder / "training.json").write_text(
        json.dumps({"config": recipe, "steps": step, "validation": result}, indent=2)
    )
    (folder / "README.md").write_text(model_card(config, step, result), encoding="utf-8")


def recorded_path(path: str) -> str:
    """A path as an exported model records it, never a machine's absolute path: a file in the
    shared data folder relative to it ("bench/squad-train/train-v1.1.json.gz"), another
    absolute path by its name; a relative path as given."""
    if not path or not Path(path).is_absolute():
        return path
    resolved = Path(path).resolve()
    shared = shared_folder().resolve()
    if resolved.is_relative_to(shared):
        return resolved.relative_to(shared).as_posix()
    return resolved.name


def model_card(config: Config, step: int, result: dict[str, float]) -> str:
    """A short model card: what the model is, what it was trained on, how well it reads."""
    lines = [
        "# reportqa reader",
        "",
        "An extractive question-answering model: given a question and a passage, it scores "
        'every span of the passage as the answer, and [CLS] as "no answer here".',
        "",
        "- Base: sentence-transformers/all-MiniLM-L6-v2 (6 layers, 384 hidden; Apache 2.0), "
        "with a span head, fine-tuned by `python -m qa.reader.training.train` (the recipe is in "
        "`training.json`, the loss and validation log in the run folder's `log.jsonl`).",
        f"- Data: SQuAD v1.1 train (CC BY-SA 4.0), {100 * (1 - config.val_fraction):.0f}% of "
        f"its articles; {100 * config.negatives:.0f}% of the questions also paired with the "
        f"most similar paragraph of another article, with no answer{_hard(config)}. Licence "
        "of these weights: CC BY-SA 4.0.",
        f"- Trained for {step} steps of {config.batch} windows on {_hardware()}, seed "
        f"{config.seed}, bf16 autocast: {config.bf16}{_continued(config)}.",
        "- Validation (held-out articles, each question with its own paragraph): "
        f'EM {result["em"]:.1f}, F1 {result["f1"]:.1f}; "no answer" chosen for '
        f"{100 * result['no_answer_on_negatives']:.0f}% of the unrelated paragraphs and "
        f"{100 * result['no_answer_on_answerable']:.0f}% of the answerable questions.",
        "- Stored in half precision; read in float32 or bf16.",
    ]
    return "\n".join(lines) + "\n"


def _hard(config: Config) -> str:
    """The near misses in the mix, for the model card."""
    if not config.hard_negatives:
        return ""
    share = f"{100 * config.hard_negatives:.0f}%"
    return (
        f"; and near misses (`qa.reader.training.hard`), each kind {share} of the questions: the "
        "question with one constraint swapped (a person, place, organisation, role word, "
        "month, weekday, year or number the paragraph does not hold), the question with "
        "another paragraph of its article, and its paragraph without the answer's sentence"
    )


def _hardware() -> str:
    """What trains: the GPU's name, or the CPU's and its core count."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    name = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores of a CPU ({name or 'unknown model'})"


def _continued(config: Config) -> str:
    """Where a run that began from exported weights took over, for the model card."""
    if not config.init:
        return ""
    sample = f", on {config.limit:,} of its questions and their negatives" if config.limit else ""
    if not config.offset:
        init = recorded_path(config.init)
        return f", on a fresh schedule from earlier exported weights ({init}){sample}"
    return (
        ", on a fresh schedule from earlier exported weights (trained on the first "
        f"{config.offset} batches of the same data order, which this run skipped){sample}"
    )


def log(out: Path, record: dict[str, Any]) -> None:
    line = json.dumps({"time": round(time.time(), 1), **record})
    with open(out / "log.jsonl", "a", encoding="utf-8") as file:
        file.write(line + "\n")
    print(line, file=sys.stderr, flush=True)


def transformers_reader(path: Path = BUNDLED_READER, *, bf16: bool = False) -> Reader:
    """The reader on transformers' BertForQuestionAnswering, as training runs it (answering
    runs the same weights on :mod:`qa.bert`): a verifier copies its encoder, the answer
    benchmark times it as the reference; in float32, or with ``bf16`` autocast."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    model = AutoModelForQuestionAnswering.from_pretrained(
        str(path), local_files_only=True, dtype=torch.float32
    )
    return Reader(model, AutoTokenizer.from_pretrained(str(path), local_files_only=True), bf16=bf16)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="run folder (resumed if there)")
    parser.add_argument("--export", type=Path, help="write the trained model to this folder")
    parser.add_argument(
        "--stop", action="store_true", help="train no further: export the last checkpoint"
    )
    defaults = Config()
    for setting in fields(Config):
        default = getattr(defaults, setting.name)
        flag = f"--{setting.name.replace('_', '-')}"
        if type(default) is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        else:
            parser.add_argument(flag, type=type(default), default=default)
    args = vars(parser.parse_args(argv))
    out, export, stop = args.pop("out"), args.pop("export"), args.pop("stop")
    result = run(Config(**args), out, export, stop=stop)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
