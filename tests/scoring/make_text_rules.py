"""Regenerate `scoring/text_rules.py` from spaCy's English tokenizer and datatrove's punctuation sets
(dev-only: needs spaCy and datatrove).

    .venv/bin/python -m tests.scoring.make_text_rules

datatrove splits English words with `spacy.blank("en")`; glean's quality signals use the same rules (prefix,
suffix, infix and URL patterns, special cases, sentence punctuation) without depending on spaCy at run time.
`tests/scoring/test_tokenize.py` checks the generated module still matches the installed spaCy.
"""

from __future__ import annotations

from pathlib import Path

HEADER = '''"""Text rules generated from spaCy {version} (English tokenizer; MIT licence, (c) ExplosionAI GmbH) and
datatrove {dt_version} (punctuation sets; Apache-2.0, (c) Hugging Face): do not edit.

Regenerate with `python -m tests.scoring.make_text_rules`. Used by `scoring.tokenize` and `scoring.quality`.
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
    }


def render(rules: dict[str, object]) -> str:
    lines = [HEADER.format(version=rules["SPACY_VERSION"], dt_version=rules["DATATROVE_VERSION"])]
    for name, value in rules.items():
        lines.append(f"{name} = {value!r}\n")
    return "\n".join(lines)


def main() -> None:
    target = Path(__file__).resolve().parents[2] / "scoring" / "text_rules.py"
    target.write_text(render(current_rules()), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
