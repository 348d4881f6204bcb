/* act_plan.c -- plans from the store: the verdicts `apply` carries out,
 * the reversal of one action, re-confirming a verdict; and the plan
 * structures every act_*.c file fills. See act.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "../sync/sync.h"
#include "act_int.h"

/* ---- plan structures -------------------------------------------------------- */

static const char *const KIND_NAMES[] = {"comment", "edit", "close", "label", "decided", "reopen", "uncomment",
                                         "unlabel"};

const char *act_kind_name(act_kind k)
{
    return (unsigned)k < sizeof KIND_NAMES / sizeof KIND_NAMES[0] ? KIND_NAMES[k] : "?";
}

act_unit *act_unit_push(act_plan *p)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->v = xrealloc(p->v, p->cap * sizeof *p->v);
    }
    memset(&p->v[p->n], 0, sizeof *p->v);
    return &p->v[p->n++];
}

act_step *act_step_push(act_unit *u, act_kind kind, const char *target)
{
    if (u->nsteps == u->cap) {
        u->cap = u->cap ? u->cap * 2 : 4;
        u->steps = xrealloc(u->steps, u->cap * sizeof *u->steps);
    }
    act_step *s = &u->steps[u->nsteps++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->target = xstrdup(target ? target : "");
    return s;
}

static void step_free(act_step *s)
{
    free(s->target);
    free(s->arg);
    free(s->text);
    free(s->note);
    gh_call_free(&s->call);
}

static void unit_free(act_unit *u)
{
    for (size_t i = 0; i < u->nsteps; i++) step_free(&u->steps[i]);
    free(u->steps);
    char **strs[] = {&u->source, &u->key, &u->query_key, &u->cand_key, &u->verdict, &u->canonical,
                     &u->dup, &u->gate, &u->stop, &u->why};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) free(*strs[i]);
}

void act_plan_free(act_plan *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) unit_free(&p->v[i]);
    free(p->v);
    free(p->repo);
    memset(p, 0, sizeof *p);
}

void act_set_text(char **dst, const char *fmt, va_list ap)
{
    sbuf sb;
    sb_init(&sb);
    sb_vprintf(&sb, fmt, ap);
    free(*dst);
    *dst = sb_take(&sb);
}

void act_unit_why(act_unit *u, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    act_set_text(&u->why, fmt, ap);
    va_end(ap);
}

void act_step_from_row(act_step *s, const store_action *a)
{
    s->row = a->id;
    if (a->gh_id) s->gh_id = a->gh_id;
    s->state = !strcmp(a->state, "pending") ? STEP_PENDING : !strcmp(a->state, "failed") ? STEP_FAILED : STEP_DONE;
}

int act_repo(store *st, int64_t repo, act_plan *out, dp_err *err)
{
    repo_info *rs = NULL;
    size_t n = 0;
    if (store_repo_list(st, &rs, &n, err) != DP_OK) return DP_ERR;
    int rc = dp_fail(err, "no repository with id %lld in the store", (long long)repo);
    for (size_t i = 0; i < n; i++) {
        if (rs[i].id != repo) continue;
        if (strcmp(rs[i].kind ? rs[i].kind : "", "github") || sync_parse_repo(rs[i].name, err) != DP_OK) {
            rc = dp_fail(err, "%s is not a GitHub repository: doppel acts on GitHub only", rs[i].name);
        } else {
            out->repo = xstrdup(rs[i].name);
            out->repo_id = repo;
            rc = DP_OK;
        }
    }
    for (size_t i = 0; i < n; i++) repo_info_free(&rs[i]);
    free(rs);
    return rc;
}

char *act_call_text(const char *json_body)
{
    if (!json_body) return NULL;
    json_t *j = json_loads(json_body, 0, NULL);
    const char *s = json_string_value(json_object_get(j, "body"));
    char *out = s ? xstrdup(s) : NULL;
    json_decref(j);
    return out;
}

/* ---- apply: verdicts -> units ---------------------------------------------- */

typedef struct apply_ctx {
    store *st;
    int64_t repo;
    const act_opts *o;
    act_plan *plan;
    act_graph *graph;
    store_action_vec rows;          /* every action of the repo */
    const store_action **by_unit;   /* rows sorted by unit, then id */
    strvec queued;                  /* pair keys in the apply queue */
} apply_ctx;

