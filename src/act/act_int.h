/* act_int.h -- internals shared by the act_*.c files (not a contract:
 * only src/act includes it). */
#ifndef DP_ACT_INT_H
#define DP_ACT_INT_H

#include <stdarg.h>

#include "act.h"

/* Appends a zeroed unit / step; the plan and unit own them. */
act_unit *act_unit_push(act_plan *p);
act_step *act_step_push(act_unit *u, act_kind kind, const char *target);

/* Fills a step from its stored action (state, row, gh_id). */
void act_step_from_row(act_step *s, const store_action *a);

/* Replaces *dst (owned, may be NULL) with a formatted string. */
void act_set_text(char **dst, const char *fmt, va_list ap);
/* Sets u->why, replacing the old one. */
void act_unit_why(act_unit *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The repository of a plan: name and id, and DP_ERR unless it is a GitHub
 * repository ("owner/name"); act works on nothing else. */
int act_repo(store *st, int64_t repo, act_plan *out, dp_err *err);

/* The request body's "body" string (a comment text), owned; NULL if none. */
char *act_call_text(const char *json_body);

/* 1 when the item carries label (names compare case-insensitively); 0 for
 * a NULL or empty label. */
int act_has_label(const item *it, const char *label);
/* 1 when k is an issue number as GitHub writes it (digits, no leading zero). */
int act_issue_key(const char *k);

/* Keys of the candidates listed in a triage comment ("- #12 ..." lines),
 * appended to keys. */
void act_triage_listed(const char *body, strvec *keys);

/* The store key of the per-repository run lock and of doppel's GitHub login
 * (learnt from the comments it creates). */
#define ACT_KV_LOCK "act.lock"
#define ACT_KV_LOGIN "act.login"
/* "triage.stop.<key>": why the bot stopped for an issue. */
#define ACT_KV_STOP "triage.stop."

#endif
