/* text.h -- turning an item into searchable text: pure functions.
 *
 * Pipeline: text_split() cuts an item into fields (title; prose; code/logs/
 * stack traces; labels+components), dropping lines a repository repeats in
 * many issues (its issue template, learned with text_template_learn()).
 * text_tokenize() then folds Unicode (utf8proc NFKC + case fold), splits
 * code-aware tokens (camelCase, snake_case, paths, dotted names, error
 * codes), normalises numbers and hex addresses, drops stop words and stems
 * (libstemmer, English).
 * text_signals() extracts the strong evidence used for features and
 * reasoning: exception names, stack frames, file paths, error lines.
 *
 * Ownership: every out-struct owns its strings; free with its *_free().
 * A text_tokenizer holds a stemmer and is NOT thread-safe: one per thread.
 * A text_template is read-only after learning and may be shared.
 */
#ifndef DP_TEXT_H
#define DP_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include "../common/hashmap.h"
#include "../common/item.h"

typedef enum {
    FIELD_TITLE = 0,
    FIELD_PROSE = 1,   /* body text outside code: sentences, headings, lists */
    FIELD_CODE = 2,    /* fenced/indented code, {code}/{noformat}, logs, stack traces */
    FIELD_LABELS = 3,  /* labels, components, type: one label per line */
    FIELD_COUNT = 4
} text_field;

const char *text_field_name(text_field f);   /* "title", "prose", "code", "labels" */

typedef struct text_fields {
    char *f[FIELD_COUNT];   /* owned plain text, "" when empty */
} text_fields;
void text_fields_free(text_fields *tf);

/* Boilerplate model of one repository: lines (normalised: trimmed, folded,
 * digits collapsed) that occur in more than a share of the bodies. */
typedef struct text_template text_template;
text_template *text_template_learn(const char *const *bodies, size_t n);
/* The same template, learned on up to `threads` threads (the counts are
 * summed, so the result does not depend on the threads). */
text_template *text_template_learn_threads(const char *const *bodies, size_t n, int threads);
int text_template_is_boilerplate(const text_template *t, const char *line, size_t len);
size_t text_template_size(const text_template *t);   /* number of boilerplate lines */
/* The template as its ascending line hashes (to save it with an index
 * snapshot), and back: text_template_from_hashes() copies h, which must be
 * strictly ascending (else NULL). */
const uint64_t *text_template_hashes(const text_template *t, size_t *n);
text_template *text_template_from_hashes(const uint64_t *h, size_t n);
void text_template_free(text_template *t);

/* Splits title/body/labels of `it` into fields. tpl may be NULL (no stripping).
 * Handles GitHub markdown and Jira wiki markup ({code}, {noformat}, h1.). */
void text_split(const item *it, const text_template *tpl, text_fields *out);
/* The same fields as one block (the struct, then each field's text in
 * field order, exactly sized): freed with free() alone, never
 * text_fields_free(). One allocation instead of a copy per field. */
text_fields *text_split_compact(const item *it, const text_template *tpl);

typedef struct text_tokenizer text_tokenizer;
typedef struct text_opts {
    int stem;          /* Snowball English stemming (default 1) */
    int stopwords;     /* drop English stop words (default 1) */
    int code_split;    /* also emit camelCase/snake_case/path parts (default 1) */
} text_opts;
void text_opts_default(text_opts *o);
text_tokenizer *text_tokenizer_new(const text_opts *o);   /* NULL opts = defaults */
void text_tokenizer_free(text_tokenizer *tk);
/* Appends the tokens of s[0..n) to out, in order. Tokens are NUL-terminated
 * UTF-8. A dotted/pathlike token ("org.apache.Foo", "src/a/b.c") is emitted
 * whole and, with code_split, also as its parts. */
void text_tokenize(text_tokenizer *tk, const char *s, size_t n, strvec *out);

/* Streaming form of text_tokenize(): calls cb once per token, in order.
 * `extra` is 0 for a token that takes a position of its own and 1 for an
 * additional token at the previous position: the parts of a compound or
 * camelCase word ("null", "pointer", "exception" after
 * "nullpointerexcept"). Bigram builders use only extra == 0 tokens.
 * tok[0..len) is NUL-terminated and valid only during the call. */
typedef void (*text_token_cb)(void *ctx, const char *tok, size_t len, int extra);
void text_tokenize_cb(text_tokenizer *tk, const char *s, size_t n, text_token_cb cb, void *ctx);

/* Strong evidence found in an item's fields. All strings normalised
 * (case kept for identifiers, numbers/hex masked in error lines). */
typedef struct text_signals {
    strvec exceptions;   /* "NullPointerException", "KeyError", "ENOENT" */
    strvec frames;       /* "org.apache.hadoop.fs.FileSystem.get", "foo.py:bar" */
    strvec paths;        /* "src/core/io.c", "hdfs-site.xml" */
    strvec errors;       /* normalised error/log lines */
    strvec versions;     /* "2.7.1", "v1.4" */
} text_signals;
void text_signals_extract(const text_fields *tf, text_signals *out);
void text_signals_free(text_signals *s);

/* ---- references to other items (refs.c) -------------------------------- */

/* How the words just before a reference on its line relate the two items,
 * weakest first (a key mentioned twice keeps its strongest kind). */
typedef enum {
    TEXT_REF_MENTION = 1,   /* a plain mention: "see #12" */
    TEXT_REF_FOLLOW,        /* the other is its origin: "follow-up to", "Disabled in",
                               "backport of", "revert", "caused by", "part of" */
    TEXT_REF_FIXES,         /* a closing keyword: "fixes #12" (only with opts.closing) */
    TEXT_REF_DUP_BY,        /* "duplicated by #12" */
    TEXT_REF_DUP            /* "duplicate of #12", not hedged ("possible duplicate" is a mention) */
} text_ref_kind;

typedef struct text_ref {
    char *key;              /* "12" for #12 and GitHub URLs, "HIVE-123" for Jira keys */
    text_ref_kind kind;
} text_ref;
typedef struct text_refs {
    text_ref *v;              /* in order of first appearance */
    size_t n, cap;
    dp_idxmap idx;            /* private: index by key */
} text_refs;

typedef struct text_refs_opts {
    int numeric;            /* "#N", owner/name#N and issue URLs of `repo` */
    int bare;               /* also a bare number after "duplicate of" / "issue" / "see" */
    int jira;               /* Jira keys ("HIVE-123") */
    int closing;            /* closing keywords count (a pull request's own body) */
    const char *repo;       /* "owner/name" for URLs and owner/name#N; NULL = none */
    const char *projects;   /* Jira projects taken, comma-separated; NULL = any */
} text_refs_opts;

/* Appends the references in text to out, one entry per key with its
 * strongest kind. References inside code (fences, spans, Jira {code} and
 * {noformat}) are ignored. Never fails. */
void text_refs_scan(const char *text, const text_refs_opts *o, text_refs *out);
/* The entry for key, or NULL. */
const text_ref *text_refs_find(const text_refs *rs, const char *key);
void text_refs_free(text_refs *rs);

#endif