static int cmp_unit(const void *a, const void *b)
{
    const store_action *x = *(const store_action *const *)a, *y = *(const store_action *const *)b;
    int c = strcmp(x->unit, y->unit);
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* The rows of one unit: [*first, *first + count) of c->by_unit. */
static size_t unit_rows(const apply_ctx *c, const char *unit, size_t *first)
{
    size_t lo = 0, hi = c->rows.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(c->by_unit[mid]->unit, unit) < 0) lo = mid + 1;
        else hi = mid;
    }
    *first = lo;
    size_t n = 0;
    while (lo + n < c->rows.n && !strcmp(c->by_unit[lo + n]->unit, unit)) n++;
    return n;
}

static int is_live(const store_action *a)
{
    return !a->undo_of && (!strcmp(a->state, "pending") || !strcmp(a->state, "done"));
}

/* The live row of (kind, target) in the unit, or NULL. */
static const store_action *live_row(const apply_ctx *c, size_t first, size_t n, act_kind kind, const char *target)
{
    for (size_t i = first; i < first + n; i++) {
        const store_action *a = c->by_unit[i];
        if (is_live(a) && !strcmp(a->kind, act_kind_name(kind)) && !strcmp(a->target, target)) return a;
    }
    return NULL;
}

/* Why the unit's history holds it back until the verdict is re-confirmed:
 * an action that failed or was undone after the verdict was given. Times
 * are seconds: one in the same second as the verdict counts as before it,
 * so a re-confirmation right after a failure is never swallowed. */
static int held_back(const apply_ctx *c, act_unit *u, size_t first, size_t n)
{
    for (size_t i = first; i < first + n; i++) {
        const store_action *a = c->by_unit[i];
        if (a->created_at <= u->verdict_at) continue;
        if (!strcmp(a->state, "failed")) {
            act_unit_why(u, "action #%lld (%s #%s) failed: %s; `doppel apply --confirm %s` tries again",
                         (long long)a->id, a->kind, a->target, a->error ? a->error : "?", u->key);
            return 1;
        }
        if (a->undo_of && strcmp(a->state, "failed")) {
            act_unit_why(u, "action #%lld was undone (action #%lld); `doppel apply --confirm %s` applies the "
                            "verdict again",
                         (long long)a->undo_of, (long long)a->id, u->key);
            return 1;
        }
    }
    /* Acted on under another verdict (it was changed since): undo first. */
    for (size_t i = first; i < first + n; i++) {
        const store_action *a = c->by_unit[i];
        if (is_live(a) && a->verdict && strcmp(a->verdict, u->verdict) && strcmp(a->source, "triage")) {
            act_unit_why(u, "the verdict changed to %s after doppel acted on it as %s (action #%lld); undo "
                            "those actions first",
                         u->verdict, a->verdict, (long long)a->id);
            return 1;
        }
    }
    return 0;
}

static void set_step_state(const apply_ctx *c, size_t first, size_t n, act_step *s)
{
    const store_action *a = live_row(c, first, n, s->kind, s->target);
    if (a) act_step_from_row(s, a);
}

/* Loads both items; DP_NOTFOUND (with u->why) when one is missing or gone. */
static int load_items(const apply_ctx *c, act_unit *u, item *a, item *b, dp_err *err)
{
    const char *keys[2] = {u->query_key, u->cand_key};
    item *its[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        int rc = store_item_get(c->st, c->repo, keys[i], its[i], err);
        if (rc == DP_ERR) return DP_ERR;
        if (rc == DP_NOTFOUND) {
            act_unit_why(u, "#%s is not in the store (run `doppel sync` first)", keys[i]);
            return DP_NOTFOUND;
        }
        if (its[i]->deleted) {
            act_unit_why(u, "#%s was deleted or transferred on GitHub", keys[i]);
            return DP_NOTFOUND;
        }
    }
    return DP_OK;
}

static const item *by_key(const item *a, const item *b, const char *key)
{
    return !strcmp(a->key, key) ? a : b;
}

/* The dup/canonical choice: the one recorded when the unit was first acted
 * on (its comment or closure names the dup), else act_choose now -- an
 * interrupted unit must not change sides because the states changed. */
