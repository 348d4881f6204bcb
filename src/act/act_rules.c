/* act_rules.c -- the pure rules of acting on GitHub (see act.h): pair keys
 * and markers, which item is kept, which closures are refused, what counts
 * as activity, and the comment texts. No I/O: unit-tested directly. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../explain/explain.h"
#include "act_int.h"

/* ---- keys and markers ------------------------------------------------------ */

/* A positive decimal number without sign or leading zero: how GitHub keys look. */
static int numeric_key(const char *k, long long *v)
{
    if (!k || !*k || *k == '0' || strlen(k) > 18) return 0;
    for (const char *p = k; *p; p++)
        if (!isdigit((unsigned char)*p)) return 0;
    *v = strtoll(k, NULL, 10);
    return 1;
}

int act_issue_key(const char *k)
{
    long long v;
    return numeric_key(k, &v);
}

int act_has_label(const item *it, const char *label)
{
    for (size_t i = 0; label && *label && i < it->labels.n; i++)
        if (!strcasecmp(it->labels.v[i], label)) return 1;
    return 0;
}

static int key_cmp(const char *a, const char *b)
{
    long long x, y;
    if (numeric_key(a, &x) && numeric_key(b, &y)) return (x > y) - (x < y);
    return strcmp(a, b);
}

char *act_pair_key(const char *a, const char *b)
{
    return key_cmp(a, b) <= 0 ? xasprintf("%s:%s", a, b) : xasprintf("%s:%s", b, a);
}

char *act_pair_key_arg(const char *s)
{
    const char *colon = s ? strchr(s, ':') : NULL;
    if (!colon || strchr(colon + 1, ':')) return NULL;
    const char *a = s[0] == '#' ? s + 1 : s, *b = colon[1] == '#' ? colon + 2 : colon + 1;
    if (a >= colon || !*b) return NULL;
    char *first = xstrndup(a, (size_t)(colon - a));
    char *k = act_pair_key(first, b);
    free(first);
    return k;
}

char *act_triage_key(const char *issue)
{
    return xasprintf("triage:%s", issue);
}

#define MARK_OPEN "<!-- doppel:"
#define MARK_CLOSE " v1 -->"

char *act_marker(const char *unit_key)
{
    if (!strncmp(unit_key, "triage:", 7)) return xstrdup(MARK_OPEN "triage" MARK_CLOSE);
    return xasprintf(MARK_OPEN "pair=%s" MARK_CLOSE, unit_key);
}

static size_t key_run(const char *p)
{
    size_t n = 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '.' || p[n] == '_' || p[n] == '-') n++;
    return n;
}

/* The unit key of a marker starting at p (just past MARK_OPEN), or NULL. */
static char *marker_at(const char *p)
{
    if (!strncmp(p, "triage" MARK_CLOSE, 6 + strlen(MARK_CLOSE))) return xstrdup("triage");
    if (strncmp(p, "pair=", 5)) return NULL;
    const char *k = p + 5;
    size_t a = key_run(k);
    if (!a || a > 64 || k[a] != ':') return NULL;
    size_t b = key_run(k + a + 1);
    if (!b || b > 64 || strncmp(k + a + 1 + b, MARK_CLOSE, strlen(MARK_CLOSE))) return NULL;
    return xstrndup(k, a + 1 + b);
}

char *act_marker_parse(const char *body)
{
    if (!body) return NULL;
    for (const char *p = body; (p = strstr(p, MARK_OPEN)); p += strlen(MARK_OPEN)) {
        char *k = marker_at(p + strlen(MARK_OPEN));
        if (k) return k;
    }
    return NULL;
}

static int closed_as_duplicate(const item *it)
{
    return !item_is_open(it) && it->state_reason && !strcasecmp(it->state_reason, "duplicate");
}

/* ---- which item is kept --------------------------------------------------- */

void act_choose(const pair *p, const item *a, const item *b, act_choice *out)
{
    memset(out, 0, sizeof *out);
    /* the judgment's own choice, when it named one of these two */
    if (p && p->canonical && p->comment_on && strcmp(p->canonical, p->comment_on) != 0) {
        const item *kept = !strcmp(p->canonical, a->key) ? a : !strcmp(p->canonical, b->key) ? b : NULL;
        const item *other = kept == a ? b : a;
        if (kept && !strcmp(p->comment_on, other->key)) {
            out->canonical = kept->key;
            out->dup = other->key;
            explain_canonical_why(kept, other, out->rule_buf, sizeof out->rule_buf);
            out->rule = out->rule_buf;
            return;
        }
    }
    const item *two[2] = {a, b};
    size_t k = explain_canonical(two, 2);
    out->canonical = two[k]->key;
    out->dup = two[1 - k]->key;
    explain_canonical_why(two[k], two[1 - k], out->rule_buf, sizeof out->rule_buf);
    out->rule = out->rule_buf;
}

