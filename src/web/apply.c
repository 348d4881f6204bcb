/* apply.c -- the Apply view's server side: the queue's plan as JSON, its
 * confirm hash, and one run at a time on threads of its own. See apply.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <xxhash.h>

#include "apply.h"
#include "web_int.h"

typedef enum { RUN_IDLE, RUN_RUNNING, RUN_DONE, RUN_STOPPED, RUN_FAILED } run_phase;
static const char *const PHASE[] = {"idle", "running", "done", "stopped", "failed"};

struct web_applier {
    char *db_path;
    int write;
    gh_config gh;                 /* api_url and token point at the copies below */
    char *api_url, *token;
    char *label;                  /* NULL: none */
    unsigned max_s;

    pthread_mutex_t mu;           /* guards everything below */
    pthread_cond_t cv;            /* the run ended, or the applier is closing */
    volatile sig_atomic_t cancel; /* act_run's cancel flag: the deadline, or closing */
    int starting;                 /* a POST is checking its plan */
    int closing;
    int threads;                  /* run_thread and watch_thread to join */
    pthread_t run_thread, watch_thread;

    /* the current or last run */
    run_phase phase;
    int64_t repo;
    char *repo_name;
    int64_t started, finished;
    size_t planned, sent;         /* requests planned; steps reported so far */
    json_t *events;               /* at most WEB_APPLY_MAX_EVENTS */
    size_t dropped;
    act_stats stats;
    char *error;
    int deadline_hit;

    /* the run thread's, while it runs */
    store *st;
    act_plan plan;
};

web_applier *web_applier_new(const web_apply_cfg *cfg)
{
    web_applier *a = xcalloc(1, sizeof *a);
    a->db_path = xstrdup(cfg->db_path);
    a->write = cfg->write && cfg->gh;
    if (cfg->gh) {
        a->gh = *cfg->gh;
        a->api_url = xstrdup(cfg->gh->api_url);
        a->token = xstrdup(cfg->gh->token);
        a->gh.api_url = a->api_url;
        a->gh.token = a->token;
    }
    a->gh.cancel = &a->cancel;
    a->label = cfg->dup_label && *cfg->dup_label ? xstrdup(cfg->dup_label) : NULL;
    a->max_s = cfg->max_s ? cfg->max_s : WEB_APPLY_MAX_S;
    pthread_mutex_init(&a->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &ca);
    pthread_condattr_destroy(&ca);
    a->events = json_array();
    return a;
}

/* Joins the threads of a run that has ended (or is being stopped); mu not held. */
static void join_run(web_applier *a)
{
    pthread_mutex_lock(&a->mu);
    int have = a->threads;
    a->threads = 0;
    pthread_mutex_unlock(&a->mu);
    if (!have) return;
    pthread_join(a->run_thread, NULL);
    pthread_join(a->watch_thread, NULL);
}

void web_applier_free(web_applier *a)
{
    if (!a) return;
    pthread_mutex_lock(&a->mu);
    a->closing = 1;
    if (a->phase == RUN_RUNNING) a->cancel = 1;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    join_run(a);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    if (a->token) memset(a->token, 0, strlen(a->token));
    free(a->token);
    free(a->api_url);
    free(a->label);
    free(a->db_path);
    free(a->repo_name);
    free(a->error);
    json_decref(a->events);
    free(a);
}

int web_apply_running(web_applier *a)
{
    pthread_mutex_lock(&a->mu);
    int r = a->phase == RUN_RUNNING || a->starting;
    pthread_mutex_unlock(&a->mu);
    return r;
}

/* ---- the plan ------------------------------------------------------------- */

static const char *const STEP_STATE[] = {"new", "pending", "done", "failed"};
static const char *const UNIT_STATE[] = {"todo", "done", "skipped", "failed"};

/* The plan of repo's queue, its text (what `doppel apply --queued`
 * prints) and its confirm hash (32 hex digits). */
