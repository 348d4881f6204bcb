/* act_triage.c -- `triage` and `watch`: one comment on a new issue listing
 * its likely duplicates, kept up to date in place, and a bot that stops for
 * good when told (see act.h).
 *
 * Planning reads GitHub in two passes over the issues: first every issue,
 * its comments and the 👎 on doppel's comment (the fresh issue is written
 * into the store); then, when some issue needs candidates, the repository
 * is loaded once (analyze_corpus_load, from the index snapshot) and each
 * issue is ranked against it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../analyze/analyze.h"
#include "act_int.h"

#define THUMBS_DOWN "\xf0\x9f\x91\x8e"
#define KV_WATCH_SEQ "watch.seq"
#define KV_WATCH_BASE "watch.base"
#define WATCH_RECHECK_DAYS 7

/* What the first pass learnt about one issue. */
typedef struct tri {
    const char *key;
    item it;                 /* fresh from GitHub */
    int skip;                /* 1: the unit is already decided (u->why set) */
    char *stop;              /* why the bot stops now, or NULL */
    int64_t ours;            /* doppel's comment, 0 none */
    char *ours_body;
    store_action_vec rows;   /* the unit's actions */
    const store_action *label_row;   /* live label action */
} tri;

typedef struct tri_ctx {
    store *st;
    int64_t repo;
    const act_opts *o;
    const act_triage_opts *t;
    act_plan *plan;
    gh_client *gh;
    char *login;
    strvec not_related;      /* pair keys with a not_related verdict */
} tri_ctx;

void act_triage_listed(const char *body, strvec *keys)
{
    /* Our own lines: "- #12 (duplicate, high confidence)". */
    for (const char *l = body; l && *l;) {
        if (!strncmp(l, "- #", 3)) {
            size_t n = 0;
            while (isdigit((unsigned char)l[3 + n])) n++;
            if (n && n < 19) {
                char *k = xstrndup(l + 3, n);
                if (!sv_contains(keys, k)) sv_push(keys, k);
                free(k);
            }
        }
        const char *e = strchr(l, '\n');
        l = e ? e + 1 : l + strlen(l);
    }
}

/* ---- pass 1: what GitHub says ------------------------------------------------ */

/* A 👎 counts when it comes from the issue's author or a maintainer: an
 * association of OWNER, MEMBER or COLLABORATOR on one of the issue's
 * comments, else write access to the repository. */
static int trusted(tri_ctx *c, const tri *x, const gh_comment_vec *cv, const char *user, const char **as)
{
    if (x->it.author && !strcmp(user, x->it.author)) {
        *as = "the author";
        return 1;
    }
    *as = "a maintainer";
    for (size_t i = 0; i < cv->n; i++) {
        const char *a = cv->v[i].association;
        if (cv->v[i].author && !strcmp(cv->v[i].author, user) &&
            (!strcmp(a, "OWNER") || !strcmp(a, "MEMBER") || !strcmp(a, "COLLABORATOR")))
            return 1;
    }
    char *perm = NULL;
    dp_err e;
    int ok = gh_permission(c->gh, c->plan->repo, user, &perm, &e) == DP_OK &&
             (!strcmp(perm, "admin") || !strcmp(perm, "maintain") || !strcmp(perm, "write"));
    free(perm);
    return ok;
}

/* doppel's comment: the one recorded in the store, else (a store rebuilt
 * from scratch) the first carrying the triage marker, by doppel's login
 * when it is known. */
static const gh_comment *find_ours(tri_ctx *c, tri *x, const gh_comment_vec *cv, int64_t recorded)
{
    for (size_t i = 0; i < cv->n; i++) {
        const gh_comment *cm = &cv->v[i];
        if (recorded) {
            if (cm->id == recorded) return cm;
            continue;
        }
        char *k = act_marker_parse(cm->body);
        int mine = k && !strcmp(k, "triage") && (!c->login || !cm->author || !strcmp(c->login, cm->author));
        free(k);
        if (mine) return cm;
    }
    (void)x;
    return NULL;
}

