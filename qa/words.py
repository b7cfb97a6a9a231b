"""Word lists that pin a question down: role words, months, weekdays and kinds of weapon.

The answer checks (:mod:`qa.answer.verify`, :mod:`qa.answer.relations`) read them at run time;
the reader's training swaps them to build near misses (``qa.reader.training.hard``).
"""

ROLES = (
    "president mayor governor minister chancellor king queen emperor pope bishop prince "
    "princess general admiral commander captain chief director chairman ceo founder secretary "
    "ambassador senator spokesman spokeswoman prosecutor judge coach manager editor "
    "professor architect composer author leader premier sultan"
).split()
MONTHS = (
    "January February March April May June July August September October November December"
).split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
# kinds of weapon a count or a "which ...?" asks for, each never another's word (a rocket may
# be called a missile, a Shahed a drone; a drone is no missile); plural s dropped
WEAPONS = {
    word: kind
    for kind, words in {
        "missile": "missile rocket",
        "drone": "drone uav shahed",
        "bomb": "bomb",
        "shell": "shell",
        "tank": "tank",
        "aircraft": "aircraft plane warplane jet",
        "helicopter": "helicopter",
        "ship": "ship warship vessel",
        "troop": "troop soldier",
    }.items()
    for word in words.split()
}
