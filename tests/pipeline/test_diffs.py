"""Article diffs: word-level ops, change summary, edit labels and the three output formats."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from types import ModuleType

import pytest

from pipeline import diffrender, diffs
from pipeline.diffrender import render_html, render_text, to_json
from pipeline.diffs import VersionText, diff_versions, new_side, old_side, summarise_change
from pipeline.versions import normalise_text

TITLE = "Scientists unveil first global map of Saturn's moon Titan"
# Paragraphs from a Reuters story in the shared extraction corpus (ground-truth articleBody).
TITAN = """\
WASHINGTON (Reuters) - Scientists on Monday unveiled the first global geological map of Saturn's \
moon Titan including vast plains and dunes of frozen organic material and lakes of liquid \
methane, illuminating an exotic world considered a strong candidate in the search for life \
beyond Earth.

The map was based on radar, infrared and other data collected by NASA's Cassini spacecraft, \
which studied Saturn and its moons from 2004 to 2017. Titan, with a diameter of 3,200 miles \
(5,150 km), is the Solar System's second-biggest moon behind Jupiter's Ganymede. It is larger \
than the planet Mercury.

Organic materials - carbon-based compounds critical for fostering living organisms - play a \
leading role on Titan. The goverment of no country has yet funded a lander.

"Organics are very important for the possibility of life on Titan," said planetary geologist \
Rosaly Lopes of NASA's Jet Propulsion Laboratory in California.

Rainfall occurs everywhere on Titan, but the equatorial regions are drier than the poles, said \
study co-author Anezina Solomonidou, a European Space Agency research fellow."""

STORM_TITLE = "Storm kills 12 in Texas as floods sweep Houston suburbs"
STORM = """\
HOUSTON - A powerful storm killed 12 people in southeast Texas on Monday, officials said, as \
flash floods swept through suburbs north of Houston and left thousands without power.

Harris County Judge Lina Hidalgo said rescue crews had pulled more than 300 people from flooded \
homes overnight. Schools across the county were closed. "This is not over," she told reporters \
at an emergency operations centre.