static int read_comments(tri_ctx *c, tri *x, dp_err *err)
{
    int64_t recorded = 0;
    for (size_t i = 0; i < x->rows.n; i++) {
        const store_action *a = &x->rows.v[i];
        if (!strcmp(a->kind, "comment") && !strcmp(a->state, "done") && !a->undo_of) recorded = a->gh_id;
        if (!strcmp(a->kind, "label") && !a->undo_of && (!strcmp(a->state, "done") || !strcmp(a->state, "pending")))
            x->label_row = a;
    }
    gh_comment_vec cv = {0};
    int rc = gh_comments_list(c->gh, c->plan->repo, x->key, 0, &cv, err);
    if (rc == DP_NOTFOUND) rc = DP_OK;
    const gh_comment *ours = rc == DP_OK ? find_ours(c, x, &cv, recorded) : NULL;
    if (rc == DP_OK && recorded && !ours && !x->stop)
        x->stop = xstrdup("doppel's comment was deleted");
    if (ours) {
        x->ours = ours->id;
        x->ours_body = xstrdup(ours->body);
    }
    strvec users = {0};
    if (rc == DP_OK && ours && !x->stop) {
        rc = gh_reactions_users(c->gh, c->plan->repo, ours->id, "-1", &users, err);
        if (rc == DP_NOTFOUND) rc = DP_OK;
        for (size_t i = 0; rc == DP_OK && i < users.n && !x->stop; i++) {
            const char *as;
            if (trusted(c, x, &cv, users.v[i], &as))
                x->stop = xasprintf(THUMBS_DOWN " by @%s (%s) on doppel's comment", users.v[i], as);
        }
    }
    sv_free(&users);
    gh_comment_vec_free(&cv);
    return rc;
}

/* Pass 1 for one issue. */
static int read_issue(tri_ctx *c, tri *x, act_unit *u, dp_err *err)
{
    long status = 0;
    int rc = gh_issue_read(c->gh, c->plan->repo, x->key, &x->it, &status, err);
    if (rc == DP_NOTFOUND) {
        act_unit_why(u, "#%s is gone on GitHub (HTTP %ld)", x->key, status);
        x->skip = 1;
        return DP_OK;
    }
    if (rc != DP_OK) return DP_ERR;
    /* The ranking must see the issue as it reads now (an edit). */
    if (store_item_upsert(c->st, c->repo, &x->it, NULL, err) != DP_OK) return DP_ERR;
    if (x->it.kind == ITEM_PR) {
        act_unit_why(u, "#%s is a pull request: triage answers issues", x->key);
        x->skip = 1;
        return DP_OK;
    }
    char *k = xasprintf(ACT_KV_STOP "%s", x->key), *why = NULL;
    rc = store_kv_get(c->st, c->repo, k, &why, err);
    free(k);
    if (rc == DP_OK) {
        act_unit_why(u, "stopped for this issue earlier: %s", why);
        x->skip = 1;
    }
    free(why);
    if (rc == DP_ERR) return DP_ERR;
    if (x->skip) return DP_OK;
    if (store_actions_load(c->st, c->repo, u->key, &x->rows, err) != DP_OK) return DP_ERR;
    if (act_has_label(&x->it, c->t->stop_label))
        x->stop = xasprintf("the label \"%s\" is on the issue", c->t->stop_label);
    if (read_comments(c, x, err) != DP_OK) return DP_ERR;
    if (!x->stop && !item_is_open(&x->it)) {
        act_unit_why(u, "#%s is closed", x->key);
        x->skip = 1;
    }
    return DP_OK;
}

/* ---- pass 2: candidates and the comment ------------------------------------------ */

/* The qualifying candidates of issue qdoc, best first, at most max_shown. */
static int candidates(tri_ctx *c, const analyze_corpus *co, uint32_t qdoc, pair_vec *out, dp_err *err)
{
    pair_vec pv = {0};
    if (analyze_similar(co, qdoc, c->t->k ? c->t->k : 10, c->o->now ? c->o->now : (int64_t)time(NULL), &pv,
                        err) != DP_OK) {
        pair_vec_free(&pv);
        return DP_ERR;
    }
    size_t max = c->t->max_shown ? c->t->max_shown : 5;
    for (size_t i = 0; i < pv.n; i++) {
        pair *p = &pv.v[i];
        char *k = act_pair_key(p->query_key, p->cand_key);
        /* levels count down from CONFIDENCE_HIGH = 0 */
        int ok = out->n < max && p->confidence <= c->t->min_confidence &&
                 (p->relation == RELATION_DUPLICATE || (c->t->related && p->relation == RELATION_RELATED)) &&
                 strcmp(p->query_key, p->cand_key) && !sv_contains(&c->not_related, k);
        free(k);
        if (ok) {
            *pair_vec_push(out) = *p;
            memset(p, 0, sizeof *p);
        }
    }
    pair_vec_free(&pv);
    return DP_OK;
}

