/* act_run.c -- running a plan against GitHub, exactly once (see act.h).
 *
 * Per unit: check the item to be closed for activity (a fresh read), record
 * every step not yet recorded as a pending action in one transaction, then
 * send the steps in order. A step recorded earlier without an answer, or
 * whose answer was unsure, is reconciled first: GitHub is read and the
 * request is sent only if its effect is not there. The answer (status,
 * GitHub's id, the server's clock) completes the action; an undo also
 * marks the action it reversed "undone", in the same transaction.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "act_int.h"

typedef struct run_ctx {
    store *st;
    act_plan *plan;
    const act_opts *o;
    gh_client *gh;
    char *login;             /* doppel's login on GitHub, once known */
    act_event_fn ev;
    void *ev_ctx;
    act_stats *stats;
    int forbidden_run;       /* consecutive units failed with 403 */
} run_ctx;

/* ---- the lock --------------------------------------------------------------- */

/* When process pid started, in clock ticks since boot (field 22 of
 * /proc/PID/stat), or 0 when it is gone or a zombie (a process killed with
 * -9 and not yet reaped still answers kill(pid, 0)). */
static unsigned long long proc_start(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* The command name (field 2) may hold spaces: fields count from its ')'. */
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X') return 0;
    unsigned long long start = 0;
    int field = 3;
    for (p += 2; *p && field < 22; p++)
        if (*p == ' ') field++;
    if (field == 22) start = strtoull(p, NULL, 10);
    return start ? start : 1;
}

/* A lock's holder, "PID HOST START TIME", still holds it when it runs on
 * this host as the same process (same start time: a reused pid does not
 * count), or on another host for an hour (we cannot ask). */
static int holder_alive(const char *v)
{
    long pid = 0;
    unsigned long long start = 0;
    long long t = 0;
    char host[256] = "", me[256] = "";
    if (sscanf(v, "%ld %255s %llu %lld", &pid, host, &start, &t) != 4 || pid <= 0) return 0;
    gethostname(me, sizeof me - 1);
    if (strcmp(host, me)) return (long long)time(NULL) - t < 3600;
    if (pid == (long)getpid()) return 0;
    unsigned long long now = proc_start(pid);
    if (now) return now == start;
    return access("/proc/self/stat", R_OK) != 0 && kill((pid_t)pid, 0) == 0;   /* no /proc: ask */
}

static int lock_take(store *st, int64_t repo, char **mine, dp_err *err)
{
    char host[256] = "?";
    gethostname(host, sizeof host - 1);
    for (char *h = host; *h; h++)
        if (*h == ' ') *h = '_';
    *mine = xasprintf("%ld %s %llu %lld", (long)getpid(), host, proc_start((long)getpid()), (long long)time(NULL));
    if (store_begin(st, err) != DP_OK) return DP_ERR;
    char *cur = NULL;
    int rc = store_kv_get(st, repo, ACT_KV_LOCK, &cur, err);
    if (rc == DP_OK && cur && holder_alive(cur)) {
        long pid = 0;
        char h[256] = "?";
        sscanf(cur, "%ld %255s", &pid, h);
        rc = dp_fail(err, "another doppel (pid %ld on %s) is writing to this repository's GitHub; wait for it, "
                          "or stop it first",
                     pid, h);
    } else if (rc != DP_ERR) {
        rc = store_kv_set(st, repo, ACT_KV_LOCK, *mine, err);
    }
    free(cur);
    if (rc == DP_OK) rc = store_commit(st, err);
    if (rc != DP_OK) {
        store_rollback(st);
        free(*mine);
        *mine = NULL;
    }
    return rc;
}

static void lock_release(store *st, int64_t repo, char *mine)
{
    if (!mine) return;
    dp_err err;
    char *cur = NULL;
    if (store_kv_get(st, repo, ACT_KV_LOCK, &cur, &err) == DP_OK && cur && !strcmp(cur, mine))
        store_kv_set(st, repo, ACT_KV_LOCK, NULL, &err);
    free(cur);
    free(mine);
}

/* ---- recording -------------------------------------------------------------- */

static void fill_action(const act_unit *u, act_step *s, store_action *a)
{
    memset(a, 0, sizeof *a);
    a->source = u->source;
    a->unit = u->key;
    a->query_key = u->query_key;
    a->cand_key = u->cand_key;
    a->verdict = u->verdict;
    a->verdict_at = u->verdict_at;
    a->kind = (char *)act_kind_name(s->kind);
    a->target = s->target;
    a->arg = s->arg;
    if (s->call.method[0]) {
        a->method = s->call.method;
        a->path = s->call.path;
        a->body = s->call.body;
    }
    a->gh_id = s->gh_id;
    a->undo_of = s->undo_of;
}

