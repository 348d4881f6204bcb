/* pair.h -- a judged pair of items and the words of its judgment, shared by
 * every stage that makes, stores or shows one (analyze, store, explain,
 * web, act, cli).
 *
 * Relation, confidence and verdict are enums everywhere in memory. Each
 * has one name per value, the token the store's text columns, the JSON
 * and the command line use ("not_related", "related", "duplicate"; "high",
 * "medium", "low"), and one parser that accepts exactly those tokens: the
 * only places a judgment is turned into text or back.
 */
#ifndef DP_PAIR_H
#define DP_PAIR_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    RELATION_NONE = 0,          /* not related */
    RELATION_RELATED = 1,       /* a follow-up, clone, backport, regression, sibling... */
    RELATION_DUPLICATE = 2,     /* the same problem or request */
    RELATION_COUNT
} relation_kind;

/* Levels are fitted per relation when training (match_judge_train.c):
 * high from the probability at which at least 90 % of the out-of-fold
 * pairs shown with that relation had it (never below 0.8), medium from
 * where the pairs between it and high reach 65 % (never below 0.6). */
typedef enum {
    CONFIDENCE_HIGH = 0,
    CONFIDENCE_MEDIUM = 1,
    CONFIDENCE_LOW = 2,
    CONFIDENCE_COUNT
} confidence_level;

/* A maintainer's verdict on a pair: none yet, or one of the relations. */
typedef enum {
    VERDICT_NONE = 0,
    VERDICT_NOT_RELATED = 1,
    VERDICT_RELATED = 2,
    VERDICT_DUPLICATE = 3,
    VERDICT_COUNT
} verdict_kind;

const char *relation_name(relation_kind r);         /* static; "?" when out of range */
const char *relation_label(relation_kind r);        /* for people: "Not related", "Related", "Duplicate" */
int relation_parse(const char *s, relation_kind *out);        /* 0 ok, -1 unknown (out untouched) */
const char *confidence_name(confidence_level c);    /* static; "?" when out of range */
int confidence_parse(const char *s, confidence_level *out);
/* The relation's name ("duplicate"...); NULL for VERDICT_NONE (JSON null,
 * SQL NULL). */
const char *verdict_name(verdict_kind v);
/* Accepts the three relation names; NULL and anything else is -1. */
int verdict_parse(const char *s, verdict_kind *out);
verdict_kind verdict_of(relation_kind r);
/* The names by value (relation_names[RELATION_DUPLICATE] is "duplicate"),
 * for code that must list them: the option parser's CLI_ENUM (src/cli/opt.h)
 * takes its choices and its help from these. Verdicts use relation_names. */
extern const char *const relation_names[RELATION_COUNT];
extern const char *const confidence_names[CONFIDENCE_COUNT];
/* The relation a verdict gives; RELATION_NONE for VERDICT_NONE. */
relation_kind verdict_relation(verdict_kind v);

typedef struct pair {
    int64_t id;           /* row id (stable until the next analyze of its query) */
    int64_t repo_id;
    char *query_key;
    char *cand_key;
    int rank;             /* 1 = best candidate of this query */
    double score;         /* ranker score */
    double prob;          /* probability of the relation shown (match_judgment.p_shown) */
    relation_kind relation;
    confidence_level confidence;
    double value;         /* triage priority */
    char *reasoning;      /* plain sentences, '\n'-separated */
    char *value_detail;   /* value breakdown, '\n'-separated "term: number" */
    char *suggested_comment; /* GitHub markdown */
    /* Byte lengths of reasoning, value_detail and suggested_comment when
     * whoever made them knows (analyze takes them from the explainer), so
     * the store binds them as they are rather than measuring ~850 bytes a
     * pair on the writer's core, bytes another core just wrote (perf put a
     * quarter of the writer's samples in a full run's store phase there).
     * 0: not known, the store measures. Whoever changes a text after
     * setting these updates them. */
    size_t reasoning_len, value_detail_len, comment_len;
    int known;            /* 1 when already linked as duplicate in the data */
    char *comment_on;     /* key of the item the suggested comment is meant for; NULL: none */
    char *canonical;      /* key of the canonical item of its duplicate cluster (may be
                             neither of the two); NULL when not a duplicate */
    verdict_kind verdict; /* on load from the store */
    int64_t verdict_at;
    int64_t updated_at;   /* on load: the later updated_at of its two items (ignored on write) */
} pair;
/* Frees the strings (all owned by the pair) and zeroes it; NULL ok. */
void pair_free(pair *p);
typedef struct pair_vec { pair *v; size_t n, cap; } pair_vec;
pair *pair_vec_push(pair_vec *vec);     /* a zeroed pair at the end */
void pair_vec_free(pair_vec *vec);

#endif
