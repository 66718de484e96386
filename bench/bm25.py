"""Okapi BM25 over short passages: the "plain search box" a clinic site could offer instead of the bot."""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import List, Sequence, Tuple

# A search box ignores function words; without this every question would match every passage on "what".
STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been before being below
    between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
    few for from further get got had hadn't has hasn't have haven't having he her here hers herself him himself
    his how i i'm i've if in into is isn't it it's its itself just let me more most my myself no nor not now of
    off on once only or other ought our ours ourselves out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under until up very was wasn't
    we were weren't what when where which while who whom why will with won't would you your yours yourself
    yourselves please thanks thank hi hello u im ive dont cant whats tell know like also""".split()
)
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(text: str) -> List[str]:
    """Lower-cased word tokens without stopwords, with a light plural strip (hips -> hip)."""
    tokens = []
    for token in _TOKEN.findall(text.lower().replace("’", "'")):
        if token in STOPWORDS or len(token) < 2:
            continue
        if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
            token = token[:-1]
        tokens.append(token)
    return tokens


@dataclass
class BM25:
    """Okapi BM25 (k1=1.5, b=0.75) with the non-negative idf of Lucene."""

    passages: Sequence[str]
    k1: float = 1.5
    b: float = 0.75

    def __post_init__(self) -> None:
        self._docs = [Counter(tokenize(p)) for p in self.passages]
        self._lengths = [sum(d.values()) for d in self._docs]
        self._avg = (sum(self._lengths) / len(self._lengths)) if self._lengths else 0.0
        df: Counter = Counter()
        for doc in self._docs:
            df.update(doc.keys())
        n = len(self._docs)
        self._idf = {term: math.log(1 + (n - f + 0.5) / (f + 0.5)) for term, f in df.items()}

    def scores(self, query: str) -> List[float]:
        terms = tokenize(query)
        out = []
        for doc, length in zip(self._docs, self._lengths):
            score = 0.0
            for term in terms:
                tf = doc.get(term)
                if tf:
                    norm = tf + self.k1 * (1 - self.b + self.b * length / (self._avg or 1))
                    score += self._idf[term] * tf * (self.k1 + 1) / norm
            out.append(score)
        return out

    def search(self, query: str, k: int = 3) -> List[Tuple[int, float]]:
        """Indices and scores of the top ``k`` passages with a positive score, best first (empty: no hit)."""
        ranked = sorted(((i, s) for i, s in enumerate(self.scores(query)) if s > 0), key=lambda x: (-x[1], x[0]))
        return ranked[:k]