/* Records every step not recorded yet as a pending action, in one
 * transaction: after it, a crash at any point leaves the intents behind. */
static int record_intents(run_ctx *c, act_unit *u, dp_err *err)
{
    int any = 0;
    for (size_t i = 0; i < u->nsteps; i++) any |= u->steps[i].state == STEP_NEW;
    if (!any) return DP_OK;
    if (store_begin(c->st, err) != DP_OK) return DP_ERR;
    int rc = DP_OK;
    for (size_t i = 0; rc == DP_OK && i < u->nsteps; i++) {
        act_step *s = &u->steps[i];
        if (s->state != STEP_NEW) continue;
        store_action a;
        fill_action(u, s, &a);
        rc = store_action_add(c->st, c->plan->repo_id, &a, err);
        if (rc == DP_OK) s->row = a.id;
    }
    if (rc == DP_OK) rc = store_commit(c->st, err);
    if (rc != DP_OK) {
        store_rollback(c->st);
        for (size_t i = 0; i < u->nsteps; i++)
            if (u->steps[i].state == STEP_NEW) u->steps[i].row = 0;
        return DP_ERR;
    }
    for (size_t i = 0; i < u->nsteps; i++) {
        if (u->steps[i].state != STEP_NEW) continue;
        u->steps[i].state = STEP_PENDING;
        u->steps[i].sent_here = 1;
    }
    return DP_OK;
}

