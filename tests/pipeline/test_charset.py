"""Tests for ``decode_html`` with real encoded bytes: declared by header, BOM, meta, or not."""

from __future__ import annotations

import codecs

import pytest

from pipeline.extraction import decode_html
from pipeline.extraction.charset import declared_encoding

WESTERN = "Café ‘quoted’ — 5 € déjà vu"
JAPANESE = "日本語のニュース記事です。東京都は本日、新しい計画を発表しました。"
KOREAN = "서울시는 오늘 새로운 버스 노선을 발표했습니다."
RUSSIAN = "Москва объявила о новом маршруте автобусов."
FRENCH = (
    "Le conseil municipal a voté mardi soir la prolongation du service de bus de nuit vers les "
    "quartiers nord, après une pétition réunissant plus de quatre mille signatures. Les nouvelles "
    "lignes démarreront en mars et circuleront toutes les vingt minutes jusqu'à deux heures du "
    "matin. « C'est une très bonne nouvelle pour les travailleurs de nuit », a déclaré la "
    "présidente de l'association des usagers."
)


def html(text: str, head: str = "") -> str:
    head = f"<head>{head}<title>t</title></head>"
    return f"<!DOCTYPE html><html>{head}<body><p>{text}</p></body></html>"


def test_decodes_windows_1252_declared_in_header() -> None:
    body = html(WESTERN).encode("cp1252")
    assert WESTERN in decode_html(body, "text/html; charset=windows-1252")


def test_decodes_windows_1252_declared_only_in_meta() -> None:
    body = html(WESTERN, '<meta charset="windows-1252">').encode("cp1252")
    assert WESTERN in decode_html(body)


def test_decodes_windows_1252_declared_in_http_equiv_meta() -> None:
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
    assert WESTERN in decode_html(html(WESTERN, meta).encode("cp1252"))


@pytest.mark.parametrize("label", ["ISO-8859-1", "latin1", "iso_8859-1", "US-ASCII"])
def test_reads_latin1_labels_as_windows_1252(label: str) -> None:
    # ‘ ’ — € are 0x91 0x92 0x97 0x80: control characters in real ISO-8859-1, text in browsers.
    body = html(WESTERN).encode("cp1252")
    assert WESTERN in decode_html(body, f"text/html; charset={label}")


def test_decodes_shift_jis_declared_in_meta() -> None:
    body = html(JAPANESE, '<meta http-equiv="content-type" content="text/html; charset=Shift_JIS">')
    assert JAPANESE in decode_html(body.encode("shift_jis"))


def test_decodes_cp932_extensions_under_shift_jis_label() -> None:
    # ① and ㈱ exist only in Microsoft's cp932, which browsers use for the Shift_JIS label.
    text = "①株式会社㈱"
    assert text in decode_html(html(text).encode("cp932"), "text/html; charset=shift_jis")


def test_decodes_euc_kr_declared_in_header() -> None:
    body = html(KOREAN).encode("euc-kr")
    assert KOREAN in decode_html(body, "text/html; charset=EUC-KR")


def test_header_charset_wins_over_meta() -> None:
    body = html(RUSSIAN, '<meta charset="windows-1252">').encode("koi8-r")
    assert RUSSIAN in decode_html(body, "text/html; charset=KOI8-R")


def test_bom_wins_over_declarations() -> None:
    body = codecs.BOM_UTF8 + html(WESTERN, '<meta charset="windows-1252">').encode("utf-8")
    decoded = decode_html(body, "text/html; charset=windows-1252")
    assert WESTERN in decoded
    assert not decoded.startswith("\ufeff")


def test_decodes_utf16_with_bom() -> None:
    assert KOREAN in decode_html(html(KOREAN).encode("utf-16"))


def test_reads_utf8_body_despite_legacy_default_header() -> None:
    # Servers stamp "charset=ISO-8859-1" on UTF-8 pages; valid multi-byte UTF-8 is not an accident.
    body = html(WESTERN, '<meta charset="utf-8">').encode("utf-8")
    assert WESTERN in decode_html(body, "text/html; charset=ISO-8859-1")


def test_meta_declaring_utf16_means_utf8() -> None:
    body = html(RUSSIAN, '<meta charset="utf-16">').encode("utf-8")
    assert RUSSIAN in decode_html(body)


def test_undeclared_utf8_is_detected() -> None:
    assert JAPANESE in decode_html(html(JAPANESE).encode("utf-8"))


def test_undeclared_legacy_encoding_is_detected() -> None:
    text = " ".join([RUSSIAN] * 20)
    assert text in decode_html(html(text).encode("cp1251"))


def test_undeclared_western_text_is_read_as_windows_1252() -> None:
    assert FRENCH in decode_html(html(FRENCH).encode("cp1252"))


def test_unknown_label_falls_through_to_meta() -> None:
    body = html(WESTERN, '<meta charset="windows-1252">').encode("cp1252")
    assert WESTERN in decode_html(body, "text/html; charset=x-no-such-charset")


def test_a_stray_byte_in_a_utf8_page_becomes_a_replacement_character() -> None:
    body = html(WESTERN).encode("utf-8") + b"<p>ok \xff</p>"
    decoded = decode_html(body, "text/html; charset=utf-8")
    assert WESTERN in decoded
    assert "ok \ufffd" in decoded


@pytest.mark.parametrize(("text", "encoding"), [(FRENCH, "cp1252"), (RUSSIAN * 5, "cp1251")])
def test_a_legacy_page_labelled_utf8_is_read_in_its_own_encoding(text: str, encoding: str) -> None:
    # not one non-ASCII byte of it is UTF-8: the label is wrong, not the bytes
    body = html(text, '<meta charset="utf-8">').encode(encoding)
    assert text in decode_html(body, "text/html; charset=utf-8")


@pytest.mark.parametrize(
    ("content_type", "head", "expected"),
    [
        ("text/html; charset=UTF-8", "", "utf-8"),
        ('text/html; charset="latin1"', "", "cp1252"),
        (None, '<meta charset="gb2312">', "gb18030"),
        (None, '<meta charset="euc-kr">', "cp949"),
        (None, "", None),
    ],
)
def test_maps_labels_like_browsers(
    content_type: str | None, head: str, expected: str | None
) -> None:
    assert declared_encoding(html("x", head).encode("ascii"), content_type) == expected
