# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled inner loops of the quality signals and the novelty shingles (Cython; built by `pip install`).

Each function has a plain definition it must equal, checked in the tests on random and real input:
- `ngram_repeats`: datatrove's `find_top_duplicate` / `find_all_duplicate` over token n-grams
  (tests/scoring/test_quality.py),
- `TokenCounter.counts`: the word, character and alphabetic-token counts `scoring.tokenize` packs per chunk
  (tests/scoring/test_tokenize.py),
- `shingles`: `" ".join(words[i:i + n])` for every start `i` (tests/scoring/test_novelty.py),
- `translate`: `str.translate` with a table of code points (tests/scoring/test_identity.py).
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.unicode cimport Py_UNICODE_ISALNUM, PyUnicode_DATA, PyUnicode_KIND, PyUnicode_READ

cdef extern from "Python.h":
    int PyUnicode_4BYTE_KIND
    object PyUnicode_FromKindAndData(int kind, const void *buffer, Py_ssize_t size)
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.string cimport memcmp, memset

cdef inline uint64_t _mix(uint64_t h) noexcept nogil:
    # splitmix64 finaliser: spreads the bits of a combined n-gram key over the whole word
    h ^= h >> 30
    h *= 0xBF58476D1CE4E5B9ULL
    h ^= h >> 27
    h *= 0x94D049BB133111EBULL
    h ^= h >> 31
    return h


cdef struct _Work:
    int32_t *ids        # token ids (equal tokens, equal ids)
    int64_t *lens       # token lengths in characters
    uint64_t *keys      # per position: running key of the n-gram starting there
    int32_t *group      # per position: table slot of its n-gram
    int32_t *slot_pos   # per slot: first position of the n-gram held there (-1 = empty)
    uint64_t *slot_key
    int32_t *slot_count
    char *seen          # per slot: met by datatrove's skip-scan
    int32_t mask


cdef bint _group(_Work *w, Py_ssize_t grams, int n) noexcept nogil:
    """Slot (n-gram identity) of every position < grams; counts per slot; first position per slot. Returns
    whether any n-gram occurs twice."""
    cdef Py_ssize_t i
    cdef int32_t s
    cdef uint64_t h
    cdef bint repeats = False
    memset(w.slot_pos, 0xFF, (w.mask + 1) * sizeof(int32_t))
    for i in range(grams):
        h = _mix(w.keys[i])
        s = <int32_t>(h & w.mask)
        while True:
            if w.slot_pos[s] < 0:
                w.slot_pos[s] = <int32_t>i
                w.slot_key[s] = h
                w.slot_count[s] = 1
                w.seen[s] = 0
                break
            if w.slot_key[s] == h and memcmp(&w.ids[w.slot_pos[s]], &w.ids[i], n * sizeof(int32_t)) == 0:
                w.slot_count[s] += 1
                repeats = True
                break
            s = (s + 1) & w.mask
        w.group[i] = s
    return repeats


cdef int64_t _chars(_Work *w, Py_ssize_t start, int n) noexcept nogil:
    cdef int64_t total = 0
    cdef Py_ssize_t j
    for j in range(start, start + n):
        total += w.lens[j]
    return total


cdef int64_t _top(_Work *w, Py_ssize_t grams, int n) noexcept nogil:
    """(characters of the most common n-gram + the n-1 spaces joining it) * its count; the earliest wins a tie."""
    cdef Py_ssize_t i, best_pos = 0
    cdef int32_t best = 0, c
    for i in range(grams):
        c = w.slot_count[w.group[i]]
        if c > best:
            best, best_pos = c, i
    return (_chars(w, best_pos, n) + n - 1) * best


cdef int64_t _skip_scan(_Work *w, Py_ssize_t grams, int n) noexcept nogil:
    """datatrove's `find_all_duplicate`: characters of n-grams met again, skipping past each repeat."""
    cdef Py_ssize_t idx = 0
    cdef int64_t repeated = 0
    cdef int32_t s
    while idx < grams:
        s = w.group[idx]
        if w.seen[s]:
            repeated += _chars(w, idx, n)
            idx += n
        else:
            w.seen[s] = 1
            idx += 1
    return repeated


