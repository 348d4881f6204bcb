/* web_int.h -- helpers the API files share (api.c, apply.c, similar.c;
 * defined in api.c). Internal to src/web: not a contract. */
#ifndef DP_WEB_INT_H
#define DP_WEB_INT_H

#include <jansson.h>

#include "web.h"
#include "../explain/report.h"   /* explain_jstr, explain_jtime, the item and pair JSON */

/* Fills out with obj encoded (compact), taking obj's reference. */
void web_reply_json(web_reply *out, int status, json_t *obj);
/* {"error": msg} */
void web_reply_error(web_reply *out, int status, const char *msg);
/* The value of the first parameter called name, or NULL when it is absent
 * or empty. */
const char *web_param_get(const web_param *p, size_t n, const char *name);
/* A strict positive decimal id ("12"; not "012", "-1", "1x"); 0 when s is
 * not one. */
int64_t web_parse_id(const char *s);
/* How the page names and links an item of repository r (id repo_id):
 * repo, key, display ("#12", "HIVE-3"), url, and -- unless it is NULL, when
 * the object says "missing" -- number, kind, title, state, state_reason. */
json_t *web_item_summary(const repo_info *r, int64_t repo_id, const char *key, const item *it);

#endif
