/* act.h -- carrying decisions out on GitHub.
 *
 * `doppel apply` turns the maintainer's stored verdicts into comments,
 * closures and labels; `doppel triage` and `doppel watch` answer new issues
 * with one comment listing likely duplicates. Both go the same way:
 *
 *   build a plan (act_plan_apply, act_plan_undo, act_plan_triage)
 *     -> print it (act_plan_print): every request in full, nothing sent
 *     -> only when asked, run it (act_run)
 *
 * A plan is a list of units (a verdict's pair, a triaged issue, an undo),
 * each a list of steps; a step is one GitHub request (or a decision that
 * needs none). Exactly once, across crashes:
 *  - Before a step is sent its request is recorded in the store as a
 *    pending action (store_action_add); GitHub's answer completes it.
 *  - A pending action found later (the run was killed, or the answer was
 *    unsure: a timeout, a cut connection, a 5xx) is reconciled before
 *    anything is sent again: GitHub is read -- the comment carrying the
 *    unit's hidden marker (act_marker), the issue's state and labels -- and
 *    the write is sent only if it did not happen.
 *  - One run at a time per repository (a lock in the store; a lock left by
 *    a killed process on this host is taken over).
 * Every action stays in the store as the audit (store_actions_load), and
 * act_plan_undo reverses one (reopen, delete the comment, remove the label).
 *
 * Safety rules (act_rules.c, pure and unit-tested): the item closed and the
 * one kept are chosen by act_choose; a closure is refused when it would
 * close an item into one that is itself closed as a duplicate, or form a
 * cycle (which covers closing both items of a pair into each other); and an
 * item with activity since the verdict (act_activity) is not closed -- the
 * verdict must be re-confirmed (act_confirm). Triage never closes anything.
 *
 * Errors come back in dp_err; nothing is printed (act_plan_print fills a
 * buffer, act_run reports through a callback). Not thread-safe.
 */
#ifndef DP_ACT_H
#define DP_ACT_H

#include <stddef.h>
#include <stdint.h>
#include "../store/store.h"
#include "../sync/github.h"

/* ---- rules (act_rules.c: pure) ------------------------------------------ */

/* The stable key of an unordered pair: both keys in order (numeric keys by
 * number, others as strings), joined by ':' -- "12:34". Owned. */
char *act_pair_key(const char *a, const char *b);
/* The pair key of a pair typed by a person: "Q:C" in either order, "#"
 * before a key allowed ("#34:#12" -> "12:34"). Owned; NULL when it is not
 * two keys joined by one ':'. */
char *act_pair_key_arg(const char *s);
/* The unit key of a triaged issue: "triage:56". Owned. */
char *act_triage_key(const char *issue);
/* The hidden marker doppel puts in the comment of a unit:
 * "<!-- doppel:pair=12:34 v1 -->" for a pair key, "<!-- doppel:triage v1 -->"
 * for a triage key. Owned. */
char *act_marker(const char *unit_key);
/* Finds doppel's marker in a comment body and returns the unit key it names
 * ("12:34", or "triage" for any triage marker), owned; NULL when the body
 * holds no well-formed marker. Only the exact syntax counts: keys of
 * [A-Za-z0-9._-], one ':' between two of them, " v1 -->" after. */
char *act_marker_parse(const char *body);

/* Which item of a pair is kept (canonical) and which is marked as its
 * duplicate (dup: it gets the comment, and is closed when open): the
 * pair's own `canonical` / `comment_on` when the judgment named one of the
 * two, else explain_canonical (the one rule analyze uses too). p may be
 * NULL; a and b are the pair's two items in any order. The strings in out
 * point into a and b. */
typedef struct act_choice {
    const char *canonical;   /* key kept */
    const char *dup;         /* key commented on (and closed when open) */
    const char *rule;        /* why, for the plan: "#12 was closed as fixed" */
    char rule_buf[192];
} act_choice;
void act_choose(const pair *p, const item *a, const item *b, act_choice *out);

/* The "closed as a duplicate of" relation doppel must not tangle: edges
 * dup -> canonical from the store's duplicate links and doppel's own
 * closures (done, pending or planned). */