def ngram_repeats(list tokens, tuple top_ns, tuple dup_ns):
    """({n: top n-gram characters} for n in top_ns, {n: repeated n-gram characters} for n in dup_ns).

    n-grams are compared token by token (datatrove joins them into strings, which differs only when two
    different token sequences spell the same characters)."""
    cdef Py_ssize_t total = len(tokens), i, grams
    cdef int n, m, longest = 0
    cdef dict ids = {}
    cdef object token, found
    cdef _Work w
    cdef int32_t size = 16
    top = dict.fromkeys(top_ns, 0)
    dup = dict.fromkeys(dup_ns, 0)
    for n in (*top_ns, *dup_ns):
        longest = max(longest, n)
    if total == 0:
        return top, dup
    while size < 2 * total:
        size *= 2
    w.mask = size - 1
    w.ids = <int32_t *>PyMem_Malloc(total * sizeof(int32_t))
    w.lens = <int64_t *>PyMem_Malloc(total * sizeof(int64_t))
    w.keys = <uint64_t *>PyMem_Malloc(total * sizeof(uint64_t))
    w.group = <int32_t *>PyMem_Malloc(total * sizeof(int32_t))
    w.slot_pos = <int32_t *>PyMem_Malloc(size * sizeof(int32_t))
    w.slot_key = <uint64_t *>PyMem_Malloc(size * sizeof(uint64_t))
    w.slot_count = <int32_t *>PyMem_Malloc(size * sizeof(int32_t))
    w.seen = <char *>PyMem_Malloc(size)
    try:
        if not (w.ids and w.lens and w.keys and w.group and w.slot_pos and w.slot_key and w.slot_count and w.seen):
            raise MemoryError()
        for i in range(total):
            token = tokens[i]
            found = ids.get(token)
            if found is None:
                found = len(ids)
                ids[token] = found
            w.ids[i] = <int32_t>found
            w.lens[i] = len(<str>token)
            w.keys[i] = <uint64_t>w.ids[i] + 1
        for n in range(2, longest + 1):
            grams = total - n + 1
            if grams <= 0:
                break
            for i in range(grams):  # extend each position's key by the n-th token
                w.keys[i] = w.keys[i] * 0x9E3779B97F4A7C15ULL + <uint64_t>w.ids[i + n - 1] + 1
            if n not in top and n not in dup:
                continue
            if not _group(&w, grams, n):
                # no n-gram occurs twice, so no longer one does: the most common is the first, once; no repeats
                for m in range(n, longest + 1):
                    if m in top and total >= m:
                        top[m] = _chars(&w, 0, m) + m - 1
                break
            if n in top:
                top[n] = _top(&w, grams, n)
            if n in dup:
                dup[n] = _skip_scan(&w, grams, n)
    finally:
        PyMem_Free(w.ids)
        PyMem_Free(w.lens)
        PyMem_Free(w.keys)
        PyMem_Free(w.group)
        PyMem_Free(w.slot_pos)
        PyMem_Free(w.slot_key)
        PyMem_Free(w.slot_count)
        PyMem_Free(w.seen)
    return top, dup


cdef class TokenCounter:
    """Counts over one chunk's tokens: (words, characters of the words, alphabetic tokens). A word is a token
    with a character outside `punctuation` (datatrove's set of one-character strings); an alphabetic token has
    a letter."""

    cdef frozenset punctuation
    cdef bint ascii_punct[128]

    def __init__(self, punctuation):
        cdef int c
        self.punctuation = frozenset(punctuation)
        for c in range(128):
            self.ascii_punct[c] = chr(c) in self.punctuation

    def counts(self, tuple tokens):
        cdef Py_ssize_t words = 0, chars = 0, alpha = 0
        cdef str token
        cdef Py_UCS4 ch
        cdef bint is_word, has_alpha
        for token in tokens:
            is_word = has_alpha = False
            for ch in token:
                if not has_alpha and ch.isalpha():
                    has_alpha = True
                if not is_word:
                    if ch < 128:
                        is_word = not self.ascii_punct[ch]
                    else:
                        is_word = ch not in self.punctuation
                if is_word and has_alpha:
                    break
            if is_word:
                words += 1
                chars += len(token)
            if has_alpha:
                alpha += 1
        return words, chars, alpha