static void note(act_step *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(act_step *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    act_set_text(&s->note, fmt, ap);
    va_end(ap);
}

/* Completes a step's action as done (with what it did on the store's side:
 * the reversed action becomes "undone", a triage decision stores its
 * verdict), in one transaction. */
static int finish_done(run_ctx *c, act_unit *u, act_step *s, long status, int64_t gh_id, int64_t gh_time,
                       const char *remark, dp_err *err)
{
    if (store_begin(c->st, err) != DP_OK) return DP_ERR;
    int rc = store_action_finish(c->st, s->row, "done", status, gh_id, gh_time, remark, err);
    if (rc == DP_OK && s->undo_of) rc = store_action_set_state(c->st, s->undo_of, "undone", err);
    if (rc == DP_OK && s->kind == ACT_DECIDED && !strcmp(u->source, "triage"))
        rc = store_verdict_set(c->st, c->plan->repo_id, u->query_key, u->cand_key, VERDICT_NOT_RELATED, err);
    if (rc == DP_OK) rc = store_commit(c->st, err);
    if (rc != DP_OK) {
        store_rollback(c->st);
        return DP_ERR;
    }
    s->state = STEP_DONE;
    if (gh_id) s->gh_id = gh_id;
    return DP_OK;
}

static int finish_failed(run_ctx *c, act_step *s, long status, const char *why, dp_err *err)
{
    if (store_action_finish(c->st, s->row, "failed", status, 0, 0, why, err) == DP_ERR) return DP_ERR;
    s->state = STEP_FAILED;
    note(s, "failed: %s", why);
    return DP_OK;
}

static void emit(run_ctx *c, const act_unit *u, const act_step *s)
{
    if (c->ev) c->ev(c->ev_ctx, u, s);
}

/* ---- reconciling: did a write happen? ------------------------------------------ */

/* doppel's comment of unit u on the issue: the first carrying u's marker,
 * written by doppel's login when it is known. */
static int find_comment(run_ctx *c, const act_unit *u, const act_step *s, int64_t *id, int64_t *when,
                        dp_err *err)
{
    gh_comment_vec cv = {0};
    *id = 0;
    int rc = gh_comments_list(c->gh, c->plan->repo, s->target, 0, &cv, err);
    const char *want = !strncmp(u->key, "triage:", 7) ? "triage" : u->key;
    for (size_t i = 0; rc == DP_OK && i < cv.n && !*id; i++) {
        char *k = act_marker_parse(cv.v[i].body);
        if (k && !strcmp(k, want) && (!c->login || !cv.v[i].author || !strcmp(c->login, cv.v[i].author))) {
            *id = cv.v[i].id;
            *when = cv.v[i].updated_at;
        }
        free(k);
    }
    gh_comment_vec_free(&cv);
    return rc == DP_NOTFOUND ? DP_OK : rc;
}

/* Sets *applied when GitHub already shows the step's effect, with *gh_id
 * (a comment found) and *when: the server's time of the item or comment,
 * which stands in for the lost answer's clock. */
static int reconcile(run_ctx *c, const act_unit *u, const act_step *s, int *applied, int64_t *gh_id,
                     int64_t *when, dp_err *err)
{
    *applied = 0;
    *gh_id = 0;
    *when = 0;
    int rc = DP_OK;
    if (s->kind == ACT_COMMENT) {
        rc = find_comment(c, u, s, gh_id, when, err);
        *applied = *gh_id != 0;
    } else if (s->kind == ACT_EDIT || s->kind == ACT_UNCOMMENT) {
        gh_comment cm;
        rc = gh_comment_read(c->gh, c->plan->repo, s->gh_id, &cm, err);
        if (rc == DP_NOTFOUND) *applied = s->kind == ACT_UNCOMMENT;
        else if (rc == DP_OK) *applied = s->kind == ACT_EDIT && s->text && !strcmp(cm.body, s->text);
        *when = cm.updated_at;
        gh_comment_free(&cm);
    } else {
        item it;
        rc = gh_issue_read(c->gh, c->plan->repo, s->target, &it, NULL, err);
        *when = rc == DP_OK ? it.updated_at : 0;
        if (rc == DP_OK) {
            switch (s->kind) {
            case ACT_CLOSE: *applied = !item_is_open(&it); break;
            case ACT_REOPEN: *applied = item_is_open(&it); break;
            case ACT_LABEL: *applied = act_has_label(&it, s->arg); break;
            case ACT_UNLABEL: *applied = !act_has_label(&it, s->arg); break;
            default: break;
            }
        }
        item_free(&it);
    }
    return rc == DP_NOTFOUND ? DP_OK : rc;
}

/* ---- sending ------------------------------------------------------------------ */

/* Learns doppel's login from a comment it created (to recognise its own
 * comments by author as well as by marker). */
static int learn_login(run_ctx *c, const gh_response *r, dp_err *err)
{
    char *l = gh_answer_login(r);
    int rc = DP_OK;
    if (l && (!c->login || strcmp(l, c->login))) {
        rc = store_kv_set(c->st, c->plan->repo_id, ACT_KV_LOGIN, l, err);
        free(c->login);
        c->login = l;
        l = NULL;
    }
    free(l);
    return rc;
}

/* 1 for kinds whose 404 means "already so" (undoing what is gone). */
static int gone_is_done(act_kind k)
{
    return k == ACT_UNCOMMENT || k == ACT_UNLABEL;
}

typedef enum { SENT_OK, SENT_FAILED, SENT_STOP } sent;

/* Sends one step (at most twice: once more only after reconciling showed
 * an unsure first attempt did not happen). */
static sent send_step(run_ctx *c, act_unit *u, act_step *s, dp_err *err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        gh_response r;
        int rc = gh_call_send(c->gh, &s->call, &r, err);
        long status = r.status;
        if (rc == DP_OK && status >= 200 && status < 300) {
            int64_t id = (s->kind == ACT_COMMENT || s->kind == ACT_EDIT) ? gh_answer_id(&r) : 0;
            int ok = finish_done(c, u, s, status, id, r.date, NULL, err);
            if (ok == DP_OK && s->kind == ACT_COMMENT) ok = learn_login(c, &r, err);
            gh_response_free(&r);
            if (ok != DP_OK) return SENT_STOP;
            c->stats->writes++;
            if (s->kind == ACT_COMMENT) note(s, "HTTP %ld, comment %lld", status, (long long)s->gh_id);
            else note(s, "HTTP %ld", status);
            return SENT_OK;
        }
        int unsure = r.unsure;
        char *loc = r.location ? gh_redact_url(r.location) : NULL;
        gh_response_free(&r);
        if (rc == DP_OK && (status == 404 || status == 410) && gone_is_done(s->kind)) {
            free(loc);
            if (finish_done(c, u, s, status, 0, 0, "already gone", err) != DP_OK) return SENT_STOP;
            note(s, "already gone (HTTP %ld)", status);
            return SENT_OK;
        }
        if (rc == DP_OK) {   /* 3xx, 404, 410: a final answer for this step */
            char why[512];
            if (status >= 300 && status < 400)
                snprintf(why, sizeof why, "HTTP %ld to %.300s: not followed (writes never follow redirects)",
                         status, loc ? loc : "?");
            else snprintf(why, sizeof why, "HTTP %ld: #%s is gone (deleted or transferred)", status, s->target);
            free(loc);
            return finish_failed(c, s, status, why, err) == DP_OK ? SENT_FAILED : SENT_STOP;
        }
        free(loc);
        if (unsure) {
            /* It may have happened: look before sending it again. */
            char first[sizeof err->msg];
            snprintf(first, sizeof first, "%s", err->msg);
            int applied = 0;
            int64_t id = 0, when = 0;
            if (reconcile(c, u, s, &applied, &id, &when, err) != DP_OK) return SENT_STOP;
            if (applied) {
                if (finish_done(c, u, s, 0, id, when, "reconciled: the answer was lost, GitHub shows it done", err) != DP_OK)
                    return SENT_STOP;
                c->stats->reconciled++;
                note(s, "the answer was lost (%s) but GitHub shows it done", first);
                return SENT_OK;
            }
            if (attempt == 0) continue;
            dp_fail(err, "%s; GitHub does not show it done, and a second attempt was unsure too: run again to "
                         "check and finish",
                    first);
            return SENT_STOP;
        }
        if (status == 401 || status == 0) return SENT_STOP;   /* bad token, or no connection: nothing to gain */
        if (status == 403 && ++c->forbidden_run >= 3) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            finish_failed(c, s, status, msg, err);
            dp_fail(err, "%s (3 writes in a row were forbidden: does the token have Issues: write?)", msg);
            return SENT_STOP;
        }
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return finish_failed(c, s, status, msg, err) == DP_OK ? SENT_FAILED : SENT_STOP;
    }
    return SENT_STOP;   /* not reached */
}

