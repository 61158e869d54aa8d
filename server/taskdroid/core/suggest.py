""" "Did you mean …?" suggestions shared by all checks."""

from __future__ import annotations

from collections.abc import Iterable


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Optimal-string-alignment distance (Damerau–Levenshtein with adjacent swaps), capped.

    Returns ``limit + 1`` as soon as the distance is known to exceed ``limit``.
    """
    if a == b:
        return 0
    la, lb = len(a), len(b)
    if abs(la - lb) > limit:
        return limit + 1
    prev2: list[int] | None = None
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        best = cur[0]
        ca = a[i - 1]
        for j in range(1, lb + 1):
            cost = 0 if ca == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            best = min(best, v)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[lb]


def closest(
    word: str,
    candidates: Iterable[str],
    *,
    max_distance: int | None = None,
    substring: bool = True,
) -> str | None:
    """The candidate closest to ``word`` (case-insensitive), or None when nothing is close.

    The allowed distance grows with the word: 1 up to 4 characters, 2 up to 8, else 3. A candidate
    that contains the word or is contained in it (``backend`` → ``backend-engineer``) also counts,
    when the shorter one has at least 4 characters (unless ``substring`` is False).
    """
    w = word.lower()
    if not w:
        return None
    limit = (
        max_distance
        if max_distance is not None
        else (1 if len(w) <= 4 else 2 if len(w) <= 8 else 3)
    )
    best: tuple[int, int, str] | None = None
    for cand in candidates:
        c = cand.lower()
        if c == w:
            return cand
        d = edit_distance(w, c, limit)
        if d > limit:
            short, long_ = (w, c) if len(w) <= len(c) else (c, w)
            if substring and len(short) >= 4 and short in long_:
                d = limit  # weakest acceptable match
            else:
                continue
        key = (d, abs(len(c) - len(w)), cand)
        if best is None or key < best:
            best = key
    return best[2] if best else None