def shingles(list words, int n):
    """`" ".join(words[i:i + n])` for every start i (one string when there are fewer than n words): cut out of
    one joined string instead of joining every n-gram on its own."""
    cdef Py_ssize_t count = len(words), i
    cdef str joined
    cdef list out
    cdef Py_ssize_t *starts
    if count < n:
        return [" ".join(words)]
    joined = " ".join(words)
    starts = <Py_ssize_t *>PyMem_Malloc((count + 1) * sizeof(Py_ssize_t))
    if not starts:
        raise MemoryError()
    try:
        starts[0] = 0
        for i in range(count):
            starts[i + 1] = starts[i] + len(<str>words[i]) + 1
        out = [None] * (count - n + 1)
        for i in range(count - n + 1):
            out[i] = joined[starts[i]:starts[i + n] - 1]
    finally:
        PyMem_Free(starts)
    return out


cdef inline bint _word_char(Py_UCS4 ch, bint underscore) noexcept:
    if ch < 128:
        return (u'a' <= ch <= u'z') or (u'A' <= ch <= u'Z') or (u'0' <= ch <= u'9') or (underscore and ch == u'_')
    return Py_UNICODE_ISALNUM(ch)


def words(str text, str joiners="", bint underscore=False):
    """Runs of letters and digits (`str.isalnum`; with `underscore`, "_" counts as one too), a run continuing
    across one joiner character between two such characters: `re.findall(r"[^\\W_]+(?:[-'’][^\\W_]+)*", text)`
    for joiners "-'’", `re.findall(r"\\w+", text)` for no joiners with `underscore`."""
    cdef Py_ssize_t n = len(text), i = 0, start, j
    cdef int kind = PyUnicode_KIND(text)
    cdef void *data = PyUnicode_DATA(text)
    cdef Py_UCS4 ch
    cdef Py_UCS4 joiner[8]
    cdef Py_ssize_t n_joiners = len(joiners)
    cdef bint joins
    cdef list out = []
    if n_joiners > 8:
        raise ValueError("at most 8 joiner characters")
    for j in range(n_joiners):
        joiner[j] = joiners[j]
    while i < n:
        if not _word_char(PyUnicode_READ(kind, data, i), underscore):
            i += 1
            continue
        start = i
        i += 1
        while i < n:
            ch = PyUnicode_READ(kind, data, i)
            if _word_char(ch, underscore):
                i += 1
                continue
            joins = False
            if i + 1 < n:
                for j in range(n_joiners):
                    if ch == joiner[j]:
                        joins = _word_char(PyUnicode_READ(kind, data, i + 1), underscore)
                        break
            if not joins:
                break
            i += 2
        out.append(text[start:i])
    return out


def analyse_chunks(str text, dict memo, object split):
    """(tokens, packed counts) of `text`: the memoised split of every whitespace-separated chunk (`split(chunk)`
    for a chunk not in `memo`), tokens concatenated and the packed counts summed (`scoring.tokenize.analyse`)."""
    cdef list tokens = []
    cdef object found
    cdef long long packed = 0
    cdef str chunk
    for chunk in text.split():
        found = memo.get(chunk)
        if found is None:
            found = split(chunk)
        tokens.extend(<tuple>(<tuple>found)[0])
        packed += <long long>(<tuple>found)[1]
    return tokens, packed


def translate(str text, const int32_t[::1] index, tuple targets):
    """`text` with each character c below len(index) whose index[c] >= 0 replaced by targets[index[c]] (a str,
    possibly empty) and every other character kept: `str.translate` with a per-code-point table, in two passes over
    the text (length, then copy) instead of a dictionary look-up and an object per character."""
    cdef Py_ssize_t n = len(text), i, j, size = 0, out = 0, limit = index.shape[0]
    cdef int kind = PyUnicode_KIND(text)
    cdef void *data = PyUnicode_DATA(text)
    cdef Py_UCS4 ch
    cdef int32_t slot
    cdef str target
    cdef Py_UCS4 *buf
    for i in range(n):
        ch = PyUnicode_READ(kind, data, i)
        slot = index[ch] if ch < limit else -1
        size += 1 if slot < 0 else len(<str>targets[slot])
    buf = <Py_UCS4 *>PyMem_Malloc((size + 1) * sizeof(Py_UCS4))
    if not buf:
        raise MemoryError()
    try:
        for i in range(n):
            ch = PyUnicode_READ(kind, data, i)
            slot = index[ch] if ch < limit else -1
            if slot < 0:
                buf[out] = ch
                out += 1
                continue
            target = <str>targets[slot]
            for j in range(len(target)):
                buf[out] = target[j]
                out += 1
        return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, out)
    finally:
        PyMem_Free(buf)
