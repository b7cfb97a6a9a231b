"""Filters and options are typed and checked once, and every front converts to the same ones."""

from __future__ import annotations

import datetime as dt

import pytest

from qa import AskOptions, Engine, Filters, Index, SearchOptions
from qa.options import MODES
from qa.ui.schemas import AskIn, SearchIn

KINZHAL = "How many Kinzhal missiles were fired?"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"date_from": "yesterday"}, "date_from must be a date as YYYY-MM-DD, got 'yesterday'"),
        ({"date_to": "2024-3-1"}, "date_to must be a date as YYYY-MM-DD"),
        ({"date_to": "2023-02-29"}, "date_to: 2023-02-29 is not a day: February 2023 has 28 days"),
        ({"date_to": "2024-02-30"}, "date_to: 2024-02-30 is not a day: February 2024 has 29 days"),
        ({"date_from": "2024-00-10"}, "date_from: 2024-00-10 is not a day: there is no month 0"),
        ({"date_from": "2024-04-31"}, "2024-04-31 is not a day: April 2024 has 30 days"),
        ({"doc_ids": ["abc"]}, "at least 4 characters"),
        ({"doc_ids": [" ab "]}, "at least 4 characters"),
        ({"sources": [3]}, "must be text"),
    ],
)
def test_bad_filters_are_a_value_error_naming_the_field(
    given: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Filters(**given)  # type: ignore[arg-type]


def test_the_cli_names_its_own_flags_in_a_date_error() -> None:
    with pytest.raises(ValueError, match="--from must be a date"):
        Filters(date_from="March", labels=("--from", "--to"))


def test_filters_keep_what_is_set_and_travel_as_json() -> None:
    filters = Filters(["abcd1234"], ["kyiv"], "2023-03-01", None)
    assert filters.doc_ids == ("abcd1234",) and filters.active
    assert filters.to_dict() == {
        "doc_ids": ["abcd1234"],
        "sources": ["kyiv"],
        "date_from": "2023-03-01",
    }
    assert Filters.from_dict(filters.to_dict()) == filters
    assert Filters(date_to="") == Filters() and not Filters().active and Filters().to_dict() == {}
    with pytest.raises(ValueError, match="unknown filters"):
        Filters.from_dict({"doc_id": ["abcd"]})


@pytest.mark.parametrize("options", [SearchOptions, AskOptions])
def test_options_check_k_and_mode(options: type[SearchOptions] | type[AskOptions]) -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        options(k=0)
    with pytest.raises(ValueError, match="k must be at least 1"):
        options(k=True)
    with pytest.raises(ValueError, match="unknown mode 'sparse'"):
        options(mode="sparse")  # type: ignore[arg-type]
    assert {options(mode=m).mode for m in MODES} == {"hybrid", "dense", "bm25"}


def test_ask_options_check_the_threshold_and_give_their_search() -> None:
    with pytest.raises(ValueError, match=r"abstain_below must be in \[0, 1\]"):
        AskOptions(abstain_below=1.5)
    asked = AskOptions(3, "bm25", Filters(sources=["x"]), 0.2)
    assert asked.search == SearchOptions(3, "bm25", Filters(sources=["x"]))
    assert asked.to_dict() == {
        "k": 3,
        "mode": "bm25",
        "filters": {"sources": ["x"]},
        "abstain_below": 0.2,
    }


def test_the_api_models_convert_to_the_same_options() -> None:
    filters = {"sources": ["004_"], "date_from": "2023-03-09"}
    asked = AskIn(question=KINZHAL, k=4, mode="dense", filters=filters)  # type: ignore[arg-type]
    assert asked.options() == AskOptions(
        4, "dense", Filters(sources=["004_"], date_from="2023-03-09")
    )
    day = {"date_to": dt.date(2023, 3, 9)}
    searched = SearchIn(query="Kinzhal", filters=day)  # type: ignore[arg-type]
    assert searched.options() == SearchOptions(filters=Filters(date_to="2023-03-09"))


def test_the_engine_searches_and_answers_as_its_index_does(sample_index: Index) -> None:
    engine = Engine(sample_index)
    engine.warm_up()
    options = SearchOptions(3, "bm25", Filters(sources=["000_"]))
    hits = engine.search(KINZHAL, options)
    assert hits == sample_index.search(KINZHAL, 3, mode="bm25", filters=Filters(sources=["000_"]))
    assert hits and all("000_" in h.source for h in hits)
    assert engine.ask(KINZHAL).short_answer == "six"
    streamed = list(engine.ask_stream(KINZHAL))  # without a language model: the answer alone
    assert len(streamed) == 1 and streamed[0] == engine.ask(KINZHAL)
    assert hits.matching == 1 and engine.search(KINZHAL).matching is None
    for mode in MODES:  # told from "no passage found" by the count, in every mode
        nowhere = AskOptions(mode=mode, filters=Filters(sources=["nowhere.pdf"]))
        assert engine.ask(KINZHAL, nowhere).answer.startswith("No report matches the filters")
        found = engine.search(KINZHAL, nowhere.search)
        assert found == [] and found.matching == 0
    unasked = AskOptions(mode="bm25", filters=Filters(sources=["000_"]))
    answer = engine.ask("Zyxwvut quuxly?", unasked)  # no word of it in any report
    assert answer.abstained and not answer.answer.startswith("No report matches")


def test_the_chat_names_an_impossible_date_and_reads_a_written_one() -> None:
    from qa.ui.handlers import parse_filters

    with pytest.raises(ValueError, match="the from date: 2023-02-30 is not a day: February"):
        parse_filters("", "2023-02-30", "")
    assert parse_filters("", "9 March 2023", "").date_from == "2023-03-09"
