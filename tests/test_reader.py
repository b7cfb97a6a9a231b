"""The reader's training recipe and span reading, on a tiny SQuAD-shaped set (CI time)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from qa import AskOptions, Engine
from qa.config import SHARED_ENV, sample_corpus, shared_folder
from qa.embed import native_bf16
from qa.errors import ModelLoadError
from qa.index import Index
from qa.reader import Passage, Reader, load_reader, read_passages
from qa.reader.training.data import examples, load_squad, negatives, split_articles
from qa.reader.training.train import Config, recorded_path, run, training_split

FACTS = [
    (
        "Kharkiv",
        "Ihor Terekhov is the mayor of Kharkiv. The city has a metro.",
        "Who is the mayor of Kharkiv?",
        "Ihor Terekhov",
    ),
    (
        "Odesa",
        "The port of Odesa reopened in May. Grain ships left at once.",
        "When did the port reopen?",
        "May",
    ),
    (
        "Lviv",
        "Lviv lies in western Ukraine. About 720,000 people live there.",
        "How many people live in Lviv?",
        "720,000",
    ),
    (
        "Bakhmut",
        "The Bakhmutka river bisects Bakhmut. Its salt mines are old.",
        "Which river bisects Bakhmut?",
        "Bakhmutka",
    ),
]


def squad_file(folder: Path) -> Path:
    data = []
    for n, (title, context, question, answer) in enumerate(FACTS):
        qa = {
            "id": f"q{n}",
            "question": question,
            "answers": [{"text": answer, "answer_start": context.index(answer)}],
        }
        data.append({"title": title, "paragraphs": [{"context": context, "qas": [qa]}]})
    path = folder / "squad.json"
    path.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    return path


def test_articles_are_held_out_whole_and_negatives_come_from_elsewhere(tmp_path: Path) -> None:
    articles = load_squad(squad_file(tmp_path))
    train, val = split_articles(articles, val_fraction=0.25, seed=3)
    assert len(val) == 1 and not {a.title for a in train} & {a.title for a in val}
    assert split_articles(articles, 0.25, seed=3) == (train, val)  # seeded
    found = negatives(examples(articles), articles, fraction=1.0)
    assert found and all(not e.answerable for e in found)
    owner = {e.qid: e.title for e in examples(articles)}
    assert all(e.title != owner[e.qid.removesuffix("-neg")] for e in found)


def test_a_training_seed_never_moves_the_held_out_articles(tmp_path: Path) -> None:
    """The seed orders and samples the training data; the articles held out are the ones
    every held-out measure holds out, or a run with another seed would train on them."""
    data = str(squad_file(tmp_path))
    held_out = split_articles(load_squad(data), 0.5)[1]
    for seed in (0, 1, 2, 3):
        _, val = training_split(Config(data=data, val_fraction=0.5, seed=seed))
        assert val == held_out


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A few training steps on the tiny set, exported: (run folder, model folder)."""
    folder = tmp_path_factory.mktemp("reader")
    config = Config(
        data=str(squad_file(folder)),
        max_steps=3,
        batch=2,
        val_fraction=0.25,
        eval_every=3,
        save_every=2,
        negatives=0.5,
    )
    run(config, folder / "run", export=folder / "model")
    return folder / "run", folder / "model"


def test_training_logs_checkpoints_and_resumes(trained: tuple[Path, Path]) -> None:
    out, _ = trained
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert {"event": "plan", "steps": 3} in [
        {k: r.get(k) for k in ("event", "steps")} for r in records
    ]
    assert any(r.get("event") == "validation" and "f1" in r for r in records)
    assert (out / "checkpoint.pt").exists()
    config = Config(**json.loads((out / "config.json").read_text()))
    config.max_steps = 4
    with pytest.raises(SystemExit, match="other settings"):
        run(config, out)  # a changed recipe never continues another run's checkpoint
    config.max_steps = 3
    run(config, out)  # everything done: resumes at step 3 and only validates
    config.max_steps = 50
    with pytest.raises(SystemExit):
        run(config, out, stop=True)  # stopping early is no excuse for another recipe
    config.max_steps = 3
    run(config, out, export=out / "now", stop=True)  # the checkpoint as it is
    recorded = json.loads((out / "now" / "training.json").read_text())
    assert recorded["steps"] == 3
    assert recorded["config"]["data"] == "squad.json"  # outside the shared folder: its name
    fresh = out.parent / "fresh"
    run(config, fresh, export=fresh / "now", stop=True)  # no checkpoint yet: no step taken
    assert json.loads((fresh / "now" / "training.json").read_text())["steps"] == 0
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert any(r.get("event") == "resumed" and r["step"] == 3 for r in records)