static int plan_make(web_applier *a, store *st, int64_t repo, act_plan *p, sbuf *text, char hash[33],
                     dp_err *err)
{
    act_opts o = {.dup_label = a->label, .queued_only = 1};
    if (act_plan_apply(st, repo, &o, p, err) != DP_OK) return DP_ERR;
    sb_init(text);
    act_plan_print(p, 0, text);
    sbuf h;
    sb_init(&h);
    sb_printf(&h, "repo=%lld\nlabel=%s\n", (long long)repo, a->label ? a->label : "");
    sb_add(&h, text->s ? text->s : "", text->len);
    XXH128_hash_t v = XXH3_128bits(h.s, h.len);
    sb_free(&h);
    snprintf(hash, 33, "%016llx%016llx", (unsigned long long)v.high64, (unsigned long long)v.low64);
    return DP_OK;
}

static json_t *step_json(const act_step *s)
{
    json_t *j = json_object();
    json_object_set_new(j, "kind", json_string(act_kind_name(s->kind)));
    json_object_set_new(j, "target", explain_jstr(s->target && *s->target ? s->target : NULL));
    json_object_set_new(j, "arg", explain_jstr(s->arg));
    json_object_set_new(j, "text", explain_jstr(s->text));
    json_object_set_new(j, "method", explain_jstr(s->call.method[0] ? s->call.method : NULL));
    json_object_set_new(j, "path", explain_jstr(s->call.path));
    json_object_set_new(j, "body", explain_jstr(s->call.body));
    json_object_set_new(j, "state", json_string(STEP_STATE[s->state]));
    json_object_set_new(j, "action", s->row ? json_integer(s->row) : json_null());
    return j;
}

/* One side of a unit: how the page names and links it. */
static int side_json(store *st, const repo_info *r, const char *key, json_t **out, dp_err *err)
{
    item it;
    item_init(&it);
    int rc = store_item_get(st, r->id, key, &it, err);
    if (rc == DP_ERR) return DP_ERR;
    *out = web_item_summary(r, r->id, key, rc == DP_OK ? &it : NULL);
    item_free(&it);
    return DP_OK;
}

static int unit_json(store *st, const repo_info *r, const act_unit *u, json_t **out, dp_err *err)
{
    json_t *j = json_object(), *q = NULL, *c = NULL;
    *out = j;
    json_object_set_new(j, "key", explain_jstr(u->key));
    json_object_set_new(j, "verdict", explain_jstr(u->verdict));
    json_object_set_new(j, "verdict_at", explain_jtime(u->verdict_at));
    json_object_set_new(j, "state", json_string(UNIT_STATE[u->state]));
    json_object_set_new(j, "why", explain_jstr(u->why));
    json_object_set_new(j, "canonical", explain_jstr(u->canonical));
    json_object_set_new(j, "dup", explain_jstr(u->dup));
    if (side_json(st, r, u->query_key, &q, err) != DP_OK) return DP_ERR;
    json_object_set_new(j, "query", q);
    if (side_json(st, r, u->cand_key, &c, err) != DP_OK) return DP_ERR;
    json_object_set_new(j, "cand", c);
    pair p;
    memset(&p, 0, sizeof p);
    int rc = store_pair_find(st, r->id, u->query_key, u->cand_key, &p, err);
    if (rc == DP_ERR) return DP_ERR;
    json_object_set_new(j, "pair_id", rc == DP_OK ? json_integer(p.id) : json_null());
    pair_free(&p);
    json_t *steps = json_array();
    for (size_t i = 0; i < u->nsteps; i++) json_array_append_new(steps, step_json(&u->steps[i]));
    json_object_set_new(j, "steps", steps);
    return DP_OK;
}

