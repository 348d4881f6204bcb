/* act_print.c -- a plan as text (act_plan_print) and its counts. The text
 * is the dry run: what a run would send, request by request, in full. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_int.h"

void act_plan_count(const act_plan *p, act_counts *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < p->n; i++) {
        const act_unit *u = &p->v[i];
        switch (u->state) {
        case UNIT_TODO: c->todo++; break;
        case UNIT_DONE: c->done++; break;
        case UNIT_SKIPPED: c->skipped++; break;
        case UNIT_FAILED: c->failed++; break;
        }
        if (u->state != UNIT_TODO) continue;
        for (size_t j = 0; j < u->nsteps; j++)
            if (u->steps[j].state == STEP_NEW || u->steps[j].state == STEP_PENDING) c->writes[u->steps[j].kind]++;
    }
}

/* Text from the store or GitHub goes to a terminal: no control characters. */
static void add_clean(sbuf *sb, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        sb_addc(sb, ch < 0x20 || ch == 0x7f ? '?' : (char)ch);
    }
}

static void add_cleans(sbuf *sb, const char *s)
{
    add_clean(sb, s ? s : "", s ? strlen(s) : 0);
}

static void unit_title(sbuf *sb, const act_unit *u)
{
    if (!strcmp(u->source, "triage")) {
        sb_adds(sb, "issue #");
        add_cleans(sb, u->query_key);
        sb_adds(sb, " \xc2\xb7 triage");
        return;
    }
    if (!strcmp(u->source, "undo")) sb_adds(sb, "undo \xc2\xb7 ");
    sb_adds(sb, "#");
    add_cleans(sb, u->query_key);
    sb_adds(sb, " \xe2\x86\x94 #");
    add_cleans(sb, u->cand_key);
    sb_adds(sb, " \xc2\xb7 ");
    add_cleans(sb, u->verdict);
    if (u->verdict_at) {
        char t[32];
        dp_format_time(u->verdict_at, t, sizeof t);
        sb_printf(sb, " (verdict %s)", t);
    }
}

static void step_what(sbuf *sb, const act_step *s)
{
    const char *t = s->target, *a = s->arg ? s->arg : "";
    switch (s->kind) {
    case ACT_COMMENT: sb_printf(sb, "comment on #%s", t); break;
    case ACT_EDIT: sb_printf(sb, "edit doppel's comment on #%s", t); break;
    case ACT_CLOSE: sb_printf(sb, "close #%s as a duplicate of #%s", t, a); break;
    case ACT_LABEL: sb_printf(sb, "add label \"%s\" to #%s", a, t); break;
    case ACT_DECIDED: sb_adds(sb, "record the decision (no request)"); break;
    case ACT_REOPEN: sb_printf(sb, "reopen #%s", t); break;
    case ACT_UNCOMMENT: sb_printf(sb, "delete doppel's comment on #%s", t); break;
    case ACT_UNLABEL: sb_printf(sb, "remove label \"%s\" from #%s", a, t); break;
    }
}

static const char *step_mark(act_step_state st)
{
    switch (st) {
    case STEP_NEW: return "+";
    case STEP_PENDING: return "?";
    case STEP_DONE: return "=";
    case STEP_FAILED: return "x";
    }
    return " ";
}

static void print_step(sbuf *sb, const act_step *s)
{
    sb_printf(sb, "  %s ", step_mark(s->state));
    size_t start = sb->len;
    step_what(sb, s);
    /* Label names come from the command line or the store: clean them too. */
    char *what = xstrdup(sb->s + start);
    sb->len = start;
    sb->s[start] = 0;
    add_cleans(sb, what);
    free(what);
    if (s->call.method[0]) {
        sb_printf(sb, "\n      %s ", s->call.method);
        add_cleans(sb, s->call.path);
        if (s->call.body) {
            sb_adds(sb, " ");
            add_cleans(sb, s->call.body);
        }
    }
    if (s->state == STEP_PENDING)
        sb_printf(sb, "\n      recorded as action #%lld without an answer: GitHub is checked first, and it is "
                      "sent only if it did not happen",
                  (long long)s->row);
    else if (s->state == STEP_DONE && s->row)
        sb_printf(sb, "   (done: action #%lld)", (long long)s->row);
    if (s->note) {
        sb_adds(sb, "   -- ");
        add_cleans(sb, s->note);
    }
    sb_addc(sb, '\n');
    if (s->text && s->state != STEP_DONE) {
        /* The comment as it will read on GitHub, line by line. */
        for (const char *l = s->text; *l;) {
            const char *e = strchr(l, '\n');
            size_t n = e ? (size_t)(e - l) : strlen(l);
            sb_adds(sb, n ? "      | " : "      |");
            add_clean(sb, l, n);
            sb_addc(sb, '\n');
            l += n + (e ? 1 : 0);
        }
    }
}

void act_event_print(const act_unit *u, const act_step *s, sbuf *out)
{
    if (!s) {   /* skipped or failed at run time: the title and why */
        act_unit copy = *u;
        copy.nsteps = 0;
        act_plan p = {.v = &copy, .n = 1};
        act_plan_print(&p, 1, out);
        return;
    }
    add_cleans(out, u->key);
    sb_printf(out, " %s #", act_kind_name(s->kind));
    add_cleans(out, s->target[0] ? s->target : "-");
    sb_adds(out, ": ");
    add_cleans(out, s->note);
    sb_addc(out, '\n');
}

void act_plan_print(const act_plan *p, int verbose, sbuf *out)
{
    static const char *const STATE[] = {"to do", "done", "skipped", "failed"};
    for (size_t i = 0; i < p->n; i++) {
        const act_unit *u = &p->v[i];
        if (u->state == UNIT_DONE && !verbose) continue;
        unit_title(out, u);
        if (u->state == UNIT_TODO) {
            sb_adds(out, "\n  ");
            if (u->dup) {
                sb_adds(out, "keep #");
                add_cleans(out, u->canonical);
                sb_adds(out, ", act on #");
                add_cleans(out, u->dup);
                sb_adds(out, ": ");
            }
        } else {
            sb_printf(out, ": %s -- ", STATE[u->state]);
        }
        add_cleans(out, u->why);
        sb_addc(out, '\n');
        if (u->state == UNIT_TODO || u->state == UNIT_FAILED || verbose)
            for (size_t j = 0; j < u->nsteps; j++) print_step(out, &u->steps[j]);
    }
}
