from __future__ import annotations

from decimal import Decimal

import pytest

from services.budgeting import pabulib
from services.budgeting.pabulib import PabulibError
from tests.unit.budgeting.pbdata import DATA_DIR, PB_FILES, load

GOOD = """META
key;value
description;"Test; with semicolon"
budget;1000,50
vote_type;cumulative
num_projects;3
num_votes;2
PROJECTS
project_id;cost;name;category
p1;100,25;"Park; benches";green
p2;500;Bike lane;mobility
p3;400.0;Library;culture
VOTES
voter_id;vote;points;age;sex;district
v1;p1,p3;3,2;34;F;North
v2;p2;5;;M;South
"""


def test_parses_sections_quotes_and_decimal_commas():
    e = pabulib.parse(GOOD)
    assert e.meta["description"] == "Test; with semicolon"
    assert e.budget == Decimal("1000.5")
    assert e.vote_type == "cumulative"
    assert [p.project_id for p in e.projects] == ["p1", "p2", "p3"]
    assert e.projects[0].cost == Decimal("100.25") and e.projects[0].name == "Park; benches"
    assert e.projects[2].cost == 400 and isinstance(e.projects[2].cost, int)
    assert e.projects[0].extra == {"category": "green"}
    v1, v2 = e.votes
    assert v1.voter_id == "v1" and v1.items == ["p1", "p3"] and v1.points == [3, 2]
    assert v1.extra == {"age": "34", "sex": "F", "district": "North"}
    assert v2.extra["age"] == ""
    assert e.ballots() == [{"p1": 3, "p3": 2}, {"p2": 5}]
    assert e.costs() == {"p1": Decimal("100.25"), "p2": 500, "p3": 400}


def test_bom_crlf_and_blank_lines_are_accepted():
    text = "\ufeff" + GOOD.replace("\n", "\r\n").replace("PROJECTS", "\r\nPROJECTS")
    assert pabulib.parse(text) == pabulib.parse(GOOD)


def test_round_trip_of_synthetic_file():
    e = pabulib.parse(GOOD)
    assert pabulib.parse(pabulib.dump(e)) == e


def _replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


@pytest.mark.parametrize(
    "text, fragment, line",
    [
        (_replace("p3;400.0;Library;culture", "p3;0;Library;culture"), "must be positive", 12),
        (_replace("p3;400.0;Library;culture", "p3;-5;Library;culture"), "must be positive", 12),
        (_replace("p3;400.0;Library;culture", "p3;abc;Library;culture"), "not a number", 12),
        (_replace("v2;p2;5;;M;South", "v2;p9;5;;M;South"), "unknown project 'p9'", 16),
        (_replace("v2;p2;5;;M;South", "v2;p2,p2;5,1;;M;South"), "twice", 16),
        (_replace("v2;p2;5;;M;South", "v2;p2;5;;M"), "5 fields, header has 6", 16),
        (_replace("v2;p2;5;;M;South", "v2;p2;-1;;M;South"), "negative", 16),
        (_replace("v2;p2;5;;M;South", "v2;p2,p1;5;;M;South"), "1 points values for 2 projects", 16),
        (_replace("v2;p2;5;;M;South", "v1;p2;5;;M;South"), "duplicate voter_id", 16),
        (_replace("p2;500;Bike lane;mobility", "p1;500;Bike lane;mobility"), "duplicate project_id", 11),
        (_replace("vote_type;cumulative", "vote_type;quadratic"), "unsupported vote_type", 8),
        (_replace("budget;1000,50\n", ""), "lacks the 'budget'", 7),
        (_replace("project_id;cost;name;category", "project_id;name;category"), "lacks the 'cost' column", 9),
        (_replace('p1;100,25;"Park; benches";green', 'p1;100,25;"Park; benches;green'), "unterminated quote", None),
    ],
)
def test_malformed_files_raise_with_line(text, fragment, line):
    with pytest.raises(PabulibError) as info:
        pabulib.parse(text)
    assert fragment in str(info.value)
    if line is not None:
        assert info.value.line == line


