#!/usr/bin/env python3
"""Writes search/data/lexicon.json: the words the demo catalogue uses, per language.

The search's decompounder splits a compound only into parts that are known words, and this
list (with the synonym list's terms) is what it knows: the vocabulary of public procurement
criteria in each language, as the demo catalogue writes it. Run it after changing the demo
catalogue: `scripts/lexicon.py`. Words shorter than three letters, numbers and the synonym
list's stop words are left out.
"""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "api/data/demo-catalogue.json"
SYNONYMS = ROOT / "search/data/synonyms.json"
OUT = ROOT / "search/data/lexicon.json"
FIELDS = ("title", "purpose", "text", "scoringRule", "verification", "followUp")
WORD = re.compile(r"[^\W\d_]{3,}")


def main() -> None:
    catalogue = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    stop = json.loads(SYNONYMS.read_text(encoding="utf-8")).get("stopWords", {})
    words: dict[str, set[str]] = {}
    for clause in catalogue["clauses"]:
        language = clause["language"].lower()
        language = "nb" if language == "nn" else language
        found = words.setdefault(language, set())
        for field in FIELDS:
            for word in WORD.findall((clause.get(field) or "").lower()):
                if word not in stop.get(language, ()):
                    found.add(word)
    OUT.write_text(
        "{\n"
        + ",\n".join(
            f'  "{language}": {json.dumps(sorted(found), ensure_ascii=False)}'
            for language, found in sorted(words.items())
        )
        + "\n}\n",
        encoding="utf-8",
    )
    print({language: len(found) for language, found in sorted(words.items())})


if __name__ == "__main__":
    main()
