/* report.c -- see report.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "explain.h"
#include "report.h"

void explain_trunc(sbuf *out, const char *s, size_t cols)
{
    if (!s) return;
    size_t n = 0, i = 0, len = strlen(s);
    size_t cut = len;   /* byte offset where the cols-th code point starts */
    for (i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) == 0x80) continue;
        if (n == cols) {
            cut = i;
            break;
        }
        n++;
    }
    int cutting = cut < len;
    if (cutting) {   /* leave room for "..." */
        size_t back = 3;
        while (cut > 0 && back > 0) {
            cut--;
            if (((unsigned char)s[cut] & 0xC0) != 0x80) back--;
        }
    }
    for (i = 0; i < cut; i++) {
        char ch = s[i];
        if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
        else if ((unsigned char)ch < 0x20 || ch == 0x7f) ch = '?';   /* no terminal escapes */
        sb_addc(out, ch);
    }
    if (cutting) sb_adds(out, "...");
}

void explain_state_words(sbuf *out, const item *it)
{
    sb_printf(out, "%s %s", item_is_open(it) ? "open" : "closed", item_kind_name(it->kind));
    if (!item_is_open(it) && it->state_reason && *it->state_reason)
        sb_printf(out, ", %s", it->state_reason);
}

void explain_pair_line(sbuf *out, const pair *p, const item *q, const item *c, size_t width)
{
    char qr[64], cr[64];
    explain_ref(p->query_key, qr, sizeof qr);
    explain_ref(p->cand_key, cr, sizeof cr);
    size_t start = out->len;
    sb_printf(out, "%-8s \xe2\x86\x94 %-8s %s \xc2\xb7 %s \xc2\xb7 %.3f", qr, cr, relation_name(p->relation),
              confidence_name(p->confidence), p->value);
    if (p->known) sb_adds(out, " (known)");
    if (p->verdict) sb_printf(out, " [%s]", verdict_name(p->verdict));
    if (q || c) {
        sb_adds(out, "  ");
        /* count display columns used so far (code points) */
        size_t used = 0;
        for (size_t i = start; i < out->len; i++)
            if (((unsigned char)out->s[i] & 0xC0) != 0x80) used++;
        size_t room = width > used + 20 ? width - used : 20;
        const item *t = q ? q : c;
        explain_trunc(out, t->title, room);
    }
}

json_t *explain_jstr(const char *s)
{
    if (!s) return json_null();
    size_t n = strlen(s), fixed_len;
    char *fixed = dp_utf8_repaired(s, n, &fixed_len);
    json_t *j = fixed ? json_stringn_nocheck(fixed, fixed_len) : json_stringn_nocheck(s, n);
    free(fixed);
    return j ? j : json_string("");
}

json_t *explain_jtime(int64_t t)
{
    if (!t) return json_null();
    char buf[32];
    dp_format_time(t, buf, sizeof buf);
    return json_string(buf);
}

static void set_str(json_t *o, const char *k, const char *v) { json_object_set_new(o, k, explain_jstr(v)); }

static json_t *strvec_json(const strvec *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < v->n; i++) json_array_append_new(a, explain_jstr(v->v[i]));
    return a;
}

const char *explain_kind_token(item_kind k) { return k == ITEM_PR ? "pull_request" : "issue"; }

json_t *explain_item_json(const item *it)
{
    json_t *o = json_object();
    set_str(o, "key", it->key);
    json_object_set_new(o, "number", json_integer(it->number));
    set_str(o, "kind", explain_kind_token(it->kind));
    set_str(o, "title", it->title);
    set_str(o, "state", it->state);
    set_str(o, "state_reason", it->state_reason);
    set_str(o, "author", it->author);
    set_str(o, "url", it->url);
    json_object_set_new(o, "created_at", explain_jtime(it->created_at));
    json_object_set_new(o, "updated_at", explain_jtime(it->updated_at));
    json_object_set_new(o, "closed_at", explain_jtime(it->closed_at));
    json_object_set_new(o, "labels", strvec_json(&it->labels));
    json_object_set_new(o, "comments", json_integer(it->ncomments));
    json_object_set_new(o, "reactions", json_integer(it->reactions));
    set_str(o, "type", it->type);
    set_str(o, "priority", it->priority);
    json_object_set_new(o, "components", strvec_json(&it->components));
    json_object_set_new(o, "versions", strvec_json(&it->versions));
    if (it->deleted) json_object_set_new(o, "deleted", json_true());
    return o;
}

