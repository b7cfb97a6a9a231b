"""Rivals: a sentence that ties another place, role, weapon, day or figure to the answer than
the one the question asks about."""

from __future__ import annotations

import pytest

from qa.answer.relations import rival

ODESA = "The governor of Ukraine's Odesa region, Maksym Marchenko, said energy sites were hit."
KHARKIV = "Kharkiv's mayor Ihor Terekhov said the city had lost power."
MYKOLAIV = "Vitaliy Kim, the mayor of the southern city Mykolaiv, said as many as 60 were fired."
REZNIKOV = "But Ukrainian Defence Minister Oleksii Reznikov told the newspaper it would not last."
BIDEN = "US President Joe Biden is finalising plans to send Patriot missiles."
DESTROYED = "Ukraine destroyed 34 cruise missiles and four Shahed drones."
HOUSEHOLDS = "Around 150,000 households were left without power in the Zhytomyr region."
THURSDAY = "On Thursday air defences brought down 13 drones over the capital."
KHERSON = (
    "Two people died in shelling in Kherson on Thursday, however air defences in Kyiv "
    "brought down 13 drones targeting the capital on Wednesday."
)
DISTRICTS = (
    "Explosions were reported in the Holosiivskyi district, and two people were wounded in "
    "the Sviatoshynskyi district, also on the west side of the city."
)
ZAPORIZHZHIA = (
    "Fifteen rockets were fired at Zaporizhzhia, while officials in the Zhytomyr region said "
    "Russia had fired rockets and kamikaze drones."
)
KLITSCHKO = "Kyiv Mayor Vitaliy Klitschko said three areas of the city were hit."
KHARKIV_GOVERNOR = (
    "Oleh Synehubov, governor of Ukraine's second largest city, Kharkiv, said the city had "
    "been hit by 15 strikes."
)
AIR_FORCE = "The Ukrainian air force said Russia fired 81 missiles and eight drones."
ZELENSKYY = "In a statement on Telegram, Mr Zelenskyy said 10 regions had been hit."
RAID = "That raid, according to Ukraine was carried out by Russian citizens."
WAGNER = "Yevgeny Prigozhin, head of the Russian mercenary group Wagner, said Bakhmut fell."
MINISTRY = "The Russian defence ministry said it hit Ukrainian defence companies."
HEAT = "Mr Klitschko said 40 per cent of consumers in Kyiv were left without heat."
STOPPED = "Ukraine said eight drones and guided missiles were stopped."
GROSSI = "UN nuclear watchdog chief Rafael Grossi appealed for a protection zone."
ZALUZHNY = "They will try again, the head of the armed forces, Gen Valery Zaluzhny, told the paper."