typedef struct act_graph act_graph;
act_graph *act_graph_new(void);
void act_graph_free(act_graph *g);                  /* NULL ok */
void act_graph_add(act_graph *g, const char *dup, const char *canonical);
/* 1 when canonical is reachable from `from` along the edges. */
int act_graph_reaches(const act_graph *g, const char *from, const char *to);
/* Why closing dup as a duplicate of canon must not happen (a sentence
 * written into buf), or NULL when it may: the same item; canon deleted;
 * canon itself closed as a duplicate (of anything: chains hide cycles);
 * dup already has an edge to another item; or canon leads back to dup
 * (a cycle -- this covers the two items of one pair closed into each
 * other). */
const char *act_close_refusal(const act_graph *g, const item *dup, const item *canon, char *buf, size_t n);

/* 1 when an item updated at updated_at has had activity since a verdict
 * given at verdict_at, not counting doppel's own writes to it (the last
 * answered at own_write, server clock; 0 for none). */
int act_activity(int64_t updated_at, int64_t verdict_at, int64_t own_write);

/* Comment texts, marker included. Owned. */
char *act_text_duplicate(const char *canonical, const char *unit_key);
char *act_text_related(const char *other, const char *unit_key);

/* ---- plans ---------------------------------------------------------------- */

typedef enum {
    ACT_COMMENT,        /* post a comment */
    ACT_EDIT,           /* edit doppel's comment (triage) */
    ACT_CLOSE,          /* close as a duplicate */
    ACT_LABEL,          /* add a label */
    ACT_DECIDED,        /* no request: a decision recorded (not_related; triage stop) */
    ACT_REOPEN,         /* undo of a close */
    ACT_UNCOMMENT,      /* undo of a comment: delete it */
    ACT_UNLABEL         /* undo of a label */
} act_kind;
const char *act_kind_name(act_kind k);    /* as stored: "comment", "edit", ... */

typedef enum { STEP_NEW, STEP_PENDING, STEP_DONE, STEP_FAILED } act_step_state;

typedef struct act_step {
    act_kind kind;
    char *target;          /* key of the item written to; "" for ACT_DECIDED */
    char *arg;             /* kind-specific: canonical (comment, close), label (label, unlabel),
                              candidate keys (triage comment, edit), other key (decided) */
    char *text;            /* the comment text (comment, edit); NULL otherwise */
    gh_call call;          /* the request; method "" for ACT_DECIDED */
    int64_t gh_id;         /* the comment edited or deleted; set when one is created */
    int64_t row;           /* its action in the store; 0 until recorded */
    int64_t undo_of;       /* the action it reverses (undo, unlabel), else 0 */
    act_step_state state;
    int sent_here;         /* recorded by this run: no reconciling needed */
    char *note;            /* what happened, after a run */
} act_step;

typedef enum { UNIT_TODO, UNIT_DONE, UNIT_SKIPPED, UNIT_FAILED } act_unit_state;

typedef struct act_unit {
    char *source;          /* "apply", "triage", "undo" */
    char *key;             /* unit key: "12:34", "triage:56" */
    char *query_key, *cand_key;   /* the verdict's pair (triage: the issue, NULL) */
    char *verdict;         /* "duplicate", "related", "not_related", "suggest" */
    int64_t verdict_at;
    char *canonical, *dup; /* apply: the choice; NULL otherwise */
    char *gate;            /* the item closed: its activity since verdict_at stops the unit */
    char *stop;            /* triage: why the bot stops for this issue (set when the unit is done) */
    act_step *steps;
    size_t nsteps, cap;
    act_unit_state state;
    char *why;             /* skipped / failed / done: why; todo: the choice rule */
    int queued;            /* from the apply queue: leaves it once done */
} act_unit;

typedef struct act_plan {
    char *repo;            /* "owner/name" */
    int64_t repo_id;
    act_unit *v;
    size_t n, cap;
} act_plan;
void act_plan_free(act_plan *p);     /* NULL ok */

typedef struct act_opts {
    gh_config gh;          /* API URL, token, limits, cancel flag */
    const char *dup_label; /* added to a duplicate; NULL or "" = none */
    int queued_only;       /* apply only the verdicts in the apply queue */
    const strvec *only;    /* apply only these pair keys ("12:34"); NULL = all */
    int64_t now;           /* 0 = time(NULL) */
} act_opts;