def test_truncated_and_missing_sections():
    truncated = GOOD[: GOOD.index("v2;")]
    with pytest.raises(PabulibError, match="announces 2 votes but the file has 1"):
        pabulib.parse(truncated)
    with pytest.raises(PabulibError, match=r"missing section\(s\): VOTES"):
        pabulib.parse(GOOD[: GOOD.index("VOTES")])
    with pytest.raises(PabulibError, match="PROJECTS found where META"):
        pabulib.parse(GOOD[GOOD.index("PROJECTS"):])
    with pytest.raises(PabulibError, match="VOTES found where PROJECTS"):
        pabulib.parse(GOOD.replace("PROJECTS\nproject_id;cost;name;category\np1;100,25;\"Park; benches\";green\n"
                                   "p2;500;Bike lane;mobility\np3;400.0;Library;culture\n", ""))
    with pytest.raises(PabulibError, match="no column-name line"):
        pabulib.parse("META\nMETA\n")
    with pytest.raises(PabulibError, match="missing section"):
        pabulib.parse("")


def test_error_message_and_line_attribute():
    err = PabulibError("bad thing", line=7)
    assert err.message == "bad thing" and err.line == 7 and str(err) == "line 7: bad thing"


def test_dump_quotes_fields_that_need_it():
    e = pabulib.parse(GOOD)
    text = pabulib.dump(e)
    assert '"Park; benches"' in text
    assert "p1;100.25;" in text


@pytest.mark.parametrize("name", PB_FILES)
def test_shared_files_parse_and_round_trip(name):
    e = load(name)
    assert len(e.projects) == int(e.meta["num_projects"])
    assert len(e.votes) == int(e.meta["num_votes"])
    assert all(p.cost > 0 for p in e.projects)
    assert pabulib.parse(pabulib.dump(e)) == e


def test_shared_files_keep_demographics():
    e = load("Poland_Wroclaw_2017.pb")
    assert {"age", "sex", "voting_method", "district"} <= set(e.votes[0].extra)
    assert (DATA_DIR / "Poland_Wroclaw_2017.pb").exists()


@pytest.mark.parametrize(
    "text, fragment",
    [
        (_replace("budget;1000,50", "budget;1e200000"), "META budget is out of range"),
        (_replace("budget;1000,50", "budget;1e16"), "META budget is out of range"),
        (_replace("budget;1000,50", "budget;" + "9" * 70), "META budget is out of range"),
        (_replace("p3;400.0;Library;culture", "p3;1e300;Library;culture"), "cost of project 'p3' is out of range"),
        (_replace("p3;400.0;Library;culture", "p3;1000000000000001;Library;culture"), "out of range"),
        (_replace("p3;400.0;Library;culture", "p3;1e-200000;Library;culture"), "more than 15 decimals"),
        (_replace("v2;p2;5;;M;South", "v2;p2;9e99999;;M;South"), "points of voter 'v2' for project 'p2' is out of range"),
    ],
)
def test_numbers_beyond_the_bounds_of_the_api_are_refused_before_conversion(text, fragment):
    with pytest.raises(PabulibError, match=fragment):
        pabulib.parse(text)


def test_numbers_within_the_bounds():
    assert pabulib.parse_number("1e15") == 10 ** 15 and pabulib.parse_number("0,000000000000001") == Decimal("1e-15")
    assert pabulib.parse_number("1.50000000000000000000") == Decimal("1.5")  # trailing zeros are no precision


def test_parsing_pauses_every_few_rows_for_other_work():
    votes = "".join(f"v{i};p1\n" for i in range(1000))
    text = f"META\nkey;value\nbudget;100\nvote_type;approval\nPROJECTS\nproject_id;cost\np1;10\nVOTES\nvoter_id;vote\n{votes}"
    pauses = []
    assert len(pabulib.parse(text, pause=lambda: pauses.append(1)).votes) == 1000
    assert len(pauses) == (1000 + 9) // pabulib.ROWS_PER_PAUSE