static char *comment_text(tri_ctx *c, const pair_vec *cands)
{
    sbuf sb;
    sb_init(&sb);
    if (!cands->n) {
        sb_adds(&sb, "doppel no longer finds likely duplicates of this issue.\n\n");
    } else {
        sb_adds(&sb, "doppel found issues that may report the same problem:\n\n");
        for (size_t i = 0; i < cands->n; i++)
            sb_printf(&sb, "- #%s (%s, %s confidence)\n", cands->v[i].cand_key,
                      relation_name(cands->v[i].relation), confidence_name(cands->v[i].confidence));
        sb_adds(&sb, "\nA maintainer will take a look. If this is not a duplicate, react with " THUMBS_DOWN
                     " to this comment");
        if (c->t->stop_label && *c->t->stop_label) sb_printf(&sb, " or add the label \"%s\"", c->t->stop_label);
        sb_adds(&sb, ", and doppel will not suggest anything here again.\n\n");
    }
    sb_adds(&sb, "<!-- doppel:triage v1 -->");
    return sb_take(&sb);
}

static void keys_of(const pair_vec *pv, sbuf *sb)
{
    for (size_t i = 0; i < pv->n; i++) sb_printf(sb, "%s%s", i ? " " : "", pv->v[i].cand_key);
}

/* The unit of an issue whose comment is to be posted or brought up to date. */
static void plan_comment(tri_ctx *c, tri *x, act_unit *u, const pair_vec *cands)
{
    const char *label = c->t->label;
    sbuf keys;
    sb_init(&keys);
    keys_of(cands, &keys);
    if (!x->ours && !cands->n) {
        act_unit_why(u, "no candidate above the threshold (%s%s, %s confidence)",
                     relation_name(RELATION_DUPLICATE),
                     c->t->related ? " or related" : "", confidence_name(c->t->min_confidence));
        u->state = UNIT_DONE;
        sb_free(&keys);
        return;
    }
    char *text = comment_text(c, cands);
    if (!x->ours) {
        act_step *s = act_step_push(u, ACT_COMMENT, x->key);
        s->arg = xstrdup(sb_str(&keys));
        s->text = xstrdup(text);
        gh_call_comment_create(&s->call, c->plan->repo, x->key, text);
    } else if (strcmp(x->ours_body, text)) {
        act_step *s = act_step_push(u, ACT_EDIT, x->key);
        s->arg = xstrdup(sb_str(&keys));
        s->text = xstrdup(text);
        s->gh_id = x->ours;
        gh_call_comment_edit(&s->call, c->plan->repo, x->ours, text);
    }
    if (label && *label && cands->n && !x->label_row && !act_has_label(&x->it, label)) {
        act_step *s = act_step_push(u, ACT_LABEL, x->key);
        s->arg = xstrdup(label);
        gh_call_label_add(&s->call, c->plan->repo, x->key, label);
    }
    if (!cands->n && x->label_row && act_has_label(&x->it, x->label_row->arg)) {
        /* Only the label doppel added is taken back. */
        act_step *s = act_step_push(u, ACT_UNLABEL, x->key);
        s->arg = xstrdup(x->label_row->arg);
        s->undo_of = x->label_row->id;
        gh_call_label_remove(&s->call, c->plan->repo, x->key, s->arg);
    }
    if (!u->nsteps) {
        act_unit_why(u, "doppel's comment is up to date (%s)", cands->n ? sb_str(&keys) : "no candidates");
        u->state = UNIT_DONE;
    } else if (!x->ours) {
        act_unit_why(u, "%zu likely duplicate%s", cands->n, cands->n == 1 ? "" : "s");
    } else {
        act_unit_why(u, "the issue or its candidates changed: doppel's comment is edited in place");
    }
    free(text);
    sb_free(&keys);
}