/* '\n'-separated lines as a JSON array. */
static json_t *lines_json(const char *s)
{
    json_t *a = json_array();
    while (s && *s) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n) {
            char *line = xstrndup(s, n);
            json_array_append_new(a, explain_jstr(line));
            free(line);
        }
        s = e ? e + 1 : s + n;
    }
    return a;
}

json_t *explain_pair_json(const pair *p, const item *q, const item *c, int with_text)
{
    json_t *o = json_object();
    if (p->id) json_object_set_new(o, "id", json_integer(p->id));
    if (p->repo_id) json_object_set_new(o, "repo", json_integer(p->repo_id));
    set_str(o, "query", p->query_key);
    set_str(o, "candidate", p->cand_key);
    json_object_set_new(o, "rank", json_integer(p->rank));
    set_str(o, "relation", relation_name(p->relation));
    set_str(o, "confidence", confidence_name(p->confidence));
    json_object_set_new(o, "value", json_real(round(p->value * 1000.0) / 1000.0));   /* as shown */
    json_object_set_new(o, "probability", json_real(p->prob));
    json_object_set_new(o, "score", json_real(p->score));
    json_object_set_new(o, "known", json_boolean(p->known));
    set_str(o, "verdict", verdict_name(p->verdict));
    json_object_set_new(o, "verdict_at", explain_jtime(p->verdict ? p->verdict_at : 0));
    if (with_text) {
        json_object_set_new(o, "reasoning", lines_json(p->reasoning));
        json_object_set_new(o, "value_detail", lines_json(p->value_detail));
        set_str(o, "suggested_comment", p->suggested_comment);
        set_str(o, "comment_on", p->comment_on);
        set_str(o, "canonical", p->canonical);
    }
    if (q) json_object_set_new(o, "query_item", explain_item_json(q));
    if (c) json_object_set_new(o, "candidate_item", explain_item_json(c));
    return o;
}

static void md_text(sbuf *out, const char *s)
{
    sbuf t;
    sb_init(&t);
    explain_trunc(&t, s, 120);
    for (const char *p = sb_str(&t); *p; p++) {
        if (strchr("\\`*_[]<>|~", *p)) sb_addc(out, '\\');
        sb_addc(out, *p);
    }
    sb_free(&t);
}

/* A reasoning sentence: its `code` spans (already free of backticks, see
 * explain.c) are kept; markdown punctuation outside them is escaped. */
static void md_reason(sbuf *out, const char *s)
{
    int in_code = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '`') in_code = !in_code;
        else if (!in_code && strchr("\\*_[]<>|~", *p)) sb_addc(out, '\\');
        sb_addc(out, *p == '\n' ? ' ' : *p);
    }
    if (in_code) sb_addc(out, '`');
}

void explain_pair_markdown(sbuf *out, const pair *p, const item *c)
{
    char cr[64];
    explain_ref(p->cand_key, cr, sizeof cr);
    sb_printf(out, "- **%s** ", cr);
    if (c) {
        md_text(out, c->title);
        sb_adds(out, " (");
        explain_state_words(out, c);
        sb_adds(out, ")");
    }
    sb_printf(out, " \xe2\x80\x94 %s, %s confidence (p %.3f)\n", relation_name(p->relation),
              confidence_name(p->confidence), p->prob);
    /* The strongest piece of evidence, quoted under the entry: the first
     * sentence naming something shared (`code`) or a link; the state and
     * model sentences say little in a bot's comment. */
    const char *r = p->reasoning;
    while (r && *r) {
        const char *e = strchr(r, '\n');
        size_t n = e ? (size_t)(e - r) : strlen(r);
        if (memchr(r, '`', n) || !strncmp(r, "Already linked", 14) ||
            (memmem(r, n, " refers to ", 11) || memmem(r, n, " fixes ", 7)))
            break;
        r = e ? e + 1 : NULL;
    }
    if (r && *r) {
        const char *e = strchr(r, '\n');
        sbuf line;
        sb_init(&line);
        sb_add(&line, r, e ? (size_t)(e - r) : strlen(r));
        sb_adds(out, "  > ");
        md_reason(out, line.s);
        sb_addc(out, '\n');
        sb_free(&line);
    }
}
