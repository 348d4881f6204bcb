/* item.c -- see item.h. */
#include "item.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void item_init(item *it) { memset(it, 0, sizeof *it); }

void item_free(item *it)
{
    free(it->key);
    free(it->title);
    free(it->body);
    free(it->state);
    free(it->state_reason);
    free(it->author);
    sv_free(&it->labels);
    sv_free(&it->components);
    sv_free(&it->versions);
    free(it->type);
    free(it->priority);
    free(it->url);
    item_init(it);
}

static void sv_copy(strvec *dst, const strvec *src)
{
    memset(dst, 0, sizeof *dst);
    for (size_t i = 0; i < src->n; i++) sv_push(dst, src->v[i]);
}

void item_copy(item *dst, const item *src)
{
    *dst = *src;
    dst->key = xstrdup(src->key);
    dst->title = xstrdup(src->title);
    dst->body = xstrdup(src->body);
    dst->state = xstrdup(src->state);
    dst->state_reason = xstrdup(src->state_reason);
    dst->author = xstrdup(src->author);
    sv_copy(&dst->labels, &src->labels);
    sv_copy(&dst->components, &src->components);
    sv_copy(&dst->versions, &src->versions);
    dst->type = xstrdup(src->type);
    dst->priority = xstrdup(src->priority);
    dst->url = xstrdup(src->url);
}

void comment_free(comment *c)
{
    free(c->item_key);
    free(c->author);
    free(c->body);
    memset(c, 0, sizeof *c);
}

void item_link_free(item_link *l)
{
    free(l->src_key);
    free(l->dst_key);
    free(l->source);
    memset(l, 0, sizeof *l);
}

const char *item_kind_name(item_kind k) { return k == ITEM_PR ? "pull request" : "issue"; }

const char *item_link_type_name(link_type t)
{
    return t == LINK_DUPLICATE ? "duplicate" : t == LINK_RELATED ? "related" : t == LINK_FIXES ? "fixes" : "?";
}

int item_is_open(const item *it) { return it->state && strcmp(it->state, "open") == 0; }

/* Resolutions that mean "the problem was fixed". GitHub closes issues as
 * "completed" by default, and closed issues from before state_reason
 * existed carry none, so a missing reason counts as fixed for an issue. A
 * pull request fixed something only when it was merged. */
static const char *const fixed_reasons[] = {"completed", "fixed", "done", "resolved",
                                            "implemented", "delivered", "merged", NULL};

int item_closed_fixed(const item *it)
{
    if (item_is_open(it)) return 0;
    int has = it->state_reason && *it->state_reason;
    if (it->kind == ITEM_PR) return has && !strcasecmp(it->state_reason, "merged");
    if (!has) return 1;
    for (const char *const *r = fixed_reasons; *r; r++)
        if (!strcasecmp(it->state_reason, *r)) return 1;
    return 0;
}

#define VEC_PUSH(vec)                                                  \
    do {                                                               \
        if ((vec)->n == (vec)->cap) {                                  \
            (vec)->cap = (vec)->cap ? (vec)->cap * 2 : 16;             \
            (vec)->v = xrealloc((vec)->v, (vec)->cap * sizeof *(vec)->v); \
        }                                                              \
        memset(&(vec)->v[(vec)->n], 0, sizeof *(vec)->v);              \
        return &(vec)->v[(vec)->n++];                                  \
    } while (0)

item *item_vec_push(item_vec *vec) { VEC_PUSH(vec); }
comment *comment_vec_push(comment_vec *vec) { VEC_PUSH(vec); }
item_link *link_vec_push(link_vec *vec) { VEC_PUSH(vec); }

void item_vec_free(item_vec *vec)
{
    for (size_t i = 0; i < vec->n; i++) item_free(&vec->v[i]);
    free(vec->v);
    memset(vec, 0, sizeof *vec);
}

void comment_vec_free(comment_vec *vec)
{
    for (size_t i = 0; i < vec->n; i++) comment_free(&vec->v[i]);
    free(vec->v);
    memset(vec, 0, sizeof *vec);
}

void link_vec_free(link_vec *vec)
{
    for (size_t i = 0; i < vec->n; i++) item_link_free(&vec->v[i]);
    free(vec->v);
    memset(vec, 0, sizeof *vec);
}

int item_link_typed(const item_link *l)
{
    return l->source && !strncmp(l->source, "jira:", 5);
}

int item_links_any_typed(const item_link *links, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (item_link_typed(&links[i])) return 1;
    return 0;
}

size_t items_created_before(const item *v, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].created_at < t) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}