/* The units of an issue the bot stops for: take its label back, and record
 * not_related for the pairs its comment listed. */
static int plan_stop(tri_ctx *c, tri *x, act_unit *u, dp_err *err)
{
    u->stop = xstrdup(x->stop);
    act_unit_why(u, "stop: %s", x->stop);
    if (x->label_row && act_has_label(&x->it, x->label_row->arg)) {
        act_step *s = act_step_push(u, ACT_UNLABEL, x->key);
        s->arg = xstrdup(x->label_row->arg);
        s->undo_of = x->label_row->id;
        gh_call_label_remove(&s->call, c->plan->repo, x->key, s->arg);
    }
    strvec listed = {0};
    act_triage_listed(x->ours_body, &listed);
    int rc = DP_OK;
    for (size_t i = 0; rc == DP_OK && i < listed.n; i++) {
        act_unit *d = act_unit_push(c->plan);
        u = NULL;   /* the push may have moved the units */
        d->source = xstrdup("triage");
        d->key = act_pair_key(x->key, listed.v[i]);
        d->query_key = xstrdup(x->key);
        d->cand_key = xstrdup(listed.v[i]);
        d->verdict = xstrdup(verdict_name(VERDICT_NOT_RELATED));
        d->verdict_at = c->o->now ? c->o->now : (int64_t)time(NULL);
        act_step *s = act_step_push(d, ACT_DECIDED, "");
        s->arg = xstrdup(listed.v[i]);
        store_action_vec rows = {0};
        rc = store_actions_load(c->st, c->repo, d->key, &rows, err);
        for (size_t j = 0; rc == DP_OK && j < rows.n; j++)
            if (!strcmp(rows.v[j].kind, "decided") && !rows.v[j].undo_of &&
                (!strcmp(rows.v[j].state, "done") || !strcmp(rows.v[j].state, "pending")))
                act_step_from_row(s, &rows.v[j]);
        store_action_vec_free(&rows);
        act_unit_why(d, "suggested by doppel's comment on #%s; recorded as not related", x->key);
        if (s->state == STEP_DONE) d->state = UNIT_DONE;
    }
    sv_free(&listed);
    return rc;
}

/* A unit an interrupted run left with pending actions is finished first,
 * exactly as recorded (each is reconciled before anything is sent). */
static int plan_resume(tri_ctx *c, tri *x, act_unit *u)
{
    int any = 0;
    for (size_t i = 0; i < x->rows.n; i++) {
        const store_action *a = &x->rows.v[i];
        if (strcmp(a->state, "pending") || !a->method) continue;
        act_kind k;
        for (k = ACT_COMMENT; k <= ACT_UNLABEL && strcmp(act_kind_name(k), a->kind); k++) {}
        if (k > ACT_UNLABEL) continue;
        act_step *s = act_step_push(u, k, a->target);
        s->arg = xstrdup(a->arg);
        s->text = act_call_text(a->body);
        s->undo_of = a->undo_of;
        snprintf(s->call.method, sizeof s->call.method, "%s", a->method);
        s->call.path = xstrdup(a->path);
        s->call.body = xstrdup(a->body);
        act_step_from_row(s, a);
        any = 1;
    }
    if (any) act_unit_why(u, "finishing what an interrupted run recorded (run triage again to update it)");
    (void)c;
    return any;
}

/* ---- the plan --------------------------------------------------------------------- */

static int load_not_related(tri_ctx *c, dp_err *err)
{
    store_verdict_vec v = {0};
    int rc = store_verdicts_load(c->st, c->repo, &v, err);
    for (size_t i = 0; rc == DP_OK && i < v.n; i++)
        if (v.v[i].verdict == VERDICT_NOT_RELATED)
            sv_push_owned(&c->not_related, act_pair_key(v.v[i].query_key, v.v[i].cand_key));
    store_verdict_vec_free(&v);
    return rc;
}

static void tri_free(tri *x)
{
    item_free(&x->it);
    free(x->stop);
    free(x->ours_body);
    store_action_vec_free(&x->rows);
}