/* A step recorded by an earlier run and never answered: done already? */
static sent resume_step(run_ctx *c, act_unit *u, act_step *s, int *send, dp_err *err)
{
    int applied = 0;
    int64_t id = 0, when = 0;
    *send = 1;
    if (reconcile(c, u, s, &applied, &id, &when, err) != DP_OK) return SENT_STOP;
    if (!applied) return SENT_OK;
    *send = 0;
    if (finish_done(c, u, s, 0, id, when, "reconciled: recorded by an interrupted run, GitHub shows it done", err) !=
        DP_OK)
        return SENT_STOP;
    c->stats->reconciled++;
    note(s, "found done on GitHub (recorded by an interrupted run)");
    return SENT_OK;
}

static sent run_step(run_ctx *c, act_unit *u, act_step *s, dp_err *err)
{
    if (s->state == STEP_DONE) return SENT_OK;
    if (s->kind == ACT_DECIDED) {
        if (finish_done(c, u, s, 0, 0, 0, NULL, err) != DP_OK) return SENT_STOP;
        note(s, "recorded");
        return SENT_OK;
    }
    if (!s->sent_here) {
        int send;
        sent r = resume_step(c, u, s, &send, err);
        if (r != SENT_OK || !send) return r;
    }
    return send_step(c, u, s, err);
}

/* ---- units ---------------------------------------------------------------------- */

/* The item to be closed, read fresh: gone or changed since the verdict
 * (not by doppel) stops the unit before anything is written. */
static int gate(run_ctx *c, act_unit *u, int *go, dp_err *err)
{
    *go = 0;
    item it;
    long status = 0;
    int rc = gh_issue_read(c->gh, c->plan->repo, u->gate, &it, &status, err);
    if (rc == DP_NOTFOUND) {
        u->state = UNIT_SKIPPED;
        act_unit_why(u, "#%s is gone on GitHub (HTTP %ld)", u->gate, status);
        rc = status == 301 || status == 410 ? store_item_mark_deleted(c->st, c->plan->repo_id, u->gate, err) : DP_OK;
        return rc;
    }
    if (rc != DP_OK) return DP_ERR;
    int64_t own = 0;
    rc = store_item_upsert(c->st, c->plan->repo_id, &it, NULL, err);
    if (rc == DP_OK) rc = store_action_last_write(c->st, c->plan->repo_id, u->gate, &own, err);
    if (rc == DP_OK && act_activity(it.updated_at, u->verdict_at, own)) {
        char upd[32], ver[32];
        dp_format_time(it.updated_at, upd, sizeof upd);
        dp_format_time(u->verdict_at, ver, sizeof ver);
        u->state = UNIT_SKIPPED;
        act_unit_why(u, "activity on #%s since the verdict (updated %s, verdict %s); re-confirm with "
                        "`doppel apply --confirm %s`",
                     u->gate, upd, ver, u->key);
    } else if (rc == DP_OK) {
        *go = 1;
    }
    item_free(&it);
    return rc;
}