@pytest.mark.parametrize(
    ("question", "answer", "sentence"),
    [
        ("Who is the governor of the Dnipro region?", "Maksym Marchenko", ODESA),  # place
        ("Who is the mayor of Odesa?", "Maksym Marchenko", ODESA),  # title
        ("Who is the mayor of Kryvyi Rih?", "Ihor Terekhov", KHARKIV),  # place, before it
        ("Who is the mayor of Kharkiv?", "Vitaliy Kim", MYKOLAIV),  # place, after "of the"
        ("Who is Ukraine's foreign minister?", "Oleksii Reznikov", REZNIKOV),  # role
        ("What is Russia's Defence Minister called?", "Oleksii Reznikov", REZNIKOV),  # country
        ("Who is the president of Russia?", "Joe Biden", BIDEN),  # an acronym is a name
        ("How many Kalibr missiles were fired?", "81", "Russia fired 81 Kh-101 missiles."),
        ("Which region had 250,000 households left without power?", "Zhytomyr", HOUSEHOLDS),
        ("How many drones were brought down on Tuesday?", "13", THURSDAY),  # day
        # another kind of the thing counted, or another thing
        ("How many ballistic missiles did Ukraine destroy?", "34", DESTROYED),
        ("How many kamikaze drones were fired at Zaporizhzhia?", "Fifteen", ZAPORIZHZHIA),
        # the question's day or place is in the sentence, but in the other clause
        ("How many people died in Kherson on Wednesday?", "Two", KHERSON),
        ("How many were wounded in the Holosiivskyi district?", "two", DISTRICTS),
        ("Who is the deputy mayor of Kyiv?", "Vitaliy Klitschko", KLITSCHKO),  # another post
        ("How many missiles did Vitaliy Klitschko say were fired?", "60", MYKOLAIV),  # name
        # who said it: another full name has the words
        ("How many strikes did Kharkiv's mayor Ihor Terekhov say hit it?", "15", KHARKIV_GOVERNOR),
        ("According to Ihor Terekhov, how many strikes hit it?", "15", KHARKIV_GOVERNOR),
        # "said Russia" is what the air force said, not whose air force it is
        ("How many missiles did the Russian air force count?", "81", AIR_FORCE),
        # another body, another post says it, a verb of saying beyond "say"
        ("What did Russia's foreign ministry say it hit?", "Ukrainian defence", MINISTRY),
        (
            "According to the head of Kharkiv's police, how many strikes hit it?",
            "15",
            KHARKIV_GOVERNOR,
        ),
        ("What did Chechen leader Ramzan Kadyrov claim fell?", "Bakhmut", WAGNER),
        # the answer's clause puts it in another place
        ("What share of consumers in Dnipro had no heat?", "40 per cent", HEAT),
        # another kind of weapon: counted, or named by the answer
        ("How many guided bombs were stopped?", "eight", STOPPED),
        ("How many missiles were brought down on Wednesday?", "13", KHERSON),
        ("What tanks is Joe Biden sending?", "Patriot missiles", BIDEN),
        # an acronym that the question's names do not spell
        ("Which network shows Arena Football League games?", "Fox", "Fox shows NFL games."),
    ],
)
def test_a_sentence_that_ties_a_rival_to_the_answer_is_caught(
    question: str, answer: str, sentence: str
) -> None:
    assert rival(question, answer, sentence, sentence)