def test_training_goes_on_from_exported_weights_past_the_batches_they_saw(
    trained: tuple[Path, Path],
) -> None:
    import shutil

    out, model = trained
    init = shutil.copytree(model, out.parent / "init")
    config = Config(**json.loads((out / "config.json").read_text()))
    config.init, config.offset, config.max_steps = str(init), 3, 1
    run(config, out.parent / "more", export=out.parent / "more-model")
    shutil.rmtree(init)  # a resumed run reads its checkpoint, not the weights it began from
    run(config, out.parent / "more")
    card = (out.parent / "more-model" / "README.md").read_text(encoding="utf-8")
    assert "Trained for 1 steps" in card and "first 3 batches" in card
    records = (out.parent / "more" / "log.jsonl").read_text().splitlines()
    assert any(json.loads(line).get("step") == 1 for line in records if '"step"' in line)


def test_the_exported_reader_returns_slices_of_its_passages(trained: tuple[Path, Path]) -> None:
    _, model = trained
    assert (model / "model.safetensors").stat().st_size < 60 * 2**20  # half precision
    card = (model / "README.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in card and "Trained for 3 steps" in card and "F1" in card
    reader = Reader.load(model)
    long = " ".join(f"Sentence {i} says little about anything at all." for i in range(200))
    passages = [FACTS[0][1], long, FACTS[2][1]]
    spans = reader.read("Who is the mayor of Kharkiv?", passages)
    assert [s.passage for s in spans] == [0, 1, 2]  # the long one read in several windows
    for span in spans:
        text = passages[span.passage][span.start : span.end]
        assert text.strip() and text == text.strip()
        assert 0 <= span.start < span.end <= len(passages[span.passage])
    short = reader.read("Who is the mayor of Kharkiv?", passages, accept=lambda t: len(t) <= 6)
    assert short and all(s.end - s.start <= 6 for s in short)  # only spans it accepts
    assert all(s.score <= max(b.score for b in spans if b.passage == s.passage) for s in short)


def test_answers_are_placed_in_their_documents_and_merged(trained: tuple[Path, Path]) -> None:
    from qa.reader.answers import ranking

    reader = Reader.load(trained[1])
    document = "Preface. " + FACTS[0][1] + " " + FACTS[2][1]
    a = document.index(FACTS[0][1])
    b = document.index(FACTS[2][1])
    passages = [
        Passage("d1", a, FACTS[0][1]),
        Passage("d2", 0, FACTS[0][1]),  # the same words in another report
        Passage("d1", b, FACTS[2][1]),
    ]
    reading = read_passages(reader, "Who is the mayor of Kharkiv?", passages)
    found = reading.answers
    assert found == sorted(found, key=lambda f: -f.score)
    assert sorted(i for f in found for i in f.passages) == [0, 1, 2]  # each passage once
    for f in found:
        first = passages[f.passages[0]]
        offset = f.start - first.start
        assert first.text[offset : offset + len(f.text)] == f.text
        if first.doc_id == "d1":
            assert document[f.start : f.end] == f.text
    same = [f for f in found if {0, 1} <= set(f.passages)]
    assert len(same) == 1  # the identical passages gave one merged answer
    merged = same[0]
    assert [(p.doc_id, passages[1].text[p.start : p.end]) for p in merged.also] == [
        ("d2", merged.text)  # where the other report says it, in that report's offsets
    ]
    spans = reader.read("Who is the mayor of Kharkiv?", [p.text for p in passages])
    assert sorted(reading.order) == [0, 1, 2]  # the passages re-ranked by their best span
    ranked = [ranking(spans[i]) for i in reading.order]
    assert ranked == sorted(ranked, reverse=True)


def test_ask_with_a_reader_quotes_its_reports_or_abstains(
    trained: tuple[Path, Path], sample_index: Index
) -> None:

    reader = Reader.load(trained[1])
    question = "How many Kinzhal missiles were fired?"
    answer = Engine(sample_index, reader=reader).ask(
        question, AskOptions(abstain_below=0.0)
    )  # always answers
    assert not answer.abstained and answer.citations and answer.short_answer
    for c in answer.citations:
        text = sample_index.document(c.doc_id).text
        assert text[c.start : c.end] == c.quote
        assert c.answer_start is not None and c.answer_end is not None
        assert c.start <= c.answer_start < c.answer_end <= c.end
    assert answer.short_answer == text_at(sample_index, answer.citations[0])
    refused = Engine(sample_index, reader=reader).ask(
        question, AskOptions(abstain_below=1.0)
    )  # never sure enough
    assert refused.abstained and not refused.citations and refused.related


def text_at(index: Index, citation: Any) -> str:
    return index.document(citation.doc_id).text[citation.answer_start : citation.answer_end]


def test_qa_eval_measures_an_exported_reader(
    trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from qa.cli import main
    from qa.config import sample_corpus

    questions = Path(__file__).resolve().parents[1] / "eval/data/sample_questions.jsonl"
    argv = ["eval", str(questions), "--corpus", str(sample_corpus()), "--limit", "3"]
    argv += ["--reader", str(trained[1]), "--no-output", "--json", "--index", str(tmp_path / "i")]
    assert main(argv) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["settings"]["reader"] == str(trained[1]) and record["summary"]["n"] == 3


def test_the_shipped_reader_loads_from_the_package_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import qa.reader.reader as module

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # nothing may be fetched
    monkeypatch.delenv(module.READER_ENV, raising=False)
    reader = load_reader()
    assert reader is load_reader() is load_reader(module.BUNDLED_READER)  # once per process
    files = {f.name for f in module.BUNDLED_READER.iterdir()}
    assert {"model.safetensors", "tokenizer.json", "README.md", "training.json"} <= files
    card = (module.BUNDLED_READER / "README.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in card and "F1" in card and "Near misses" in card
    recipe = json.loads((module.BUNDLED_READER / "training.json").read_text())["config"]
    assert recipe["data"] == "bench/squad-train/train-v1.1.json.gz"  # no machine's path
    assert not [v for v in recipe.values() if isinstance(v, str) and Path(v).is_absolute()]
    # bf16 only where the hardware has it: emulated bf16 is several times slower than fp32
    assert reader.bf16 is native_bf16()
    assert Reader(reader.model, reader.tokenizer, bf16=True).bf16 is True
    with pytest.raises(ModelLoadError, match="cannot load the reader"):
        load_reader(tmp_path / "nothing here")


def test_a_bf16_reader_casts_its_weights_once_and_reads_as_float32_does(
    sample_index: Index,
) -> None:
    """Weights cast once (a fifth faster than autocast where the CPU has bf16); the spans
    read are float32's (emulated where the CPU lacks bf16: slow, but the same answers)."""
    import torch

    from qa.reader.reader import BUNDLED_READER

    fp32, bf16 = (Reader.load(BUNDLED_READER, bf16=b) for b in (False, True))
    assert next(fp32.model.parameters()).dtype == torch.float32
    assert next(bf16.model.parameters()).dtype == torch.bfloat16
    for question in ("How many Kinzhal missiles were fired?", "Who is the mayor of Kharkiv?"):
        passages = [h.text for h in sample_index.search(question, k=3)]
        wanted = [(s.passage, s.start, s.end) for s in fp32.read(question, passages)]
        assert [(s.passage, s.start, s.end) for s in bf16.read(question, passages)] == wanted


def test_windows_shared_out_between_cores_read_as_one_call_does(sample_index: Index) -> None:
    from qa.reader.reader import BUNDLED_READER

    shared, alone = (Reader.load(BUNDLED_READER, bf16=False, cores=n) for n in (3, 1))
    question = "Who is the mayor of Kharkiv?"
    passages = [h.text for h in sample_index.search(question, k=6)]
    spans = shared.read(question, passages)
    assert len(spans) == len(passages)  # windows of every passage read, in three shares
    for got, wanted in zip(spans, alone.read(question, passages)):
        assert (got.passage, got.start, got.end) == (wanted.passage, wanted.start, wanted.end)
        assert got.score == pytest.approx(wanted.score, abs=1e-3)


def test_the_shipped_reader_answers_and_abstains(sample_index: Index) -> None:
    reader = load_reader()
    hits = sample_index.search("Who is the mayor of Kharkiv?", k=4)
    passages = [Passage(h.doc_id, h.start, h.text) for h in hits]
    reading = read_passages(reader, "Who is the mayor of Kharkiv?", passages)
    best = reading.answers[0]
    assert best.text == "Ihor Terekhov"
    assert sample_index.document(best.doc_id).text[best.start : best.end] == best.text
    unrelated = read_passages(reader, "What is the boiling point of mercury?", passages)
    assert all(a.margin < 0 for a in unrelated.answers)  # "no answer" wins in every passage


def test_an_answer_never_runs_across_a_line_break() -> None:
    # read as they stand, the logits favour a span from one paragraph into the next
    text = (sample_corpus() / "000_214ac054cd4d5203.txt").read_text()
    passage = text[text.index("Fuel reserves") :][:400]
    question = (
        "Who said on Telegram that fuel for the plant's diesel generators had been sufficient?"
    )
    span = load_reader().read(question, [passage])[0]
    assert passage[span.start : span.end] == "the power plant's press service"
    # a line break inside a hard-wrapped paragraph is a space: a name may run across it
    wrapped = textwrap.fill(
        "Officials gathered in the city on Thursday to hear the regional governor, Maksym "
        "Marchenko, who said the port had been hit by missiles overnight and that repairs to "
        "the cranes would take several weeks.",
        42,
    )
    assert "Maksym\nMarchenko" in wrapped
    span = load_reader().read("Who is the regional governor?", [wrapped])[0]
    assert wrapped[span.start : span.end] == "Maksym\nMarchenko"


def test_answering_never_imports_the_training_code() -> None:
    """The training code (qa.reader.training: SQuAD, near misses, the recipe) is offline
    work: the package, the answerer, the reader, the checker and the CLI load none of it."""
    code = (
        "import sys\n"
        "import qa, qa.answer, qa.reader, qa.generate.check, qa.cli\n"
        "print(sorted(m for m in sys.modules if m.startswith('qa.reader.training')))\n"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "[]"


def test_the_training_data_is_in_the_shared_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``$QA_SHARED``, else ``shared`` beside the source checkout; read when asked for."""
    monkeypatch.delenv(SHARED_ENV, raising=False)
    assert shared_folder() == Path(__file__).resolve().parents[2] / "shared"
    monkeypatch.setenv(SHARED_ENV, str(tmp_path))
    assert shared_folder() == tmp_path
    assert Config().data == str(tmp_path / "bench" / "squad-train" / "train-v1.1.json.gz")
    assert recorded_path(Config().data) == "bench/squad-train/train-v1.1.json.gz"
    assert recorded_path("/elsewhere/train.json.gz") == "train.json.gz"
    assert recorded_path("qa/reader/model") == "qa/reader/model"


def test_loading_the_reader_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    """`qa ask` showed transformers' "Loading weights" bar on stderr as the reader loaded."""
    from transformers.utils import logging as hf_logging

    from qa.reader import reader as module

    hf_logging.enable_progress_bar()  # as in a process that has not loaded the embedder yet
    capfd.readouterr()
    Reader.load(module.BUNDLED_READER)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