/* ---- the duplicate graph -------------------------------------------------- */

typedef struct edge {
    char *from, *to;
} edge;

struct act_graph {
    edge *e;
    size_t n, cap;
};

act_graph *act_graph_new(void)
{
    return xcalloc(1, sizeof(act_graph));
}

void act_graph_free(act_graph *g)
{
    if (!g) return;
    for (size_t i = 0; i < g->n; i++) {
        free(g->e[i].from);
        free(g->e[i].to);
    }
    free(g->e);
    free(g);
}

void act_graph_add(act_graph *g, const char *dup, const char *canonical)
{
    for (size_t i = 0; i < g->n; i++)
        if (!strcmp(g->e[i].from, dup) && !strcmp(g->e[i].to, canonical)) return;
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->e = xrealloc(g->e, g->cap * sizeof *g->e);
    }
    g->e[g->n].from = xstrdup(dup);
    g->e[g->n].to = xstrdup(canonical);
    g->n++;
}

int act_graph_reaches(const act_graph *g, const char *from, const char *to)
{
    if (!strcmp(from, to)) return 1;
    /* Breadth-first over a worklist of keys; each key is expanded once, so
     * this ends on any graph (a cycle in the data included). */
    strvec seen = {0};
    sv_push(&seen, from);
    int found = 0;
    for (size_t i = 0; i < seen.n && !found; i++) {
        for (size_t j = 0; j < g->n && !found; j++) {
            if (strcmp(g->e[j].from, seen.v[i])) continue;
            if (!strcmp(g->e[j].to, to)) found = 1;
            else if (!sv_contains(&seen, g->e[j].to)) sv_push(&seen, g->e[j].to);
        }
    }
    sv_free(&seen);
    return found;
}

/* The first item `from` points to other than `except`, or NULL. */
static const char *edge_to_other(const act_graph *g, const char *from, const char *except)
{
    for (size_t j = 0; j < g->n; j++)
        if (!strcmp(g->e[j].from, from) && strcmp(g->e[j].to, except)) return g->e[j].to;
    return NULL;
}

const char *act_close_refusal(const act_graph *g, const item *dup, const item *canon, char *buf, size_t n)
{
    const char *other;
    if (!strcmp(dup->key, canon->key)) snprintf(buf, n, "an item cannot be a duplicate of itself");
    else if (canon->deleted) snprintf(buf, n, "#%s was deleted", canon->key);
    else if (closed_as_duplicate(canon))
        snprintf(buf, n, "#%s is itself closed as a duplicate; review #%s against the issue it points to",
                 canon->key, dup->key);
    else if ((other = edge_to_other(g, dup->key, canon->key)))
        snprintf(buf, n, "#%s is already marked as a duplicate of #%s", dup->key, other);
    else if (act_graph_reaches(g, canon->key, dup->key))
        snprintf(buf, n, "#%s is (through its duplicates) marked as a duplicate of #%s: closing #%s into it "
                         "would close both into each other",
                 canon->key, dup->key, dup->key);
    else return NULL;
    return buf;
}

/* ---- activity ---------------------------------------------------------------- */

int act_activity(int64_t updated_at, int64_t verdict_at, int64_t own_write)
{
    int64_t since = verdict_at > own_write ? verdict_at : own_write;
    return updated_at > since;
}

/* ---- texts ------------------------------------------------------------------- */

char *act_text_duplicate(const char *canonical, const char *unit_key)
{
    char *m = act_marker(unit_key);
    /* "Duplicate of #N" first: GitHub turns it into a marked_as_duplicate
     * event linking the two. */
    char *t = xasprintf("Duplicate of #%s\n\n%s", canonical, m);
    free(m);
    return t;
}

char *act_text_related(const char *other, const char *unit_key)
{
    char *m = act_marker(unit_key);
    char *t = xasprintf("Related: #%s\n\n%s", other, m);
    free(m);
    return t;
}