The National Weather Service warned that another 4 inches of rain could fall by Wednesday."""


def version(
    text: str, title: str = TITLE, authors: tuple[str, ...] = ("Will Dunham",)
) -> VersionText:
    return VersionText(title=title, text=text, authors=authors)


BASE = version(TITAN)
STORM_V1 = version(STORM, STORM_TITLE, ("Staff",))


def changed_ops(ops: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(op, text) for op, text in ops if op != "equal"]


def test_identical_versions_have_no_changed_ops_counts_or_labels() -> None:
    diff = diff_versions(BASE, version(TITAN))
    assert diff.text_ops == [("equal", normalise_text(TITAN))]
    assert diff.title_ops == [("equal", TITLE)]
    summary = diff.summary
    assert (summary.words_added, summary.words_removed, summary.labels) == (0, 0, ())
    assert not summary.title_changed
    assert not summary.authors_changed


def test_typographic_quote_dash_and_whitespace_differences_are_no_change() -> None:
    styled = (
        TITAN.replace("Saturn's", "Saturn\u2019s")
        .replace(" - ", " \u2014 ")
        .replace("\n\n", "\n \n\n")
        .replace("NASA's Cassini", "NASA\u2019s\u00a0 Cassini")
        .replace('"Organics', "\u201cOrganics")
        .replace('Titan,"', "Titan,\u201d  ")
    )
    curly_title = "  " + TITLE.replace("'", "\u2019") + " "
    diff = diff_versions(BASE, version(styled, title=curly_title))
    assert changed_ops(diff.text_ops) == []
    assert changed_ops(diff.title_ops) == []
    assert diff.summary.labels == ()
    assert diff.summary.words_added == diff.summary.words_removed == 0


def test_rewritten_headline_is_labelled_headline_with_title_ops() -> None:
    new_title = "Scientists unveil first full map of Saturn's moon Titan"
    diff = diff_versions(BASE, version(TITAN, title=new_title))
    assert diff.summary.labels == ("headline",)
    assert diff.summary.title_changed
    assert changed_ops(diff.title_ops) == [("delete", "global"), ("insert", "full")]
    assert new_side(diff.title_ops) == new_title
    assert changed_ops(diff.text_ops) == []


def test_corrected_death_toll_is_a_correction() -> None:
    new = version(STORM.replace("killed 12 people", "killed 15 people"), STORM_TITLE, ("Staff",))
    diff = diff_versions(STORM_V1, new)
    assert changed_ops(diff.text_ops) == [("delete", "12"), ("insert", "15")]
    assert diff.summary.labels == ("correction",)
    assert (diff.summary.words_added, diff.summary.words_removed) == (1, 1)


def test_replaced_name_is_a_correction() -> None:
    new = version(TITAN.replace("Rosaly Lopes", "Rosalie Lopes"))
    assert summarise_change(BASE, new).labels == ("correction",)


def test_name_replacing_a_common_noun_is_a_correction() -> None:
    new = version(
        STORM.replace("officials said", "Governor Greg Abbott said"), STORM_TITLE, ("Staff",)
    )
    assert summarise_change(STORM_V1, new).labels == ("correction",)


def test_reworded_sentence_start_is_not_taken_for_a_name() -> None:
    new = version(STORM.replace("Schools across", "All schools across"), STORM_TITLE, ("Staff",))
    assert summarise_change(STORM_V1, new).labels == ("edited",)  # not a correction


def test_appended_update_paragraph_is_an_update() -> None:
    update = "Update: The death toll rose to 15 on Tuesday, the county medical examiner said."
    new = version(f"{STORM}\n\n{update}", STORM_TITLE, ("Staff",))
    diff = diff_versions(STORM_V1, new)
    assert changed_ops(diff.text_ops) == [("insert", f"\n{update}")]
    assert diff.summary.labels == ("update",)


def test_appended_sentences_without_a_marker_are_an_update() -> None:
    extra = " Forecasters expect the storm system to move east toward Louisiana by Thursday."
    new = version(STORM + extra, STORM_TITLE, ("Staff",))
    assert summarise_change(STORM_V1, new).labels == ("update",)


def test_editors_note_inserted_at_the_top_is_an_update() -> None:
    note = "Editor\u2019s note: An earlier version of this story misstated the size of Titan."
    new = version(f"{note}\n\n{TITAN}")
    assert "update" in summarise_change(BASE, new).labels


def test_removed_sentence_is_a_removal() -> None:
    new = version(
        STORM.replace(" Schools across the county were closed.", ""), STORM_TITLE, ("Staff",)
    )
    diff = diff_versions(STORM_V1, new)
    [(op, text)] = changed_ops(diff.text_ops)
    assert (op, text.strip()) == ("delete", "Schools across the county were closed.")
    assert diff.summary.labels == ("removal",)
    assert (diff.summary.words_added, diff.summary.words_removed) == (0, 6)


def test_removed_paragraph_is_a_removal() -> None:
    paragraph = TITAN.split("\n\n")[2]
    new = version(TITAN.replace(paragraph + "\n\n", ""))
    assert summarise_change(BASE, new).labels == ("removal",)


def test_a_paragraph_moved_elsewhere_is_moved_not_a_removal() -> None:
    paragraphs = TITAN.split("\n\n")
    reordered = [paragraphs[0], paragraphs[2], paragraphs[1], *paragraphs[3:]]
    summary = summarise_change(BASE, version("\n\n".join(reordered)))
    assert summary.labels == ("moved",)
    assert summary.words_added == summary.words_removed > 0


def test_a_moved_and_a_removed_paragraph_are_both_labelled() -> None:
    paragraphs = TITAN.split("\n\n")
    edited = [paragraphs[0], paragraphs[2], paragraphs[1], *paragraphs[4:]]
    assert summarise_change(BASE, version("\n\n".join(edited))).labels == ("removal", "moved")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("The goverment of", "The government of"),
        ("The goverment of", "Teh goverment of"),
        ("(5,150 km), is", "(5,150 km) is"),
        ("Mercury.\n\nOrganic", "Mercury. Organic"),
    ],
    ids=["typo", "swapped-letters", "punctuation", "paragraph-merge"],
)
def test_typo_or_punctuation_fix_is_minor_only(old: str, new: str) -> None:
    assert old in TITAN
    assert summarise_change(BASE, version(TITAN.replace(old, new))).labels == ("minor",)


def test_one_word_swapped_for_a_different_word_is_not_minor() -> None:
    new = version(TITAN.replace("vast plains", "huge plains"))
    assert summarise_change(BASE, new).labels == ("edited",)


def test_a_change_no_rule_names_is_labelled_edited_never_left_without_label() -> None:
    inserted = version(STORM.replace("killed 12 people", "killed 12 people and injured 40"),
                       STORM_TITLE, ("Staff",))  # fmt: skip
    assert summarise_change(STORM_V1, inserted).labels == ("edited",)
    retitled = version(TITAN, title="Titan mapped")
    assert summarise_change(BASE, retitled).labels == ("headline",)  # the text is the same


@pytest.mark.parametrize(
    "note",
    ["Aktualisierung: Die Polizei hat inzwischen zwei Verdächtige festgenommen.",
     "Mise à jour : la préfecture a confirmé le bilan dans la soirée.",
     "追記：警察は二人の容疑者を逮捕した。"],
)  # fmt: skip
def test_an_update_note_in_another_language_is_an_update(note: str) -> None:
    new = version(note + "\n\n" + TITAN)
    assert "update" in summarise_change(BASE, new).labels


def test_changed_byline_is_labelled_authors() -> None:
    summary = summarise_change(BASE, version(TITAN, authors=("Will Dunham", "Joey Roulette")))
    assert summary.authors_changed
    assert summary.labels == ("authors",)


def test_a_changed_byline_shows_old_and_new_names_in_every_format() -> None:
    new = version(TITAN, authors=("Joey Roulette",))
    diff = diff_versions(BASE, new)
    text = render_text(diff, color=False)
    assert text.splitlines()[:2] == [
        f"Headline: {TITLE} (unchanged)",
        "Byline: - Will Dunham / + Joey Roulette",
    ]
    assert "Byline: - Will Dunham / + Joey Roulette" in render_html(diff)
    data = to_json(diff, 1, 2)
    assert (data["authors_from"], data["authors_to"]) == (["Will Dunham"], ["Joey Roulette"])
    assert "Byline" not in render_text(diff_versions(BASE, version(TITAN + " More.")), color=False)


def test_several_labels_come_in_fixed_order() -> None:
    text = TITAN.replace("2004 to 2017", "2004 to 2018") + "\n\nUPDATE: Adds comment from NASA."
    new = version(text, title="Saturn's moon Titan mapped in full")
    assert summarise_change(BASE, new).labels == ("headline", "correction", "update")


def test_ops_rebuild_both_versions_and_keep_paragraph_breaks() -> None:
    text = TITAN.replace("2017", "2018").replace("Rosaly", "Rosalie") + "\n\nUpdate: Adds detail."
    diff = diff_versions(BASE, version(text))
    assert old_side(diff.text_ops) == normalise_text(TITAN)
    assert new_side(diff.text_ops) == normalise_text(text)
    equal_text = "".join(t for op, t in diff.text_ops if op == "equal")
    assert equal_text.count("\n") == TITAN.count("\n\n")


def test_ops_rebuild_both_versions_with_thousands_of_distinct_words() -> None:
    old_text = " ".join(f"word{i}" for i in range(8000))  # past the whitespace code points
    new_text = old_text.replace("word7001 ", "word7001 inserted ").replace(" word42 ", " ")
    ops = diffs.word_diff(old_text, new_text)
    assert (old_side(ops), new_side(ops)) == (old_text, new_text)
    assert [(op, text.strip()) for op, text in changed_ops(ops)] == [
        ("delete", "word42"),
        ("insert", "inserted"),
    ]


def test_words_are_counted_inside_changed_ops_only() -> None:
    text = TITAN.replace("vast plains", "vast dusty plains")
    text = text.replace(" It is larger than the planet Mercury.", "")
    summary = summarise_change(BASE, version(text))
    assert (summary.words_added, summary.words_removed) == (1, 7)


def test_summarise_change_agrees_with_diff_versions() -> None:
    new = version(TITAN.replace("2017", "2018") + " More to come.", title="Titan mapped")
    assert summarise_change(BASE, new) == diff_versions(BASE, new).summary


def test_render_text_marks_changed_words_and_shows_headline_and_summary() -> None:
    new = version(STORM.replace("killed 12", "killed 15"), "Storm kills 15 in Texas", ("Staff",))
    out = render_text(diff_versions(STORM_V1, new), color=False)
    lines = out.splitlines()
    assert lines[0].startswith("Headline: - Storm kills [-12-]")
    assert " / + Storm kills {+15+}" in lines[0]
    assert "killed [-12-]{+15+} people" in out
    assert lines[-1] == "+1 words, -1 words; labels: headline, correction"
    assert "\x1b[" not in out


def test_render_text_in_colour_uses_ansi_instead_of_markers() -> None:
    new = version(STORM.replace("killed 12", "killed 15"), STORM_TITLE, ("Staff",))
    out = render_text(diff_versions(STORM_V1, new), color=True)
    assert "\x1b[9;31m12\x1b[0m\x1b[32m15\x1b[0m" in out
    assert "[-" not in out
    assert out.startswith("Headline: Storm kills 12 in Texas")


def test_render_text_elides_long_unchanged_stretches() -> None:
    new = version(TITAN.replace("Anezina Solomonidou", "Anezina Solomonidou-Smith"))
    out = render_text(diff_versions(BASE, new), color=False, context_words=4)
    body = out.split("\n\n")[1]
    assert body == "… co-author Anezina Solomonidou{+-Smith+}, a European Space Agency …"


# Chinese and Japanese write no spaces: each ideograph and kana is a word (pipeline.words), so
# an edit is that character, not the whole clause around it. From the Japanese golden page.
KINDLE_TITLE = "Kindle for PCの起動ホットキー"
KINDLE = """\
そんな用途を考慮してか、Kindleや楽天koboにはデスクトップアプリが用意されています。\
今回はそのKindleデスクトップアプリKindle for PCに関する話。

