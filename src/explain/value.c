/* value.c -- the triage value of a pair (how much a maintainer gains by
 * acting on it now) and the canonical item of a duplicate cluster. The
 * formula is documented in explain.h; this file keeps the constants in one
 * place so the README and the code cannot drift. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "explain.h"

/* Two open items splitting one discussion are the clearest gain: merge
 * them. A new report whose twin was already fixed is worth a little less:
 * pointing at the fix closes it, but a recent fix that is reported again
 * is as often a recurrence or an incomplete fix as a true duplicate. */
#define V_OPEN_OPEN 2.0      /* duplicate: two open items splitting one discussion */
#define V_OPEN_FIXED 1.5     /* duplicate: an open item whose twin was closed as fixed */
#define V_OPEN_CLOSED 1.2    /* duplicate: an open item whose twin was closed otherwise */
#define V_REGRESSION 1.0     /* a new report of something fixed long ago: ask, maybe reopen */
#define V_RELATED 0.6        /* related: link them */
#define V_NONE 0.1           /* not related: only worth a look when nothing else is left */
#define V_CLOSED 0.3         /* both closed: this share of the open stake ... */
#define V_STALE_DAYS 180.0   /* ... decaying with this time constant */
#define V_ENGAGE 0.15        /* weight of ln(1 + comments + reactions) */
#define V_KNOWN_DUP 0.05     /* already linked as duplicates: not news */
#define V_KNOWN_LINK 0.25    /* already linked otherwise */
#define V_ACTIVITY_LEAD 2.0  /* a newer open item must have this much more activity ... */
#define V_ACTIVITY_MIN 3     /* ... and at least this many more comments+reactions to win */

static int64_t last_touch(const item *it)
{
    int64_t t = it->updated_at;
    if (it->closed_at > t) t = it->closed_at;
    if (it->created_at > t) t = it->created_at;
    return t;
}

/* The stake of acting on the relation shown, and a short name for the
 * situation. */
static double stake(const item *q, const item *c, const match_judgment *jd, const char **why)
{
    int qo = item_is_open(q), co = item_is_open(c);
    if (jd->relation == RELATION_NONE) {
        *why = "not related";
        return V_NONE;
    }
    if (jd->relation == RELATION_RELATED && jd->regression) {
        *why = "possible regression of a fixed item";
        return V_REGRESSION;
    }
    if (jd->relation == RELATION_RELATED) {
        *why = "related";
        return V_RELATED;
    }
    if (qo && co) {
        *why = "both open";
        return V_OPEN_OPEN;
    }
    const item *closed = qo ? c : q;
    if (item_closed_fixed(closed)) {
        *why = "open vs closed as fixed";
        return V_OPEN_FIXED;
    }
    *why = "open vs closed otherwise";
    return V_OPEN_CLOSED;
}

/* One "factor: x.xxx" line of the breakdown: head, then (when why is not
 * NULL) why and "): ", then v to 3 places, then tail. */
static void detail_line(sbuf *sb, const char *head, const char *why, double v, const char *tail)
{
    sb_adds(sb, head);
    if (why) {
        sb_adds(sb, why);
        sb_adds(sb, "): ");
    }
    explain_add_fixed(sb, v, 3);
    sb_adds(sb, tail);
}

double explain_value(const item *q, const item *c, const match_judgment *jd, const item *act_on,
                     int link, int64_t now, sbuf *detail)
{
    const char *why;
    double s = stake(q, c, jd, &why);
    double decay = 1.0;
    if (!act_on) act_on = q;
    if ((!item_is_open(q) && !item_is_open(c)) ||
        (jd->relation == RELATION_DUPLICATE && !item_is_open(act_on))) {
        int64_t t = last_touch(q) > last_touch(c) ? last_touch(q) : last_touch(c);
        double age = now > t && t > 0 ? (double)(now - t) / 86400.0 : 0.0;
        decay = V_CLOSED * exp(-age / V_STALE_DAYS);
    }
    double act = (double)q->ncomments + c->ncomments + q->reactions + c->reactions;
    if (act < 0) act = 0;
    double e = 1.0 + V_ENGAGE * log1p(act);
    double k = link == 2 ? V_KNOWN_DUP : link == 1 ? V_KNOWN_LINK : 1.0;
    /* the evidence's strength among all pairs shown, times the confidence
     * in the relation shown (not related: that they are related at all) */
    double conf = jd->relation == RELATION_NONE ? jd->p_any : jd->p_shown;
    double p = jd->strength * conf;
    if (!(p > 0)) p = 0;
    if (p > 1) p = 1;
    double v = p * s * decay * e * k;
    if (detail) {
        detail_line(detail, "evidence strength: ", NULL, jd->strength, "\n");
        detail_line(detail, "confidence in the relation: ", NULL, conf, "\n");
        detail_line(detail, "stake (", why, s, "\n");
        if (decay < 1.0) detail_line(detail, "both closed, by age: ", NULL, decay, "\n");
        sb_adds(detail, "engagement (");
        explain_add_fixed(detail, act, 0);
        detail_line(detail, " comments+reactions", "", e, "\n");
        if (link) detail_line(detail, link == 2 ? "already linked as duplicates: " : "already linked: ", NULL, k, "\n");
        detail_line(detail, "value: ", NULL, v, "");
    }
    return v;
}