/* Pass 2 over the issues that need candidates: one corpus for all. */
static int rank_all(tri_ctx *c, tri *xs, size_t n, size_t *unit_of, dp_err *err)
{
    int need = 0;
    for (size_t i = 0; i < n; i++) need |= !xs[i].skip && !xs[i].stop && unit_of[i] != SIZE_MAX;
    if (!need) return DP_OK;
    analyze_corpus co;   /* a few issues: their candidates' items are read, not all */
    if (analyze_corpus_open(c->st, c->repo, c->t->threads, &co, err) != DP_OK) return DP_ERR;
    int rc = DP_OK;
    for (size_t i = 0; i < n && rc == DP_OK; i++) {
        if (xs[i].skip || xs[i].stop || unit_of[i] == SIZE_MAX) continue;
        act_unit *u = &c->plan->v[unit_of[i]];
        int64_t qdoc = analyze_corpus_find(&co, xs[i].key);
        if (qdoc < 0) {
            act_unit_why(u, "#%s is not in the analysed repository", xs[i].key);
            u->state = UNIT_SKIPPED;
            continue;
        }
        pair_vec cands = {0};
        rc = candidates(c, &co, (uint32_t)qdoc, &cands, err);
        if (rc == DP_OK) plan_comment(c, &xs[i], u, &cands);
        pair_vec_free(&cands);
    }
    analyze_corpus_free(&co);
    return rc;
}

int act_plan_triage(store *st, int64_t repo, const strvec *keys, const act_opts *o, const act_triage_opts *t,
                    act_plan *out, dp_err *err)
{
    memset(out, 0, sizeof *out);
    if (act_repo(st, repo, out, err) != DP_OK) return DP_ERR;
    tri_ctx c = {.st = st, .repo = repo, .o = o, .t = t, .plan = out};
    tri *xs = xcalloc(keys->n + 1, sizeof *xs);
    size_t *unit_of = xcalloc(keys->n + 1, sizeof *unit_of);
    int rc = gh_client_new(&o->gh, &c.gh, err);
    if (rc == DP_OK) {
        rc = store_kv_get(st, repo, ACT_KV_LOGIN, &c.login, err);
        if (rc == DP_NOTFOUND) rc = DP_OK;
    }
    if (rc == DP_OK) rc = load_not_related(&c, err);
    for (size_t i = 0; rc == DP_OK && i < keys->n; i++) {
        tri *x = &xs[i];
        x->key = keys->v[i];
        item_init(&x->it);
        unit_of[i] = SIZE_MAX;
        if (!act_issue_key(x->key)) {
            rc = dp_fail(err, "'%s' is not an issue number", x->key);
            break;
        }
        act_unit *u = act_unit_push(out);
        unit_of[i] = out->n - 1;
        u->source = xstrdup("triage");
        u->key = act_triage_key(x->key);
        u->query_key = xstrdup(x->key);
        u->verdict = xstrdup("suggest");
        rc = read_issue(&c, x, u, err);
        if (rc != DP_OK) break;
        if (x->skip) u->state = UNIT_SKIPPED;
        else if (plan_resume(&c, x, u)) x->skip = 1;
        else if (x->stop) rc = plan_stop(&c, x, u, err);
    }
    if (rc == DP_OK) rc = rank_all(&c, xs, keys->n, unit_of, err);
    for (size_t i = 0; i < keys->n; i++) tri_free(&xs[i]);
    free(xs);
    free(unit_of);
    sv_free(&c.not_related);
    free(c.login);
    gh_client_free(c.gh);
    if (rc != DP_OK) act_plan_free(out);
    return rc;
}

/* ---- watch ---------------------------------------------------------------------------- */

static int kv_int(store *st, int64_t repo, const char *key, int64_t *v, int *found, dp_err *err)
{
    char *s = NULL;
    int rc = store_kv_get(st, repo, key, &s, err);
    *found = rc == DP_OK;
    *v = *found ? strtoll(s, NULL, 10) : 0;
    free(s);
    return rc == DP_ERR ? DP_ERR : DP_OK;
}