ショートカットの欄を空欄にしただけでは、Kindle for PCがショートカットで起動しなくなるだけです。\
再びKeePassが起動するようになるには、一度PCを再起動する必要があります。"""
KINDLE_V1 = version(KINDLE, KINDLE_TITLE, ())


def test_one_changed_japanese_character_is_one_word_changed() -> None:
    new = version(KINDLE.replace("一度PCを", "二度PCを"), KINDLE_TITLE, ())
    diff = diff_versions(KINDLE_V1, new)
    assert changed_ops(diff.text_ops) == [("delete", "一"), ("insert", "二")]
    assert (diff.summary.words_added, diff.summary.words_removed) == (1, 1)


def test_removed_japanese_sentence_is_a_removal() -> None:
    sentence = "今回はそのKindleデスクトップアプリKindle for PCに関する話。"
    diff = diff_versions(KINDLE_V1, version(KINDLE.replace(sentence, ""), KINDLE_TITLE, ()))
    [(op, text)] = changed_ops(diff.text_ops)
    assert (op, text) == ("delete", sentence)
    assert diff.summary.labels == ("removal",)
    # 今回はその (5), Kindle, デスクトップアプリ (9), Kindle, for, PC, に関する話 (5)
    assert diff.summary.words_removed == 23


def test_render_text_elides_long_unchanged_japanese_stretches() -> None:
    new = version(KINDLE.replace("一度PCを", "二度PCを"), KINDLE_TITLE, ())
    out = render_text(diff_versions(KINDLE_V1, new), color=False, context_words=4)
    # four words (characters) of context each side, punctuation kept with its word
    assert out.split("\n\n")[1] == "… なるには、[-一-]{+二+}度PCを再 …"


def test_render_html_escapes_everything() -> None:
    new = version(TITAN + "\n\n<script>alert('x')</script> & more", title="<b>Titan</b>")
    out = render_html(diff_versions(BASE, new))
    assert "<script>" not in out
    assert "<b>" not in out
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in out
    assert "<ins>" in out
    assert "<del>" in out
    assert out.startswith('<div class="newsmon-diff">')


def test_render_html_puts_each_paragraph_in_its_own_element() -> None:
    new = version(TITAN.replace("2017", "2018"))
    out = render_html(diff_versions(BASE, new))
    assert out.count("<p>") == TITAN.count("\n\n") + 1
    assert "<del>2017</del><ins>2018</ins>" in out


def test_to_json_has_the_documented_shape() -> None:
    new = version(TITAN.replace("2017", "2018"), title="Titan mapped")
    data = to_json(diff_versions(BASE, new), 1, 2)
    assert set(data) == {
        "from", "to", "title_changed", "ops", "title_ops", "words_added", "words_removed", "labels",
        "authors_from", "authors_to",
    }  # fmt: skip
    assert data["authors_from"] == data["authors_to"] == ["Will Dunham"]
    assert (data["from"], data["to"], data["title_changed"]) == (1, 2, True)
    assert ["delete", "2017"] in data["ops"]
    assert ["insert", "2018"] in data["ops"]
    assert all(op in {"equal", "insert", "delete"} for op, _ in data["ops"] + data["title_ops"])
    assert data["labels"] == ["headline", "correction"]
    assert json.loads(json.dumps(data)) == data


def test_diffing_two_2000_word_articles_finds_every_edit() -> None:
    paragraphs = [*TITAN.split("\n\n"), *STORM.split("\n\n")]
    old_text = "\n\n".join(f"{i}. {paragraphs[i % len(paragraphs)]}" for i in range(70))
    assert len(old_text.split()) >= 2000
    new_text = old_text.replace("killed 12", "killed 15").replace("2017", "2018")
    new_text = new_text.replace(paragraphs[2], "") + "\n\nUpdate: The county revised its figures."
    diff = diff_versions(version(old_text), version(new_text, title="Titan and Texas"))
    assert new_side(diff.text_ops) == normalise_text(new_text)
    assert set(diff.summary.labels) >= {"headline", "correction", "update", "removal"}


@pytest.mark.parametrize("module", [diffs, diffrender], ids=lambda m: m.__name__)
def test_diff_modules_stay_free_of_scrapy_and_sqlalchemy(module: ModuleType) -> None:
    tree = ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8"))
    roots = {
        (alias.name if isinstance(node, ast.Import) else node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not roots & {"scrapy", "sqlalchemy", "storage", "spiders", "twisted"}