static int needs_gate(const act_unit *u)
{
    if (!u->gate) return 0;
    for (size_t i = 0; i < u->nsteps; i++)
        if (u->steps[i].kind == ACT_CLOSE && u->steps[i].state == STEP_NEW) return 1;
    return 0;
}

/* After a failed step the rest of the unit is not sent: their recorded
 * intents are closed as failed, so nothing stays pending. */
static int fail_rest(run_ctx *c, act_unit *u, size_t from, dp_err *err)
{
    for (size_t i = from; i < u->nsteps; i++) {
        act_step *s = &u->steps[i];
        if (s->state != STEP_PENDING || !s->sent_here) continue;
        if (finish_failed(c, s, 0, "not sent: an earlier step of this unit failed", err) != DP_OK) return DP_ERR;
    }
    return DP_OK;
}

/* What is left to do once every step is done: the queue entry, the
 * triage stop. */
static int unit_done(run_ctx *c, act_unit *u, dp_err *err)
{
    int rc = DP_OK;
    if (u->queued) rc = store_queue_del(c->st, c->plan->repo_id, u->query_key, u->cand_key, err);
    if (rc == DP_OK && u->stop) {
        char *k = xasprintf(ACT_KV_STOP "%s", u->query_key);
        rc = store_kv_set(c->st, c->plan->repo_id, k, u->stop, err);
        free(k);
    }
    if (rc == DP_OK) {
        u->state = UNIT_DONE;
        c->stats->units_done++;
    }
    return rc;
}

static int run_unit(run_ctx *c, act_unit *u, dp_err *err)
{
    if (needs_gate(u)) {
        int go;
        if (gate(c, u, &go, err) != DP_OK) return DP_ERR;
        if (!go) {
            c->stats->units_skipped++;
            emit(c, u, NULL);
            return DP_OK;
        }
    }
    if (record_intents(c, u, err) != DP_OK) return DP_ERR;
    for (size_t i = 0; i < u->nsteps; i++) {
        if (c->o->gh.cancel && *c->o->gh.cancel) return dp_fail(err, "interrupted");
        act_step *s = &u->steps[i];
        if (s->state == STEP_DONE) continue;
        sent r = run_step(c, u, s, err);
        emit(c, u, s);
        if (r == SENT_STOP) return DP_ERR;
        if (r == SENT_FAILED) {
            u->state = UNIT_FAILED;
            act_unit_why(u, "%s #%s: %s", act_kind_name(s->kind), s->target, s->note ? s->note : "failed");
            c->stats->units_failed++;
            if (fail_rest(c, u, i + 1, err) != DP_OK) return DP_ERR;
            emit(c, u, NULL);
            return DP_OK;
        }
        if (s->call.method[0]) c->forbidden_run = 0;
    }
    return unit_done(c, u, err);
}

int act_run(store *st, act_plan *p, const act_opts *o, act_event_fn ev, void *ev_ctx, act_stats *stats,
            dp_err *err)
{
    memset(stats, 0, sizeof *stats);
    run_ctx c = {.st = st, .plan = p, .o = o, .ev = ev, .ev_ctx = ev_ctx, .stats = stats};
    int todo = 0;
    for (size_t i = 0; i < p->n; i++) todo |= p->v[i].state == UNIT_TODO;
    if (!todo) return DP_OK;
    char *mine = NULL;
    if (lock_take(st, p->repo_id, &mine, err) != DP_OK) return DP_ERR;
    int rc = gh_client_new(&o->gh, &c.gh, err);
    if (rc == DP_OK) {
        char *l = NULL;
        rc = store_kv_get(st, p->repo_id, ACT_KV_LOGIN, &l, err);
        if (rc == DP_NOTFOUND) rc = DP_OK;
        c.login = l && *l ? l : NULL;
        if (!c.login) free(l);
    }
    for (size_t i = 0; rc == DP_OK && i < p->n; i++) {
        if (p->v[i].state != UNIT_TODO) continue;
        if (o->gh.cancel && *o->gh.cancel) rc = dp_fail(err, "interrupted");
        else rc = run_unit(&c, &p->v[i], err);
    }
    gh_client_free(c.gh);
    free(c.login);
    lock_release(st, p->repo_id, mine);
    return rc;
}