static int kv_set_int(store *st, int64_t repo, const char *key, int64_t v, dp_err *err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    return store_kv_set(st, repo, key, buf, err);
}

/* Keys doppel commented on as triage within the last `days`. */
static int recently_triaged(store *st, int64_t repo, int days, strvec *out, dp_err *err)
{
    store_action_vec rows = {0};
    int rc = store_actions_load(st, repo, NULL, &rows, err);
    int64_t since = (int64_t)time(NULL) - (int64_t)days * 86400;
    for (size_t i = 0; rc == DP_OK && i < rows.n; i++) {
        const store_action *a = &rows.v[i];
        if (!strcmp(a->source, "triage") && !strcmp(a->kind, "comment") && !strcmp(a->state, "done") &&
            a->created_at >= since && !sv_contains(out, a->target))
            sv_push(out, a->target);
    }
    store_action_vec_free(&rows);
    return rc;
}

/* 1 when the stored item is an open issue the bot has not stopped for. */
static int watchable(store *st, int64_t repo, const char *key, dp_err *err, int *rc)
{
    item it;
    int r = store_item_get(st, repo, key, &it, err);
    int ok = r == DP_OK && it.kind == ITEM_ISSUE && item_is_open(&it) && !it.deleted;
    item_free(&it);
    if (r == DP_ERR) *rc = DP_ERR;
    if (!ok || *rc != DP_OK) return 0;
    char *k = xasprintf(ACT_KV_STOP "%s", key), *v = NULL;
    r = store_kv_get(st, repo, k, &v, err);
    free(k);
    free(v);
    if (r == DP_ERR) *rc = DP_ERR;
    return r == DP_NOTFOUND;
}

int act_watch_keys(store *st, int64_t repo, int recheck_days, strvec *keys, int *first_run, dp_err *err)
{
    int64_t seq_done = 0, base = 0, now_seq = 0;
    int have_seq = 0, have_base = 0;
    *first_run = 0;
    if (kv_int(st, repo, KV_WATCH_SEQ, &seq_done, &have_seq, err) != DP_OK ||
        kv_int(st, repo, KV_WATCH_BASE, &base, &have_base, err) != DP_OK ||
        store_change_seq(st, repo, &now_seq, err) != DP_OK)
        return DP_ERR;
    strvec changed = {0}, recent = {0};
    int rc = store_items_changed(st, repo, have_seq ? seq_done : 0, now_seq, &changed, err);
    if (rc == DP_OK && !have_base) {
        /* The first run starts the watch: issues up to here are history. */
        for (size_t i = 0; i < changed.n; i++)
            if (act_issue_key(changed.v[i]) && strtoll(changed.v[i], NULL, 10) > base)
                base = strtoll(changed.v[i], NULL, 10);
        *first_run = 1;
        rc = kv_set_int(st, repo, KV_WATCH_BASE, base, err);
        if (rc == DP_OK) rc = kv_set_int(st, repo, KV_WATCH_SEQ, now_seq, err);
        sv_free(&changed);
        return rc;
    }
    if (rc == DP_OK) rc = recently_triaged(st, repo, recheck_days > 0 ? recheck_days : WATCH_RECHECK_DAYS, &recent, err);
    for (size_t i = 0; rc == DP_OK && i < changed.n; i++) {
        const char *k = changed.v[i];
        int wanted = act_issue_key(k) && (strtoll(k, NULL, 10) > base || sv_contains(&recent, k));
        if (wanted && watchable(st, repo, k, err, &rc) && !sv_contains(keys, k)) sv_push(keys, k);
    }
    for (size_t i = 0; rc == DP_OK && i < recent.n; i++)
        if (watchable(st, repo, recent.v[i], err, &rc) && !sv_contains(keys, recent.v[i])) sv_push(keys, recent.v[i]);
    sv_free(&changed);
    sv_free(&recent);
    return rc;
}

int act_watch_commit(store *st, int64_t repo, dp_err *err)
{
    /* Past the run's own writes too: the issues it read fresh were stored
     * and took new sequence numbers. */
    int64_t seq = 0;
    if (store_change_seq(st, repo, &seq, err) != DP_OK) return DP_ERR;
    return kv_set_int(st, repo, KV_WATCH_SEQ, seq, err);
}
