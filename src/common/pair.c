/* pair.c -- pairs and the names of relations, confidence levels and
 * verdicts (see pair.h). */
#include "pair.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *const relation_names[RELATION_COUNT] = {"not_related", "related", "duplicate"};
static const char *const relation_labels[RELATION_COUNT] = {"Not related", "Related", "Duplicate"};
const char *const confidence_names[CONFIDENCE_COUNT] = {"high", "medium", "low"};

const char *relation_name(relation_kind r)
{
    return (unsigned)r < RELATION_COUNT ? relation_names[r] : "?";
}

const char *relation_label(relation_kind r)
{
    return (unsigned)r < RELATION_COUNT ? relation_labels[r] : "?";
}

/* Index of s in names[0..n), or -1; NULL is -1. */
static int name_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

int relation_parse(const char *s, relation_kind *out)
{
    int i = name_index(relation_names, RELATION_COUNT, s);
    if (i < 0) return -1;
    *out = (relation_kind)i;
    return 0;
}

const char *confidence_name(confidence_level c)
{
    return (unsigned)c < CONFIDENCE_COUNT ? confidence_names[c] : "?";
}

int confidence_parse(const char *s, confidence_level *out)
{
    int i = name_index(confidence_names, CONFIDENCE_COUNT, s);
    if (i < 0) return -1;
    *out = (confidence_level)i;
    return 0;
}

/* A verdict is a relation shifted by one, so VERDICT_NONE can be 0 (a
 * zeroed pair has no verdict). */
verdict_kind verdict_of(relation_kind r) { return (verdict_kind)(r + 1); }

relation_kind verdict_relation(verdict_kind v)
{
    return v > VERDICT_NONE && v < VERDICT_COUNT ? (relation_kind)(v - 1) : RELATION_NONE;
}

const char *verdict_name(verdict_kind v)
{
    return v > VERDICT_NONE && v < VERDICT_COUNT ? relation_names[v - 1] : NULL;
}

int verdict_parse(const char *s, verdict_kind *out)
{
    relation_kind r;
    if (relation_parse(s, &r)) return -1;
    *out = verdict_of(r);
    return 0;
}

void pair_free(pair *p)
{
    if (!p) return;
    free(p->query_key);
    free(p->cand_key);
    free(p->reasoning);
    free(p->value_detail);
    free(p->suggested_comment);
    free(p->comment_on);
    free(p->canonical);
    memset(p, 0, sizeof *p);
}

pair *pair_vec_push(pair_vec *vec)
{
    if (vec->n == vec->cap) {
        vec->cap = vec->cap ? vec->cap * 2 : 16;
        vec->v = xrealloc(vec->v, vec->cap * sizeof *vec->v);
    }
    memset(&vec->v[vec->n], 0, sizeof *vec->v);
    return &vec->v[vec->n++];
}

void pair_vec_free(pair_vec *vec)
{
    for (size_t i = 0; i < vec->n; i++) pair_free(&vec->v[i]);
    free(vec->v);
    memset(vec, 0, sizeof *vec);
}