@pytest.mark.parametrize(
    ("question", "answer", "sentence"),
    [
        ("Who is the governor of the Odesa region?", "Maksym Marchenko", ODESA),
        ("Who is the governor of Ukraine's Odesa region?", "Maksym Marchenko", ODESA),
        ("Who is the mayor of Kharkiv?", "Ihor Terekhov", KHARKIV),
        ("Who is the mayor of Mykolaiv?", "Vitaliy Kim", MYKOLAIV),
        ("Who is Ukraine's defence minister?", "Oleksii Reznikov", REZNIKOV),
        ("Who is the president?", "Joe Biden", BIDEN),  # nothing attached to compare
        ("How many cruise missiles did Ukraine destroy?", "34", DESTROYED),
        # a thing worded otherwise is no rival: "fans" counted for spectators
        ("How many spectators watched?", "12,117", "The game drew 12,117 fans."),
        ("How many people were killed in Lviv?", "five", "Five people killed in Lviv."),
        ("How many households lost power in the Zhytomyr region?", "150,000", HOUSEHOLDS),
        ("How many drones were brought down on Thursday?", "13", THURSDAY),
        ("What was the British prime minister called?", "Churchill", "Prime Minister Churchill"),
        ("How many people died in Kherson on Thursday?", "Two", KHERSON),
        ("How many drones were brought down on Wednesday?", "13", KHERSON),
        ("In which Kyiv district were two people wounded?", "Sviatoshynskyi", DISTRICTS),
        ("Who is the mayor of Kyiv?", "Vitaliy Klitschko", KLITSCHKO),
        # the question's place is in the title's apposition, or after the head it names
        ("Who is the governor of Kharkiv?", "Oleh Synehubov", KHARKIV_GOVERNOR),
        ("Who heads the Wagner group?", "Yevgeny Prigozhin", WAGNER),
        # "southern city" is no rival of Mykolaiv, nor "head" of "chief"
        ("How many missiles did the mayor of Mykolaiv think were fired?", "60", MYKOLAIV),
        ("Who is the head of the UN watchdog?", "Rafael Grossi", "UN watchdog chief Rafael Grossi"),
        # a sentence's first word is capitalised whatever it is
        (
            "What is Richmond's southwestern suburb?",
            "Midlothian",
            "Major suburbs include Midlothian.",
        ),
        ("How many missiles did the Ukrainian air force count?", "81", AIR_FORCE),
        # a single name or a place is no speaker to compare ("according to Kyiv")
        ("How many regions did Zelenskyy say were hit?", "10", ZELENSKYY),
        ("According to Kyiv, who carried out the raid?", "Russian citizens", RAID),
        # an ordinal, or the number of answers asked for, pins no figure
        ("Who first composed the Ashtadhyayi?", "Panini", "It was composed by Panini in 400 BC."),
        (
            "What two groups spread it?",
            "clerics and tradesmen",
            "From 900 clerics and tradesmen did.",
        ),
        # a rank written short, a title any post fits, a post described instead of named
        ("Which general leads Ukraine's armed forces?", "Gen Valery Zaluzhny", ZALUZHNY),
        ("Which US leader is sending Patriot missiles?", "Joe Biden", BIDEN),
        ("What did the IAEA chief call for?", "a protection zone", GROSSI),
        # a rocket may be called a missile; the question's place, in the sentence
        ("How many rockets did Russia fire?", "81", AIR_FORCE),
        ("What share of consumers in Kyiv had no heat?", "40 per cent", HEAT),
        ("Which missiles is Joe Biden sending?", "Patriot missiles", BIDEN),
        # an acronym for the question's names, or the other way round; an acronym's plural
        ("Which network shows Arena Football League games?", "Fox", "Fox shows AFL games."),
        ("Which network shows AFL games?", "Fox", "Fox shows Arena Football League games."),
        ("Why did CD sales fall?", "downloads", "Sales of CDs fell with downloads."),
    ],
)
def test_a_sentence_that_agrees_or_says_less_has_no_rival(
    question: str, answer: str, sentence: str
) -> None:
    assert not rival(question, answer, sentence, sentence)


def test_a_report_is_about_the_day_its_lead_names_before_its_neighbours_days() -> None:
    report = "Russia struck Kyiv on Friday. The UN warned on Thursday. Three areas were hit."
    sentence, window = "Three areas were hit.", "The UN warned on Thursday. Three areas were hit."
    question = "How many areas were hit on {}?"
    assert not rival(question.format("Friday"), "Three", sentence, window, report)
    assert rival(question.format("Thursday"), "Three", sentence, window, report)
    assert rival(question.format("Friday"), "Three", sentence, window)  # no report: neighbours


def test_a_day_in_the_neighbouring_sentence_counts() -> None:
    sentence = "Air defences brought down 13 drones over the capital."
    window = f"The attack came on Thursday. {sentence}"
    assert rival("How many drones were brought down on Tuesday?", "13", sentence, window)
    assert not rival("How many drones were brought down on Thursday?", "13", sentence, window)


def test_a_single_name_is_the_full_name_its_report_gives_it() -> None:
    report = "Ukrainian President Volodymyr Zelenskyy condemned the strikes. More text."
    told = "Mr Grossi told the board that one day our luck will run out."
    question = "What did Zelenskyy tell the board?"
    assert rival(question, "our luck", told, told, report)
    assert not rival(question, "our luck", told, told)  # no report: a single name, no speaker
    said = "Mr Zelenskyy said one day their luck will run out."
    assert not rival(question, "their luck", said, said, report)


def test_a_title_in_a_name_the_report_gives_is_not_what_the_answer_is_asked_to_be() -> None:
    sentence = "Her son and successor King Edward VII was at her deathbed."
    report = f"Queen Victoria died in 1901. {sentence}"
    answer = "King Edward VII"
    assert not rival("Who was Queen Victoria's successor?", answer, sentence, sentence, report)
    # the report names no Governor Victoria: the question's title is a rival's
    assert rival("Who was Governor Victoria's successor?", answer, sentence, sentence, report)