static void choose(const apply_ctx *c, act_unit *u, size_t first, size_t n, const item *a, const item *b)
{
    for (size_t i = first; i < first + n; i++) {
        const store_action *r = c->by_unit[i];
        if (is_live(r) && (!strcmp(r->kind, "comment") || !strcmp(r->kind, "close"))) {
            u->dup = xstrdup(r->target);
            u->canonical = xstrdup(strcmp(a->key, r->target) ? a->key : b->key);
            act_unit_why(u, "as started by action #%lld", (long long)r->id);
            return;
        }
    }
    /* the judgment's choice, stored with the pair (absent when the pair
     * was not analysed, or judged other than a duplicate) */
    pair p;
    dp_err err;
    int have = store_pair_find(c->st, c->repo, u->query_key, u->cand_key, &p, &err) == DP_OK;
    act_choice ch;
    act_choose(have ? &p : NULL, a, b, &ch);
    u->dup = xstrdup(ch.dup);
    u->canonical = xstrdup(ch.canonical);
    act_unit_why(u, "%s", ch.rule);
    if (have) pair_free(&p);
}

static void add_comment(apply_ctx *c, act_unit *u, char *text)
{
    act_step *s = act_step_push(u, ACT_COMMENT, u->dup);
    s->arg = xstrdup(u->canonical);
    s->text = text;
    gh_call_comment_create(&s->call, c->plan->repo, u->dup, text);
}

/* Steps of a duplicate verdict; DP_NOTFOUND (u->why set) when refused. */
static int plan_duplicate(apply_ctx *c, act_unit *u, size_t first, size_t n, const item *dup, const item *canon)
{
    const store_action *close_row = live_row(c, first, n, ACT_CLOSE, dup->key);
    int started = live_row(c, first, n, ACT_COMMENT, dup->key) || close_row;
    if (!started && !item_is_open(dup) && dup->state_reason && !strcasecmp(dup->state_reason, "duplicate")) {
        act_step_push(u, ACT_DECIDED, "")->arg = xstrdup(u->canonical);
        act_unit_why(u, "#%s is already closed as a duplicate: nothing to write", dup->key);
        return DP_OK;
    }
    int close = close_row || item_is_open(dup);
    if (close && !close_row) {
        char why[320];
        if (act_close_refusal(c->graph, dup, canon, why, sizeof why)) {
            act_unit_why(u, "refused: %s", why);
            return DP_NOTFOUND;
        }
    }
    add_comment(c, u, act_text_duplicate(canon->key, u->key));
    if (close) {
        act_step *s = act_step_push(u, ACT_CLOSE, dup->key);
        s->arg = xstrdup(canon->key);
        gh_call_issue_state(&s->call, c->plan->repo, dup->key, "closed", "duplicate");
        act_graph_add(c->graph, dup->key, canon->key);
    }
    const char *label = c->o->dup_label;
    if (label && *label && (live_row(c, first, n, ACT_LABEL, dup->key) || !act_has_label(dup, label))) {
        act_step *s = act_step_push(u, ACT_LABEL, dup->key);
        s->arg = xstrdup(label);
        gh_call_label_add(&s->call, c->plan->repo, dup->key, label);
    }
    return DP_OK;
}

/* Skips a unit that would close an item with activity since its verdict
 * (by the store's copy; act_run checks GitHub again before writing). */
static int check_activity(apply_ctx *c, act_unit *u, const item *gate, dp_err *err)
{
    int64_t own = 0;
    if (store_action_last_write(c->st, c->repo, gate->key, &own, err) != DP_OK) return DP_ERR;
    if (!act_activity(gate->updated_at, u->verdict_at, own)) return DP_OK;
    char upd[32], ver[32];
    dp_format_time(gate->updated_at, upd, sizeof upd);
    dp_format_time(u->verdict_at, ver, sizeof ver);
    u->state = UNIT_SKIPPED;
    act_unit_why(u, "activity on #%s since the verdict (updated %s, verdict %s); re-confirm with "
                    "`doppel apply --confirm %s`",
                 gate->key, upd, ver, u->key);
    return DP_OK;
}

static void settle_state(act_unit *u)
{
    int all_done = 1;
    for (size_t i = 0; i < u->nsteps; i++) all_done &= u->steps[i].state == STEP_DONE;
    if (all_done && u->nsteps) u->state = UNIT_DONE;
}