/* The plan that carries out every verdict of repo (a GitHub repository)
 * not carried out yet, in verdict order. Reads only the store: what GitHub
 * looks like now is checked by act_run, which may skip more. */
int act_plan_apply(store *st, int64_t repo, const act_opts *o, act_plan *out, dp_err *err);
/* The plan that reverses action `id` (a done comment, closure or label):
 * DP_NOTFOUND when there is no such action, DP_ERR (with why) when it
 * cannot be undone. */
int act_plan_undo(store *st, int64_t id, act_plan *out, dp_err *err);
/* Re-confirms the verdict of pair key ("12:34", either order) as of now, so activity,
 * an undo or a failure before now no longer holds it back. DP_NOTFOUND
 * without a verdict. */
int act_confirm(store *st, int64_t repo, const char *pair_key, dp_err *err);

typedef struct act_counts {
    size_t todo, done, skipped, failed;        /* units */
    size_t writes[ACT_UNLABEL + 1];            /* requests still to send, by kind */
} act_counts;
void act_plan_count(const act_plan *p, act_counts *c);
/* The plan as text: every unit still to do with every request in full
 * (method, path, body; a comment's text as it will read), the skipped and
 * failed ones with why; done units only with verbose. */
void act_plan_print(const act_plan *p, int verbose, sbuf *out);

/* One line for an event of act_run (below): "12:34 close #34: HTTP 200",
 * or the unit's title and why when it was skipped or failed (s NULL).
 * Cleaned for a terminal, like act_plan_print. */
void act_event_print(const act_unit *u, const act_step *s, sbuf *out);

/* ---- running ------------------------------------------------------------- */

/* Called after each step that was sent, reconciled or failed, and after
 * each unit skipped or failed at run time. */
typedef void (*act_event_fn)(void *ctx, const act_unit *u, const act_step *s);

typedef struct act_stats {
    size_t writes;         /* requests sent that GitHub answered with success */
    size_t reconciled;     /* pending actions found already done on GitHub */
    size_t units_done, units_skipped, units_failed;
} act_stats;

/* Runs the plan's units that are to do. DP_ERR stops the run (store error,
 * bad token, interrupted, an outcome that stays unknown): whatever was
 * recorded as pending is reconciled by the next run. A unit that fails on
 * its own (a 404, a 422) is recorded as failed and the run goes on. */
int act_run(store *st, act_plan *p, const act_opts *o, act_event_fn ev, void *ctx, act_stats *stats,
            dp_err *err);

/* ---- triage (act_triage.c) ------------------------------------------------- */

typedef struct act_triage_opts {
    size_t k;                   /* candidates ranked; 0 = 10 */
    size_t max_shown;           /* listed in the comment at most; 0 = 5 */
    confidence_level min_confidence; /* the lowest level listed; 0 = CONFIDENCE_HIGH */
    int related;                /* also list related (not only duplicate) candidates */
    const char *label;          /* added with the comment ("possible-duplicate"); NULL/"" none */
    const char *stop_label;     /* a maintainer's "not a duplicate" label; NULL/"" none */
    int threads;                /* 0 = CPUs */
} act_triage_opts;

/* The triage plan for the issues `keys`. Reads GitHub for each (the
 * issue -- written into the store, so the ranking sees its latest text --,
 * its comments, the 👎 reactions on doppel's comment) and ranks the
 * candidates with the analyze library. One unit per issue: post the comment
 * or edit it in place, add or remove the label; or stop for good (a stop
 * label, a 👎 from the issue's author or a maintainer, doppel's comment
 * deleted), which also records not_related for the pairs it suggested. */
int act_plan_triage(store *st, int64_t repo, const strvec *keys, const act_opts *o, const act_triage_opts *t,
                    act_plan *out, dp_err *err);

/* `watch`: the issues to triage now -- open issues opened after the
 * watch started (its first run only records where it starts: *first_run = 1)
 * that changed in the store since the last run, issues already triaged that
 * changed, and issues doppel commented on in the last recheck_days (a 👎
 * does not change an issue, so it is only seen by looking). The cursor
 * moves past them with act_watch_commit, after a successful run. */
int act_watch_keys(store *st, int64_t repo, int recheck_days, strvec *keys, int *first_run, dp_err *err);
int act_watch_commit(store *st, int64_t repo, dp_err *err);

#endif