static json_t *counts_json(const act_plan *p)
{
    act_counts c;
    act_plan_count(p, &c);
    size_t req = 0;
    for (int k = 0; k <= ACT_UNLABEL; k++) req += k == ACT_DECIDED ? 0 : c.writes[k];
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "todo", (json_int_t)c.todo, "done", (json_int_t)c.done,
                     "skipped", (json_int_t)c.skipped, "failed", (json_int_t)c.failed, "requests", (json_int_t)req,
                     "comments", (json_int_t)c.writes[ACT_COMMENT], "closures", (json_int_t)c.writes[ACT_CLOSE],
                     "labels", (json_int_t)c.writes[ACT_LABEL]);
}

/* ---- the run --------------------------------------------------------------- */

/* The run as JSON; mu held. */
static json_t *run_json_locked(web_applier *a)
{
    json_t *j = json_object();
    json_object_set_new(j, "state", json_string(PHASE[a->phase]));
    json_object_set_new(j, "repo", a->repo ? json_pack("{s:I,s:o}", "id", (json_int_t)a->repo, "name",
                                                       explain_jstr(a->repo_name))
                                           : json_null());
    json_object_set_new(j, "started_at", explain_jtime(a->started));
    json_object_set_new(j, "finished_at", explain_jtime(a->finished));
    json_object_set_new(j, "max_s", json_integer(a->max_s));
    json_object_set_new(j, "planned", json_integer((json_int_t)a->planned));
    json_object_set_new(j, "sent", json_integer((json_int_t)a->sent));
    json_object_set_new(j, "events", json_incref(a->events));
    json_object_set_new(j, "dropped", json_integer((json_int_t)a->dropped));
    json_object_set_new(j, "stats", json_pack("{s:I,s:I,s:I,s:I,s:I}", "writes", (json_int_t)a->stats.writes,
                                              "reconciled", (json_int_t)a->stats.reconciled, "done",
                                              (json_int_t)a->stats.units_done, "skipped",
                                              (json_int_t)a->stats.units_skipped, "failed",
                                              (json_int_t)a->stats.units_failed));
    json_object_set_new(j, "error", explain_jstr(a->error));
    return j;
}

/* Replies with j, whose "run" member is added under the lock (the events
 * array is shared with the run thread: it is encoded while it cannot grow). */
static void reply_with_run(web_applier *a, web_reply *out, int status, json_t *j)
{
    pthread_mutex_lock(&a->mu);
    json_object_set_new(j, "run", run_json_locked(a));
    web_reply_json(out, status, j);
    pthread_mutex_unlock(&a->mu);
}

void web_apply_run_get(web_applier *a, web_reply *out)
{
    memset(out, 0, sizeof *out);
    reply_with_run(a, out, 200, json_object());
}

/* act_run's events, from the run thread. */
static void on_event(void *ctx, const act_unit *u, const act_step *s)
{
    web_applier *a = ctx;
    sbuf line;
    sb_init(&line);
    act_event_print(u, s, &line);
    while (line.len && line.s[line.len - 1] == '\n') line.s[--line.len] = 0;
    json_t *e = json_pack("{s:o,s:o,s:o,s:o,s:o}", "unit", explain_jstr(u->key), "kind",
                          s ? json_string(act_kind_name(s->kind)) : json_null(), "target",
                          explain_jstr(s && s->target[0] ? s->target : NULL), "state",
                          json_string(s ? STEP_STATE[s->state] : UNIT_STATE[u->state]), "line",
                          explain_jstr(sb_str(&line)));
    sb_free(&line);
    pthread_mutex_lock(&a->mu);
    if (s) a->sent++;
    if (json_array_size(a->events) < WEB_APPLY_MAX_EVENTS) json_array_append_new(a->events, e);
    else a->dropped++, json_decref(e);
    pthread_mutex_unlock(&a->mu);
}