static int plan_verdict(apply_ctx *c, const store_verdict *v, dp_err *err)
{
    char *key = act_pair_key(v->query_key, v->cand_key);
    int queued = sv_contains(&c->queued, key);
    if ((c->o->only && !sv_contains(c->o->only, key)) || (c->o->queued_only && !queued)) {
        free(key);
        return DP_OK;
    }
    act_unit *u = act_unit_push(c->plan);
    u->source = xstrdup("apply");
    u->key = key;
    u->query_key = xstrdup(v->query_key);
    u->cand_key = xstrdup(v->cand_key);
    u->verdict = xstrdup(verdict_name(v->verdict));
    u->verdict_at = v->created_at;
    u->queued = queued;
    size_t first, n = unit_rows(c, key, &first);
    if (held_back(c, u, first, n)) {
        u->state = UNIT_SKIPPED;
        return DP_OK;
    }
    if (v->verdict == VERDICT_NOT_RELATED) {
        act_step_push(u, ACT_DECIDED, "")->arg = xstrdup(v->cand_key);
        set_step_state(c, first, n, &u->steps[0]);
        act_unit_why(u, "not related: nothing to write on GitHub");
        settle_state(u);
        return DP_OK;
    }
    item a, b;
    int rc = load_items(c, u, &a, &b, err);
    if (rc == DP_OK) {
        choose(c, u, first, n, &a, &b);
        const item *dup = by_key(&a, &b, u->dup), *canon = by_key(&a, &b, u->canonical);
        if (v->verdict == VERDICT_DUPLICATE) rc = plan_duplicate(c, u, first, n, dup, canon);
        else add_comment(c, u, act_text_related(canon->key, u->key));
        for (size_t i = 0; rc == DP_OK && i < u->nsteps; i++) set_step_state(c, first, n, &u->steps[i]);
        if (rc == DP_OK) settle_state(u);
        for (size_t i = 0; rc == DP_OK && i < u->nsteps; i++) {
            if (u->steps[i].kind == ACT_CLOSE && u->steps[i].state == STEP_NEW) {
                u->gate = xstrdup(dup->key);
                rc = check_activity(c, u, dup, err);
            }
        }
    }
    if (rc == DP_NOTFOUND) {
        u->state = UNIT_SKIPPED;
        rc = DP_OK;
    }
    item_free(&a);
    item_free(&b);
    return rc;
}

/* The graph of "closed as a duplicate of": the data's duplicate links and
 * doppel's own live closures. */
static int load_graph(apply_ctx *c, dp_err *err)
{
    link_vec links = {0};
    if (store_links_load(c->st, c->repo, &links, err) != DP_OK) return DP_ERR;
    for (size_t i = 0; i < links.n; i++)
        if (links.v[i].type == LINK_DUPLICATE) act_graph_add(c->graph, links.v[i].src_key, links.v[i].dst_key);
    link_vec_free(&links);
    for (size_t i = 0; i < c->rows.n; i++) {
        const store_action *a = &c->rows.v[i];
        if (is_live(a) && !strcmp(a->kind, "close") && a->arg) act_graph_add(c->graph, a->target, a->arg);
    }
    return DP_OK;
}

static int load_queue(apply_ctx *c, dp_err *err)
{
    strvec q = {0}, k = {0};
    int rc = store_queue_list(c->st, c->repo, &q, &k, err);
    for (size_t i = 0; rc == DP_OK && i < q.n; i++) sv_push_owned(&c->queued, act_pair_key(q.v[i], k.v[i]));
    sv_free(&q);
    sv_free(&k);
    return rc;
}

int act_plan_apply(store *st, int64_t repo, const act_opts *o, act_plan *out, dp_err *err)
{
    memset(out, 0, sizeof *out);
    if (act_repo(st, repo, out, err) != DP_OK) return DP_ERR;
    apply_ctx c = {.st = st, .repo = repo, .o = o, .plan = out, .graph = act_graph_new()};
    store_verdict_vec verdicts = {0};
    int rc = store_verdicts_load(st, repo, &verdicts, err);
    if (rc == DP_OK) rc = store_actions_load(st, repo, NULL, &c.rows, err);
    if (rc == DP_OK) {
        c.by_unit = xcalloc(c.rows.n + 1, sizeof *c.by_unit);
        for (size_t i = 0; i < c.rows.n; i++) c.by_unit[i] = &c.rows.v[i];
        qsort(c.by_unit, c.rows.n, sizeof *c.by_unit, cmp_unit);
        rc = load_graph(&c, err);
    }
    if (rc == DP_OK) rc = load_queue(&c, err);
    for (size_t i = 0; rc == DP_OK && i < verdicts.n; i++) rc = plan_verdict(&c, &verdicts.v[i], err);
    store_verdict_vec_free(&verdicts);
    free(c.by_unit);
    store_action_vec_free(&c.rows);
    sv_free(&c.queued);
    act_graph_free(c.graph);
    if (rc != DP_OK) act_plan_free(out);
    return rc;
}

/* ---- undo ------------------------------------------------------------------------ */

