"""Number parsing, spotting and normalisation (qa.numbers)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.numbers import NUMBER_PATTERN, find_numbers, normalize_number_words, parse_number

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen"]  # fmt: skip
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def to_words(n: int, hyphen: bool = True, use_and: bool = True) -> str:
    """English words for 0 <= n < 1,000,000 ("three hundred and forty-two")."""

    def below_hundred(m: int) -> str:
        if m < 20:
            return _ONES[m]
        tens, units = divmod(m, 10)
        return _TENS[tens] + (("-" if hyphen else " ") + _ONES[units] if units else "")

    def below_thousand(m: int, after_scale: bool = False) -> str:
        hundreds, rest = divmod(m, 100)
        parts = [f"{_ONES[hundreds]} hundred"] if hundreds else []
        if rest:
            if use_and and (hundreds or after_scale):
                parts.append("and")
            parts.append(below_hundred(rest))
        return " ".join(parts)

    if n == 0:
        return "zero"
    thousands, rest = divmod(n, 1000)
    parts = [below_thousand(thousands) + " thousand"] if thousands else []
    if rest:
        parts.append(below_thousand(rest, after_scale=bool(thousands) and rest < 100))
    return " ".join(parts)


def test_to_words_helper() -> None:
    assert to_words(342) == "three hundred and forty-two"
    assert to_words(1005) == "one thousand and five"
    plain = to_words(120_021, hyphen=False, use_and=False)
    assert plain == "one hundred twenty thousand twenty one"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("six", 6),
        ("Six", 6),
        ("SIX", 6),
        ("150,000", 150_000),
        ("1,500,000.25", 1_500_000.25),
        ("40 per cent", 40),
        ("40 percent", 40),
        ("40%", 40),
        ("forty per cent", 40),
        ("1.5 million", 1_500_000),
        ("2.3 million", 2_300_000),
        ("twenty-one", 21),
        ("twenty one", 21),
        ("three hundred and forty two", 342),
        ("three hundred forty-two", 342),
        ("a dozen", 12),
        ("two dozen", 24),
        ("a hundred", 100),
        ("a million", 1_000_000),
        ("two million three hundred thousand and five", 2_300_005),
        ("81", 81),
        ("some 700", 700),
        ("Around 150,000", 150_000),
        ("as many as 60", 60),
        ("at least five", 5),
        ("nearly half a dozen", None),  # "half" is not supported
        ("more than 1,000", 1000),
        ("up to 20", 20),
        ("well over 100", 100),
        ("about 30 or so", 30),
        ("sixth", 6),
        ("the sixth", 6),
        ("twenty-first", 21),
        ("one hundred and first", 101),
        ("hundredth", None),
        ("one hundredth", 100),
        ("6th", 6),
        ("21st", 21),
        ("-3.5", -3.5),
        ("−3.5", -3.5),
        ("0.5", 0.5),
        ("zero", 0),
        ("$1.5 million", 1_500_000),
        ("6.", 6),
        ("(81)", 81),
    ],
)
def test_parse_number(text: str, value: float | None) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    "text",
    ["", "  ", "Kinzhal", "some", "a", "one two", "six missiles", "700 kilometres", "someone",
     "often", "hundred", "dozen", "1,2,3", "1.2.3", "G7", "Covid-19"],
)  # fmt: skip
def test_parse_number_rejects_non_numbers(text: str) -> None:
    assert parse_number(text) is None


def test_find_numbers_spans_and_values() -> None:
    text = (
        "Russia fired 81 missiles, including six Kinzhal missiles; around 150,000 households, "
        "40 per cent of consumers, the sixth time, some 700 kilometres, twenty-one drones, "
        "1.5 million people and -3.5 degrees."
    )
    found = [(text[s:e], v) for s, e, v in find_numbers(text)]
    assert found == [
        ("81", 81),
        ("six", 6),
        ("150,000", 150_000),
        ("40 per cent", 40),
        ("sixth", 6),
        ("700", 700),
        ("twenty-one", 21),
        ("1.5 million", 1_500_000),
        ("-3.5", -3.5),
    ]


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("someone often stands alone in the tone", []),  # no numbers inside words
        ("pages 10-12", ["10", "12"]),  # a hyphen after a digit is not a minus sign
        ("in 150,000, the", ["150,000"]),  # a comma after the number is punctuation
        ("between two and three", ["two", "three"]),  # "and" joins only after hundred/scale
        ("one thousand and five people", ["one thousand and five"]),
        ("a hundred and fifty", ["a hundred and fifty"]),
        ("a second wave", ["second"]),
        ("the 35-nation board", ["35"]),
    ],
)
def test_number_pattern_boundaries(text: str, spans: list[str]) -> None:
    assert [m.group() for m in NUMBER_PATTERN.finditer(text)] == spans


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("six missiles", "6 missiles"),
        ("Six missiles", "6 missiles"),
        ("one hundred", "100"),
        ("150,000 households", "150000 households"),
        ("6.0", "6"),
        ("1.50", "1.5"),
        ("1.5 million", "1500000"),
        ("the sixth time", "the 6th time"),
        ("the twenty-second", "the 22nd"),
        ("the eleventh", "the 11th"),
        ("40 per cent", "40%"),
        ("no numbers here", "no numbers here"),
        ("a dozen eggs", "12 eggs"),
    ],
)
def test_normalize_number_words(text: str, expected: str) -> None:
    assert normalize_number_words(text) == expected


@given(st.integers(0, 999_999), st.booleans(), st.booleans(), st.booleans())
def test_words_parse_back(n: int, hyphen: bool, use_and: bool, title: bool) -> None:
    words = to_words(n, hyphen=hyphen, use_and=use_and)
    words = words.capitalize() if title else words
    assert parse_number(words) == n
    assert normalize_number_words(words) == str(n)
    sentence = f"They reported {words} launches."
    assert [(sentence[s:e], v) for s, e, v in find_numbers(sentence)] == [(words, n)]


@given(st.integers(-(10**12), 10**12))
def test_digits_with_separators_parse_back(n: int) -> None:
    assert parse_number(f"{n:,}") == n
    assert parse_number(str(n)) == n
    assert normalize_number_words(f"{n:,}") == str(n)


@given(st.text(alphabet=st.sampled_from("ab 1,.-%sixtwenyhd"), max_size=40))
def test_find_numbers_offsets(text: str) -> None:
    spans = find_numbers(text)
    ends = [0]
    for start, end, value in spans:
        assert start >= ends[-1] and end > start
        assert parse_number(text[start:end]) == value
        ends.append(end)
