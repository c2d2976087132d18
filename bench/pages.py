"""Corpus pages used more than once in a benchmark, made distinct inside their article text."""

from __future__ import annotations


def marked_html(html: str, expected: str, n: int) -> str:
    """``html`` with a paragraph of its own (number ``n``) inside the article text.

    It goes after a ``</p>`` that closes one of the article's first paragraphs (found by the
    ground-truth text ``expected``), else before ``</body>``: extraction keeps it, so copies of
    one corpus page are neither duplicates nor merged.
    """
    marker = f"<p>Bench reference {n}: filed by desk {n % 17} for edition {n // 17}.</p>"
    at = _inside_article(html, expected)
    return html[:at] + marker + html[at:]


def _inside_article(html: str, expected: str) -> int:
    for line in [line for line in expected.splitlines() if len(line) > 80][:5]:
        found = html.find(" ".join(line.split()[2:6]))
        end = html.find("</p>", found) if found >= 0 else -1
        if end >= 0:
            return end + len("</p>")
    return max(html.rfind("</body>"), 0)
