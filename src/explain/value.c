/* value.c -- the triage value of a pair: how much a maintainer gains by
 * acting on it now. The formula is documented in explain.h; this file keeps
 * the constants in one place so the README and the code cannot drift. */
#include <math.h>
#include <stdint.h>
#include <strings.h>

#include "explain.h"

#define V_OPEN_FIXED 3.0     /* open item whose twin was closed as fixed */
#define V_OPEN_OPEN 2.0      /* two open items splitting one discussion */
#define V_OPEN_CLOSED 1.5    /* open item whose twin was closed otherwise */
#define V_CLOSED_MIN 0.2     /* two closed items, long ago */
#define V_CLOSED_FRESH 0.6   /* ... plus this much when recently touched */
#define V_STALE_DAYS 180.0   /* decay constant of the above */
#define V_ENGAGE 0.15        /* weight of ln(1 + comments + reactions) */
#define V_KNOWN 0.05         /* already linked: not news; below any closed pair */

static int64_t last_touch(const item *it)
{
    int64_t t = it->updated_at;
    if (it->closed_at > t) t = it->closed_at;
    if (it->created_at > t) t = it->created_at;
    return t;
}

/* The state factor and a short name for the situation. */
static double state_factor(const item *q, const item *c, int64_t now, const char **why)
{
    int qo = item_is_open(q), co = item_is_open(c);
    if (qo && co) {
        *why = "both open";
        return V_OPEN_OPEN;
    }
    if (qo || co) {
        const item *closed = qo ? c : q;
        if (item_closed_fixed(closed)) {
            *why = "open vs closed as fixed";
            return V_OPEN_FIXED;
        }
        *why = "open vs closed otherwise";
        return V_OPEN_CLOSED;
    }
    int64_t t = last_touch(q) > last_touch(c) ? last_touch(q) : last_touch(c);
    double age = now > t && t > 0 ? (double)(now - t) / 86400.0 : 0.0;
    *why = "both closed";
    return V_CLOSED_MIN + V_CLOSED_FRESH * exp(-age / V_STALE_DAYS);
}

double explain_value(const item *q, const item *c, double prob, int known, int64_t now,
                     sbuf *detail)
{
    const char *why;
    double s = state_factor(q, c, now, &why);
    double act = (double)q->ncomments + c->ncomments + q->reactions + c->reactions;
    if (act < 0) act = 0;
    double e = 1.0 + V_ENGAGE * log1p(act);
    double k = known ? V_KNOWN : 1.0;
    if (prob < 0) prob = 0;
    if (prob > 1) prob = 1;
    double v = prob * s * e * k;
    if (detail) {
        sb_printf(detail, "probability: %.3f\n", prob);
        sb_printf(detail, "state (%s): %.3f\n", why, s);
        sb_printf(detail, "engagement (%.0f comments+reactions): %.3f\n", act, e);
        if (known) sb_printf(detail, "already linked: %.3f\n", k);
        sb_printf(detail, "value: %.3f", v);
    }
    return v;
}
