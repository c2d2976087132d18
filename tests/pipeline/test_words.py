"""What counts as a word: CJK characters one each, other scripts in runs."""

from __future__ import annotations

from pipeline.words import count_words, has_words, is_cjk, words


def test_latin_words_inside_japanese_text_stop_at_the_first_kana() -> None:
    assert words("Kindle for PCが起動") == ["Kindle", "for", "PC", "が", "起", "動"]
    assert count_words("東京2024年") == 4  # 東, 京, 2024, 年: digits stop at an ideograph too


def test_ideographs_beyond_the_basic_plane_are_words_of_their_own() -> None:
    assert words("𠮷野家で") == ["𠮷", "野", "家", "で"]


def test_punctuation_and_hangul_runs() -> None:
    assert words("「なし」にして") == ["な", "し", "に", "し", "て"]
    assert words("서울 시장이") == ["서울", "시장이"]  # Korean writes spaces: runs, like Latin
    assert not is_cjk("。")
    assert is_cjk("京")
    assert is_cjk("カ")


def test_has_words_agrees_with_count_words() -> None:
    text = "政府は月曜日、new measures"
    for count in range(12):
        assert has_words(text, count) == (count_words(text) >= count)
