"""Corrects the misspellings visitors type ("wen iz da respons sentr opn") towards the words of the
training data, before the classifier reads a message.

A word the training data does not have is replaced by the most frequent training word within one
edit (two for words of six letters or more), an edit being a letter added, dropped, changed or two
neighbours swapped. Candidates are found through an index of the training words with letters
deleted (the SymSpell method), so a correction costs a few dictionary lookups, not a scan.
"""

from collections import Counter
from typing import Dict, Iterable, List, Optional, Set

# Shorter words are left alone: "sro" one letter off "pro" is no misspelling.
MIN_LENGTH = 4
LONG_WORD = 6
# A word must be seen this often in the training data to be a correction.
MIN_COUNT = 2


def _deletes(word: str, distance: int) -> Set[str]:
    found, frontier = set(), {word}
    for _ in range(distance):
        frontier = {candidate[:i] + candidate[i + 1 :] for candidate in frontier for i in range(len(candidate))}
        found |= frontier
    return found


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment)."""
    previous_row, row = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        before, previous_row, row = previous_row, row, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(previous_row[j] + 1, row[j - 1] + 1, previous_row[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], before[j - 2] + 1)
    return row[len(b)]


class Speller:
    def __init__(self, counts: Dict[str, int]) -> None:
        self.counts = {word: count for word, count in counts.items() if count >= MIN_COUNT}
        self.index: Dict[str, List[str]] = {}
        for word in self.counts:
            if len(word) >= MIN_LENGTH - 1:
                for key in _deletes(word, 2 if len(word) >= LONG_WORD - 1 else 1) | {word}:
                    self.index.setdefault(key, []).append(word)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "Speller":
        return cls(Counter(word for text in texts for word in text.split() if word.isalpha()))

    def corrected(self, word: str) -> str:
        if word in self.counts or len(word) < MIN_LENGTH or not word.isalpha():
            return word
        allowed = 2 if len(word) >= LONG_WORD else 1
        candidates = set()
        for key in _deletes(word, allowed) | {word}:
            candidates.update(self.index.get(key, ()))
        best: Optional[tuple] = None
        for candidate in candidates:
            distance = edit_distance(word, candidate)
            if distance <= allowed:
                rank = (distance, -self.counts[candidate], candidate)
                best = rank if best is None or rank < best else best
        return best[2] if best else word

    def correct(self, text: str) -> str:
        """The text with each unknown word corrected (words separated by single spaces); left as it
        is when none of its words is known: that is another language or gibberish ("Mkutano
        utafanyika lini"), not a misspelled question ("lini" is one letter off "link")."""
        words = text.split()
        if not any(word in self.counts for word in words):
            return " ".join(words)
        return " ".join(self.corrected(word) for word in words)