/* The reversal of a done action into s; DP_ERR (why) when there is none. */
static int inverse(const act_plan *p, const store_action *a, act_unit *u, dp_err *err)
{
    act_step *s;
    if (!strcmp(a->kind, "comment")) {
        if (!a->gh_id) return dp_fail(err, "action #%lld: GitHub's comment id is unknown", (long long)a->id);
        s = act_step_push(u, ACT_UNCOMMENT, a->target);
        s->gh_id = a->gh_id;
        gh_call_comment_delete(&s->call, p->repo, a->gh_id);
    } else if (!strcmp(a->kind, "close")) {
        s = act_step_push(u, ACT_REOPEN, a->target);
        gh_call_issue_state(&s->call, p->repo, a->target, "open", "reopened");
    } else if (!strcmp(a->kind, "label")) {
        s = act_step_push(u, ACT_UNLABEL, a->target);
        s->arg = xstrdup(a->arg ? a->arg : "");
        gh_call_label_remove(&s->call, p->repo, a->target, s->arg);
    } else if (!strcmp(a->kind, "edit")) {
        return dp_fail(err, "action #%lld edited a comment: undo the comment itself instead", (long long)a->id);
    } else if (!strcmp(a->kind, "decided")) {
        return dp_fail(err, "action #%lld wrote nothing to GitHub: change the verdict instead", (long long)a->id);
    } else {
        return dp_fail(err, "action #%lld is itself an undo (%s); confirm the verdict again to redo it",
                       (long long)a->id, a->kind);
    }
    s->undo_of = a->id;
    return DP_OK;
}

int act_plan_undo(store *st, int64_t id, act_plan *out, dp_err *err)
{
    memset(out, 0, sizeof *out);
    store_action a;
    int rc = store_action_get(st, id, &a, err);
    if (rc != DP_OK) {
        if (rc == DP_NOTFOUND) dp_fail(err, "no action #%lld (see `doppel apply --log`)", (long long)id);
        return rc;
    }
    store_action_vec rows = {0};
    rc = act_repo(st, a.repo_id, out, err);
    if (rc == DP_OK) rc = store_actions_load(st, a.repo_id, a.unit, &rows, err);
    /* An undo that was recorded but not answered (a killed run) is resumed. */
    const store_action *pending = NULL;
    for (size_t i = 0; rc == DP_OK && i < rows.n; i++)
        if (rows.v[i].undo_of == id && !strcmp(rows.v[i].state, "pending")) pending = &rows.v[i];
    if (rc == DP_OK && !pending && strcmp(a.state, "done"))
        rc = dp_fail(err, "action #%lld is %s: only a done action can be undone", (long long)id, a.state);
    if (rc == DP_OK) {
        act_unit *u = act_unit_push(out);
        u->source = xstrdup("undo");
        u->key = xstrdup(a.unit);
        u->query_key = xstrdup(a.query_key);
        u->cand_key = xstrdup(a.cand_key);
        u->verdict = xstrdup(a.verdict);
        u->verdict_at = a.verdict_at;
        rc = inverse(out, &a, u, err);
        if (rc == DP_OK && pending) act_step_from_row(&u->steps[0], pending);
        if (rc == DP_OK) act_unit_why(u, "undo of action #%lld (%s #%s)", (long long)id, a.kind, a.target);
    }
    store_action_vec_free(&rows);
    store_action_free(&a);
    if (rc != DP_OK) act_plan_free(out);
    return rc;
}

/* ---- confirm ------------------------------------------------------------------ */

int act_confirm(store *st, int64_t repo, const char *key, dp_err *err)
{
    char *pair_key = act_pair_key_arg(key);
    if (!pair_key) return dp_fail(err, "'%s' is not a pair (Q:C)", key);
    store_verdict_vec v = {0};
    int rc = store_verdicts_load(st, repo, &v, err), found = 0;
    for (size_t i = 0; rc == DP_OK && i < v.n && !found; i++) {
        char *k = act_pair_key(v.v[i].query_key, v.v[i].cand_key);
        if (!strcmp(k, pair_key)) {
            found = 1;
            rc = store_verdict_set(st, repo, v.v[i].query_key, v.v[i].cand_key, v.v[i].verdict, err);
        }
        free(k);
    }
    store_verdict_vec_free(&v);
    if (rc == DP_OK && !found) {
        dp_fail(err, "no verdict on the pair %s", pair_key);
        rc = DP_NOTFOUND;
    }
    free(pair_key);
    return rc;
}