/* ---- numbers as printf writes them -------------------------------------- */

void explain_add_fixed(sbuf *sb, double v, int digits)
{
    static const double pow10[] = {1, 10, 100, 1000, 1e4, 1e5, 1e6};
    double a = fabs(v);
    if (digits < 0 || digits > 6 || !(a < 1e6)) {   /* NaN fails the test too */
        sb_printf(sb, "%.*f", digits, v);
        return;
    }
    /* y < 1e12 < 2^52: the product is off the exact one by at most
     * ulp(y) / 2 <= y * 2^-53, and y - floor(y) is exact; twice that bound
     * away from the half, both round alike */
    double y = a * pow10[digits], fl = floor(y), fr = y - fl;
    double slack = y * 0x1p-52 + 1e-9;
    if (fabs(fr - 0.5) <= slack) {   /* a half, or too near one to tell */
        sb_printf(sb, "%.*f", digits, v);
        return;
    }
    uint64_t n = (uint64_t)fl + (fr > 0.5);
    char buf[32];
    size_t o = sizeof buf;
    for (int d = 0; d < digits; d++, n /= 10) buf[--o] = (char)('0' + n % 10);
    if (digits) buf[--o] = '.';
    do {
        buf[--o] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    if (signbit(v)) buf[--o] = '-';   /* printf writes -0.000 for a tiny negative, and for -0 */
    sb_add(sb, buf + o, sizeof buf - o);
}

/* ---- the canonical item ---------------------------------------------------- */

static int closed_as_duplicate(const item *it)
{
    return !item_is_open(it) && it->state_reason && !strcasecmp(it->state_reason, "duplicate");
}

/* Rank of an item as the survivor of a cluster: lower is better. */
static int tier(const item *it)
{
    if (item_closed_fixed(it)) return 0;
    if (item_is_open(it)) return 1;
    if (!closed_as_duplicate(it)) return 2;
    return 3;
}

static double activity(const item *it)
{
    double a = (double)it->ncomments + it->reactions;
    return a > 0 ? a : 0;
}

/* 1 when a newer open item clearly carries the discussion over an older one. */
static int carries_discussion(const item *newer, const item *older)
{
    return activity(newer) >= V_ACTIVITY_LEAD * activity(older) &&
           activity(newer) >= activity(older) + V_ACTIVITY_MIN;
}

static int is_older(const item *a, const item *b)
{
    if (a->created_at != b->created_at && a->created_at && b->created_at) return a->created_at < b->created_at;
    return strcmp(a->key, b->key) < 0;
}

size_t explain_canonical(const item *const *items, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++) {
        const item *a = items[best], *b = items[i];
        int ta = tier(a), tb = tier(b);
        if (tb != ta) {
            if (tb < ta) best = i;
            continue;
        }
        int b_older = is_older(b, a);
        const item *older = b_older ? b : a, *newer = b_older ? a : b;
        /* the older one stays, unless a newer open one clearly carries the
         * discussion (the comment says so) */
        const item *win = ta == 1 && carries_discussion(newer, older) ? newer : older;
        if (win == b) best = i;
    }
    return best;
}

const char *explain_canonical_why(const item *canon, const item *other, char *buf, size_t n)
{
    char c[64], o[64];
    explain_ref(canon->key, c, sizeof c);
    explain_ref(other->key, o, sizeof o);
    int tc = tier(canon), to = tier(other);
    if (tc == 0 && to != 0) snprintf(buf, n, "%s was closed as fixed", c);
    else if (tc == 0) snprintf(buf, n, "both were closed as fixed; %s is older", c);
    else if (to == 3) snprintf(buf, n, "%s is already closed as a duplicate", o);
    else if (tc == 1 && to != 1) snprintf(buf, n, "%s is the one still open", c);
    else if (is_older(other, canon))
        /* callers say "X is newer, but ... to keep:" themselves */
        snprintf(buf, n, "the discussion is there (%.0f comments and reactions against %.0f)",
                 activity(canon), activity(other));
    else snprintf(buf, n, "%s is older", c);
    return buf;
}
