"""Regenerate `scoring/text_rules.py` from spaCy's English tokenizer and datatrove's punctuation sets
(a dev tool, not part of glean: needs spaCy and datatrove, the dev extras).

    .venv/bin/python tools/make_text_rules.py

datatrove splits English words with `spacy.blank("en")`; glean's quality signals use the same rules (prefix,
suffix, infix and URL patterns, special cases, sentence punctuation) without depending on spaCy at run time.
`tests/scoring/test_tokenize.py` checks the generated module still matches the installed spaCy.
"""

from __future__ import annotations

from pathlib import Path

HEADER = '''"""Text rules generated from spaCy {version} (English tokenizer; MIT licence, (c) ExplosionAI GmbH) and
datatrove {dt_version} (punctuation sets; Apache-2.0, (c) Hugging Face): do not edit.

Regenerate with `python tools/make_text_rules.py`. Used by `scoring.tokenize` and `scoring.quality`.
"""

# ruff: noqa: E501
'''


def current_rules() -> dict[str, object]:
    """The rules of the installed spaCy, in the shape the generated module holds."""
    from importlib.metadata import version

    import spacy
    from datatrove.utils.text import PUNCTUATION_SET, TERMINAL_PUNCTUATION
    from spacy.symbols import ORTH

    nlp = spacy.blank("en")
    tok = nlp.tokenizer
    sentencizer = nlp.add_pipe("sentencizer")
    return {
        "SPACY_VERSION": spacy.__version__,
        "DATATROVE_VERSION": version("datatrove"),
        "PREFIX": tok.prefix_search.__self__.pattern,
        "SUFFIX": tok.suffix_search.__self__.pattern,
        "INFIX": tok.infix_finditer.__self__.pattern,
        "URL": tok.url_match.__self__.pattern,
        "SPECIAL_CASES": {k: tuple(d[ORTH] for d in v) for k, v in sorted(tok.rules.items())},
        "SENTENCE_PUNCT": tuple(sorted(sentencizer.punct_chars)),
        "PUNCTUATION": "".join(sorted(PUNCTUATION_SET)),
        "TERMINAL_PUNCTUATION": tuple(sorted(TERMINAL_PUNCTUATION)),
        **affix_tables(tok.prefix_search.__self__.pattern, tok.suffix_search.__self__.pattern),
    }


# Characters whose prefix/suffix behaviour is worth a table: printable ASCII and common typographic marks.
_TABLE_CHARS = [chr(i) for i in range(33, 127)] + list("“”‘’«»—–…•·¡¿§°€£¥©®™")
# Every affix rule looks at most 3 characters around the mark ("US$", "°C.", lookbehinds of 2): all contexts of
# up to 2 characters from this alphabet (plus letters of other scripts and a few long runs) cover them.
_ALPHABET = _TABLE_CHARS + list("éÉжЖ一²")
_CONTEXTS = ["", *_ALPHABET, *(a + b for a in _ALPHABET for b in _ALPHABET), "US", "...", "……", "1US", "°C"]


def affix_tables(prefix: str, suffix: str) -> dict[str, dict[str, int]]:
    """For each table character, the length of the prefix (suffix) it starts (ends) whatever surrounds it:
    1 when it is always a one-character affix, 0 when it never starts (ends) one. Characters whose affix
    depends on their neighbours ("." after a capital, "US$", "10km", "'s") are left out: the regex decides."""
    import re

    prefix_match, suffix_search = re.compile(prefix).match, re.compile(suffix).search
    prefixes, suffixes = {}, {}
    for ch in _TABLE_CHARS:
        starts = {(m.end() if (m := prefix_match(ch + rest)) else 0) for rest in _CONTEXTS}
        ends = {(len(before) + 1 - m.start() if (m := suffix_search(before + ch)) else 0) for before in _CONTEXTS}
        if len(starts) == 1:
            prefixes[ch] = starts.pop()
        if len(ends) == 1:
            suffixes[ch] = ends.pop()
    return {"PREFIX_CHARS": prefixes, "SUFFIX_CHARS": suffixes}


def render(rules: dict[str, object]) -> str:
    """The generated module's source."""
    lines = [HEADER.format(version=rules["SPACY_VERSION"], dt_version=rules["DATATROVE_VERSION"])]
    for name, value in rules.items():
        lines.append(f"{name} = {value!r}\n")
    return "\n".join(lines)


def main() -> None:
    """Write scoring/text_rules.py of the checkout this tool lives in."""
    target = Path(__file__).resolve().parents[1] / "scoring" / "text_rules.py"
    target.write_text(render(current_rules()), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
