"""Author names as a reader would write them (pipeline.extraction.authors)."""

from __future__ import annotations

import pytest

from pipeline.extraction.authors import clean_authors
from pipeline.versions import Content, judge


@pytest.mark.parametrize(
    ("stated", "expected"),
    [
        (["by Madeline Fry"], ["Madeline Fry"]),
        (["Analysis by Chris Cillizza", "CNN Editor-at-large"], ["Chris Cillizza"]),
        (["Ilana Muhlstein", "MS", "RDN"], ["Ilana Muhlstein"]),
        (["Jane Smith", "Senior Reporter"], ["Jane Smith"]),
        (["Jane Smith", "Washington Bureau Chief"], ["Jane Smith"]),
        (["Jane Reporter"], ["Jane Reporter"]),  # a name, not a role
        (["Admin"], []),
        (["undefined", "Jane Smith", "jane smith"], ["Jane Smith"]),
        (["Von Hans Müller"], ["Hans Müller"]),
        (["Di Maria Rossi"], ["Di Maria Rossi"]),
        (["Reuters"], ["Reuters"]),
        (["Times Staff"], ["Times Staff"]),
    ],
)
def test_authors_lose_lead_ins_degrees_roles_and_placeholders(
    stated: list[str], expected: list[str]
) -> None:
    assert clean_authors(stated) == expected


def test_a_byline_read_cleaner_by_a_newer_newsmon_is_no_edit() -> None:
    text = " ".join(f"Sentence {n} of the council budget story." for n in range(30))
    stored = Content("Budget passes", text, ("by Jane Doe", "MS"))
    assert judge(stored, Content("Budget passes", text, ("Jane Doe",))).kind == "unchanged"
    assert judge(stored, Content("Budget passes", text, ("John Roe",))).kind == "new"