static void *run_main(void *ud)
{
    web_applier *a = ud;
    act_opts o = {.gh = a->gh, .dup_label = a->label, .queued_only = 1};
    act_stats stats;
    dp_err err = {{0}};
    int rc = act_run(a->st, &a->plan, &o, on_event, a, &stats, &err);
    /* Pairs carried out before this run (by the command line, say) leave
     * the queue too: act_run only takes out those it finished. */
    dp_err qerr;
    for (size_t i = 0; i < a->plan.n; i++) {
        const act_unit *u = &a->plan.v[i];
        if (u->state == UNIT_DONE && u->queued)
            store_queue_del(a->st, a->plan.repo_id, u->query_key, u->cand_key, &qerr);
    }
    act_plan_free(&a->plan);
    store_close(a->st);
    a->st = NULL;
    pthread_mutex_lock(&a->mu);
    a->stats = stats;
    a->finished = (int64_t)time(NULL);
    if (rc == DP_OK) {
        a->phase = RUN_DONE;
    } else {
        a->phase = a->cancel ? RUN_STOPPED : RUN_FAILED;
        char *msg = gh_redact_text(err.msg, a->token);
        if (a->deadline_hit)
            a->error = xasprintf("stopped after %u s (the limit of one run); the pairs not done stay queued: "
                                 "apply again to go on", a->max_s);
        else if (a->cancel)
            a->error = xstrdup("stopped: the server is shutting down; the pairs not done stay queued");
        else a->error = xasprintf("%s; the pairs not done stay queued: apply again to finish", msg);
        free(msg);
    }
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* Stops the run at its deadline (the run thread is inside act_run, which
 * checks the cancel flag between steps and libcurl about once a second). */
static void *watch_main(void *ud)
{
    web_applier *a = ud;
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += a->max_s;
    pthread_mutex_lock(&a->mu);
    while (a->phase == RUN_RUNNING && !a->closing) {
        if (pthread_cond_timedwait(&a->cv, &a->mu, &end) == ETIMEDOUT && a->phase == RUN_RUNNING) {
            a->deadline_hit = 1;
            a->cancel = 1;
            break;
        }
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* ---- the routes ----------------------------------------------------------- */

static int is_github(const repo_info *r)
{
    return r->kind && !strcmp(r->kind, "github") && r->name && strchr(r->name, '/');
}

static void set_write_info(web_applier *a, json_t *j)
{
    json_object_set_new(j, "write", json_boolean(a->write));
    json_object_set_new(j, "write_hint",
                        a->write ? json_null()
                                 : json_string("Writing to GitHub is off: this plan is read-only. To apply it from "
                                               "this page, restart the server with `doppel serve --write` and a "
                                               "token in GITHUB_TOKEN (or GH_TOKEN); or run `doppel apply --queued "
                                               "--yes`."));
    json_object_set_new(j, "label", explain_jstr(a->label));
}

static int get_plan(web_applier *a, store *st, const web_param *p, size_t n, web_reply *out, dp_err *err)
{
    repo_info *rs = NULL;
    size_t nr = 0;
    if (store_repo_list(st, &rs, &nr, err) != DP_OK) return DP_ERR;
    const char *want = web_param_get(p, n, "repo");
    int64_t want_id = want ? web_parse_id(want) : 0;
    json_t *repos = json_array();
    const repo_info *pick = NULL, *first = NULL, *queued = NULL;
    int rc = DP_OK;
    for (size_t i = 0; i < nr && rc == DP_OK; i++) {
        if (!is_github(&rs[i])) continue;
        strvec q = {0}, c = {0};
        rc = store_queue_list(st, rs[i].id, &q, &c, err);
        json_array_append_new(repos, json_pack("{s:I,s:o,s:o,s:I}", "id", (json_int_t)rs[i].id, "name",
                                               explain_jstr(rs[i].name), "url", explain_jstr(rs[i].url), "queued",
                                               (json_int_t)q.n));
        if (!first) first = &rs[i];
        if (!queued && q.n) queued = &rs[i];
        if (want && rs[i].id == want_id) pick = &rs[i];
        sv_free(&q);
        sv_free(&c);
    }
    if (!want) pick = queued ? queued : first;
    json_t *j = json_object();
    json_object_set_new(j, "repos", repos);
    set_write_info(a, j);
    if (rc == DP_OK && want && !pick) {
        json_decref(j);
        web_reply_error(out, 404, "no GitHub repository with that id");
    } else if (rc == DP_OK) {
        act_plan plan = {0};
        sbuf text = {0};
        char hash[33] = "";
        json_t *units = json_array();
        if (pick) rc = plan_make(a, st, pick->id, &plan, &text, hash, err);
        for (size_t i = 0; rc == DP_OK && i < plan.n; i++) {
            json_t *u;
            rc = unit_json(st, pick, &plan.v[i], &u, err);
            json_array_append_new(units, u);
        }
        json_object_set_new(j, "repo", pick ? json_pack("{s:I,s:o,s:o}", "id", (json_int_t)pick->id, "name",
                                                        explain_jstr(pick->name), "url", explain_jstr(pick->url))
                                            : json_null());
        json_object_set_new(j, "units", units);
        json_object_set_new(j, "counts", counts_json(&plan));
        json_object_set_new(j, "text", explain_jstr(sb_str(&text)));
        json_object_set_new(j, "hash", pick ? json_string(hash) : json_null());
        act_plan_free(&plan);
        sb_free(&text);
        if (rc == DP_OK) reply_with_run(a, out, 200, j);
        else json_decref(j);
    } else {
        json_decref(j);
    }
    for (size_t i = 0; i < nr; i++) repo_info_free(&rs[i]);
    free(rs);
    return rc;
}

int web_apply_get(web_applier *a, store *st, const web_param *p, size_t n, web_reply *out, dp_err *err)
{
    memset(out, 0, sizeof *out);
    /* One snapshot: the queue, the verdicts and the audit agree. */
    if (store_read_begin(st, err) != DP_OK) return DP_ERR;
    int rc = get_plan(a, st, p, n, out, err);
    store_read_end(st);
    return rc;
}

/* The body of a POST: {"repo": ID, "confirm": "32 hex digits"}. */
static int parse_post(const char *body, size_t len, int64_t *repo, char hash[33])
{
    json_error_t jerr;
    json_t *doc = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *r = json_object_get(doc, "repo"), *c = json_object_get(doc, "confirm");
    int ok = json_is_object(doc) && json_is_integer(r) && json_integer_value(r) > 0 && json_is_string(c) &&
             strlen(json_string_value(c)) == 32 && strspn(json_string_value(c), "0123456789abcdef") == 32;
    if (ok) {
        *repo = json_integer_value(r);
        memcpy(hash, json_string_value(c), 33);
    }
    json_decref(doc);
    return ok;
}

/* Checks the plan against the hash and hands it to a new run; mu not held,
 * a->starting set by the caller. Returns the reply's status. */
static int start_run(web_applier *a, int64_t repo, const char *want, json_t *j, dp_err *err)
{
    store *st;
    if (store_open(a->db_path, &st, err) != DP_OK) return 500;
    repo_info *rs = NULL;
    size_t nr = 0;
    const repo_info *r = NULL;
    int status = 500;
    if (store_repo_list(st, &rs, &nr, err) == DP_OK) {
        for (size_t i = 0; i < nr; i++)
            if (rs[i].id == repo && is_github(&rs[i])) r = &rs[i];
        status = r ? 0 : 404;
    }
    act_plan plan = {0};
    sbuf text = {0};
    char hash[33];
    if (!status && plan_make(a, st, repo, &plan, &text, hash, err) != DP_OK) status = 500;
    sb_free(&text);
    act_counts c;
    act_plan_count(&plan, &c);
    if (status == 404) {
        json_object_set_new(j, "error", json_string("no GitHub repository with that id"));
    } else if (!status && strcmp(hash, want)) {
        status = 409;
        json_object_set_new(j, "error", json_string("the plan changed since it was shown (a verdict or the "
                                                    "queue changed, or pairs were applied meanwhile): review "
                                                    "the new plan and confirm it again; nothing was sent"));
        json_object_set_new(j, "hash", json_string(hash));
    } else if (!status && !c.todo) {
        status = 409;
        json_object_set_new(j, "error", json_string("the plan has nothing to do"));
    } else if (!status) {
        pthread_mutex_lock(&a->mu);
        a->phase = RUN_RUNNING;
        a->repo = repo;
        free(a->repo_name);
        a->repo_name = xstrdup(r->name);
        a->started = (int64_t)time(NULL);
        a->finished = 0;
        a->planned = 0;
        for (int k = 0; k <= ACT_UNLABEL; k++) a->planned += k == ACT_DECIDED ? 0 : c.writes[k];
        a->sent = a->dropped = 0;
        json_array_clear(a->events);
        memset(&a->stats, 0, sizeof a->stats);
        free(a->error);
        a->error = NULL;
        a->deadline_hit = 0;
        a->cancel = 0;
        a->st = st;
        a->plan = plan;
        st = NULL;
        memset(&plan, 0, sizeof plan);
        /* The watch first: a run must never go without its deadline. */
        int ok = pthread_create(&a->watch_thread, NULL, watch_main, a) == 0;
        int watching = ok;
        if (ok) ok = pthread_create(&a->run_thread, NULL, run_main, a) == 0;
        if (!ok) {
            a->phase = RUN_FAILED;
            a->error = xstrdup("cannot start a thread for the run");
            plan = a->plan;   /* freed below */
            st = a->st;
            memset(&a->plan, 0, sizeof a->plan);
            a->st = NULL;
            pthread_cond_broadcast(&a->cv);
            pthread_mutex_unlock(&a->mu);
            if (watching) pthread_join(a->watch_thread, NULL);
            pthread_mutex_lock(&a->mu);
        }
        a->threads = ok;
        status = ok ? 202 : 500;
        if (!ok) dp_fail(err, "cannot start a thread for the run");
        pthread_mutex_unlock(&a->mu);
    }
    act_plan_free(&plan);
    store_close(st);
    for (size_t i = 0; i < nr; i++) repo_info_free(&rs[i]);
    free(rs);
    return status;
}

int web_apply_post(web_applier *a, const char *body, size_t len, web_reply *out, dp_err *err)
{
    memset(out, 0, sizeof *out);
    int64_t repo;
    char hash[33];
    if (!a->write) {
        json_t *j = json_pack("{s:s}", "error", "writing to GitHub is off: start the server with --write and a token");
        set_write_info(a, j);
        web_reply_json(out, 403, j);
        return DP_OK;
    }
    if (!parse_post(body, len, &repo, hash)) {
        web_reply_error(out, 400, "expected {\"repo\": ID, \"confirm\": \"the plan's hash\"}");
        return DP_OK;
    }
    pthread_mutex_lock(&a->mu);
    int busy = a->phase == RUN_RUNNING || a->starting || a->closing;
    if (!busy) a->starting = 1;
    pthread_mutex_unlock(&a->mu);
    if (busy) {
        reply_with_run(a, out, 409, json_pack("{s:s}", "error", "an apply is already running"));
        return DP_OK;
    }
    join_run(a);   /* the last run's threads have ended: reap them */
    json_t *j = json_object();
    int status = start_run(a, repo, hash, j, err);
    pthread_mutex_lock(&a->mu);
    a->starting = 0;
    pthread_mutex_unlock(&a->mu);
    if (status == 500) {
        json_decref(j);
        web_reply_error(out, 500, "store error");
        return DP_ERR;
    }
    reply_with_run(a, out, status, j);
    return DP_OK;
}
