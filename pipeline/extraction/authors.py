"""Author names as a reader would write them, from what meta data and bylines say.

Publishers' meta data and JSON-LD say "by Madeline Fry", list a job title or a degree as if it
were a person ("CNN Editor-at-large", "MS", "RDN") or leave a CMS placeholder ("Admin",
"undefined"). Kept as they come, they make wrong bylines and, when a newer newsmon reads them
differently, a byline change that never happened (see ``pipeline.versions``).
"""

from __future__ import annotations

import re

_LEAD = re.compile(
    r"^\s*(?:(?:analysis|opinion|commentary|story|text|written|words|reporting|photos?)\s+)?"
    r"(?:by|von|par|por|door)\b[:\s]+",  # not "di": Di Maria is a name
    re.IGNORECASE,
)
# A degree or honorific on its own: what splitting "Jane Doe, MS, RDN" at commas leaves
_CREDENTIAL = re.compile(
    r"^(?:[A-Z]{2,4}|Ph\.?D\.?|M\.?D\.?|M\.?Sc?\.?|B\.?Sc?\.?|MBA|Jr\.?|Sr\.?|Esq\.?)$"
)
# A role, not a person: a role word after a qualifier ("Senior Reporter", "Chief Political
# Correspondent"), a hyphenated title ("Editor-at-large") or a bureau ("Washington Bureau
# Chief"). "Jane Reporter" keeps her name.
_ROLE_WORD = r"(?:editor|reporter|correspondent|writer|contributor|columnist|producer)s?"
_ROLE = re.compile(
    r"\b(?:senior|chief|deputy|managing|associate|contributing|staff|special|executive"
    r"|political|national|foreign|investigative|science|sports|business|opinion|health"
    r"|technology|economics|legal|white house|congressional)\s+(?:\w+\s+)?" + _ROLE_WORD + r"\b"
    r"|\b" + _ROLE_WORD + r"-(?:at-large|in-chief)\b|\bbureau chief\b",
    re.IGNORECASE,
)
_PLACEHOLDERS = frozenset(
    {"admin", "administrator", "undefined", "null", "none", "name", "author", "unknown", "user"}
)


def clean_authors(names: list[str]) -> list[str]:
    """``names`` without "by" lead-ins, degrees, job titles, placeholders or repeats."""
    cleaned: list[str] = []
    for name in names:
        name = " ".join(_LEAD.sub("", name).split()).strip(" ,;:")
        if not name or name.casefold() in _PLACEHOLDERS or _CREDENTIAL.match(name):
            continue
        if _ROLE.search(name):
            continue
        if name.casefold() not in {seen.casefold() for seen in cleaned}:
            cleaned.append(name)
    return cleaned
