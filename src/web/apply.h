/* apply.h -- the Apply view's server side: the plan of the apply queue and
 * running it (internal to src/web; server.c is its only user, the unit
 * tests call it directly).
 *
 * The plan is act's (act_plan_apply with queued_only): what `doppel apply
 * --queued` would print, request by request, shown as JSON and as that
 * text. Its hash -- of the repository, the label and the text -- is the
 * confirm token: POST /api/apply runs the plan only when the hash it sends
 * is the hash of the plan as it is now, so a stale page (a verdict changed,
 * a pair queued or applied meanwhile, from this page, another tab or the
 * command line) or an altered request is refused with 409 and nothing is
 * sent.
 *
 * Writing is off unless the configuration says write (the server was
 * started with --write and a token); then the plan is read-only and the
 * reply says how to turn writing on. A run happens on a thread of its own
 * with its own read-write store handle (act_run: exactly once, resumable,
 * audited), one at a time in this process (act's lock keeps a `doppel
 * apply` of the same repository out), and stops after max_s seconds: the
 * pairs not done stay queued for the next run. Its progress -- one event per
 * request sent, reconciled or failed -- is kept (bounded) for GET
 * /api/apply/run. The token is in no reply and no log: the run's error
 * message passes through gh_redact_text.
 * Threads: every function may be called from any thread. */
#ifndef DP_WEB_APPLY_H
#define DP_WEB_APPLY_H

#include "../act/act.h"
#include "web.h"

typedef struct web_apply_cfg {
    const char *db_path;        /* the run opens its own read-write handle */
    int write;                  /* 1: POST /api/apply sends the plan */
    const gh_config *gh;        /* API URL, token, limits (copied); NULL when not write.
                                   Its cancel flag is ignored: the applier has its own */
    const char *dup_label;      /* label added to a duplicate; NULL or "" = none */
    unsigned max_s;             /* a run stops after this; 0 = WEB_APPLY_MAX_S */
} web_apply_cfg;

typedef struct web_applier web_applier;

web_applier *web_applier_new(const web_apply_cfg *cfg);
/* Stops a run in flight (as an interruption: what it recorded is finished
 * by the next run) and waits for it. NULL ok. */
void web_applier_free(web_applier *a);

/* GET /api/apply[?repo=ID]: the GitHub repositories with their queue
 * lengths, the plan of one (the given one, else the first with a queue,
 * else the first), its text and hash, whether writing is on, and the run.
 * st may be read-only. DP_ERR only when the store failed. */
int web_apply_get(web_applier *a, store *st, const web_param *p, size_t n, web_reply *out, dp_err *err);
/* POST /api/apply {"repo": ID, "confirm": HASH}: 202 and the run when it
 * started; 403 when writing is off; 409 when the hash is not the current
 * plan's, the plan has nothing to do or a run is in flight; 400 for a
 * malformed body. */
int web_apply_post(web_applier *a, const char *body, size_t len, web_reply *out, dp_err *err);
/* GET /api/apply/run: the current or last run. */
void web_apply_run_get(web_applier *a, web_reply *out);
/* 1 while a run is in flight. */
int web_apply_running(web_applier *a);

#endif
