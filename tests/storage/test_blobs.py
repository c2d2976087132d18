"""Version content compression: deltas against a keyframe, standalone when that is smaller."""

from __future__ import annotations

import os

from storage.blobs import DELTA, PLAIN, pack, unpack_raw, unpack_text

TEXT = "\n".join(
    f"Paragraph {n}: the council met to discuss the budget and roads." for n in range(200)
)
RAW = (
    "<html><body>" + "".join(f"<p>{line}</p>" for line in TEXT.splitlines()) + "</body></html>"
).encode()


def test_first_version_is_a_standalone_keyframe() -> None:
    packed = pack(TEXT, RAW, None)
    assert packed.codec == PLAIN
    assert unpack_text(packed.text, packed.codec) == TEXT
    assert unpack_raw(packed.raw, packed.codec) == RAW


def test_small_edit_is_stored_as_a_small_delta() -> None:
    first = pack(TEXT, RAW, None)
    edited_text = TEXT.replace("Paragraph 100", "Paragraph one hundred")
    edited_raw = RAW.replace(b"Paragraph 100", b"Paragraph one hundred")
    delta = pack(edited_text, edited_raw, (TEXT, RAW))
    assert delta.codec == DELTA
    assert delta.size < 0.25 * first.size
    assert unpack_text(delta.text, delta.codec, TEXT) == edited_text
    assert unpack_raw(delta.raw, delta.codec, RAW) == edited_raw


def test_unrelated_content_becomes_a_new_keyframe() -> None:
    noise = os.urandom(20000).hex()
    packed = pack(noise, noise.encode(), (TEXT, RAW))
    assert packed.codec == PLAIN
