/* markdown.c -- item bodies to HTML, as GitHub renders them, safely.
 *
 * cmark-gfm does the parsing and the escaping; it runs in its default safe
 * mode (raw HTML becomes a comment, javascript:/vbscript:/file:/data: URLs
 * other than data:image/{png,gif,jpeg,webp} become empty) with the tagfilter
 * extension as a second fence. Before rendering we rewrite the tree:
 *  - `#123` in plain text becomes a link to ref_base + "123" (GitHub), or
 *    a Jira key such as HIVE-123 a link to the item (Jira, web_jira_render,
 *    which first converts wiki markup with web_jira_to_markdown);
 *  - images with a remote URL become links: fetching them would tell the
 *    image's host who is reading the issue, and the page's CSP blocks them
 *    anyway, so a visible link is the honest rendering.
 * Everything happens on the AST, never on HTML text, so no rewrite can
 * produce markup that cmark did not escape. */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>

#include "web.h"

static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_register(void)
{
    cmark_gfm_core_extensions_ensure_registered();
}

static const char *const md_exts[] = {"table", "autolink", "strikethrough", "tasklist", "tagfilter"};

/* 1 when node sits inside a link or image (a reference there must stay text). */
static int md_in_link(cmark_node *n)
{
    for (n = cmark_node_parent(n); n; n = cmark_node_parent(n)) {
        cmark_node_type t = cmark_node_get_type(n);
        if (t == CMARK_NODE_LINK || t == CMARK_NODE_IMAGE) return 1;
    }
    return 0;
}

static int md_word(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '&' || c == '/' || c >= 0x80;
}

/* Where references point. GitHub: "#N" -> num_base N. Jira: "KEY-N" ->
 * key_base KEY-N when KEY is `project`, other_base KEY-N otherwise. */
typedef struct md_refs {
    const char *num_base;
    const char *project;
    const char *key_base;
    const char *other_base;
} md_refs;

/* A Jira key at s[i] ("HIVE-123", after a non-word character); its length
 * and the length of its project part, or 0. */
static size_t md_key_at(const char *s, size_t n, size_t i, size_t *plen)
{
    if (!isupper((unsigned char)s[i]) || (i > 0 && (md_word((unsigned char)s[i - 1]) || s[i - 1] == '-')))
        return 0;
    size_t j = i;
    while (j < n && j - i < 32 && (isupper((unsigned char)s[j]) || isdigit((unsigned char)s[j]) || s[j] == '_')) j++;
    if (j >= n || s[j] != '-' || j + 1 >= n || !isdigit((unsigned char)s[j + 1]) || s[j + 1] == '0') return 0;
    *plen = j - i;
    size_t k = j + 1;
    while (k < n && k - j <= 10 && isdigit((unsigned char)s[k])) k++;
    if (k - j > 10 || (k < n && (md_word((unsigned char)s[k]) || s[k] == '-'))) return 0;
    return k - i;
}

/* Finds the next reference in s at or after *pos; sets start/len and the
 * link target (owned by the caller). */
static int md_next_ref(const char *s, size_t n, const md_refs *r, size_t *pos, size_t *start, size_t *len,
                       char **url)
{
    for (size_t i = *pos; i < n; i++) {
        if (r->num_base) {
            if (s[i] != '#' || (i > 0 && md_word((unsigned char)s[i - 1]))) continue;
            size_t j = i + 1;
            while (j < n && j - i <= 10 && isdigit((unsigned char)s[j])) j++;
            if (j == i + 1 || j - i > 10 || s[i + 1] == '0') continue;
            if (j < n && md_word((unsigned char)s[j])) continue;
            *url = xasprintf("%s%.*s", r->num_base, (int)(j - i - 1), s + i + 1);
            *start = i;
            *len = j - i;
            *pos = j;
            return 1;
        }
        size_t plen, klen = md_key_at(s, n, i, &plen);
        if (!klen) continue;
        int own = r->project && strlen(r->project) == plen && !strncmp(s + i, r->project, plen);
        const char *base = own ? r->key_base : r->other_base;
        if (!base) {
            i += klen - 1;
            continue;
        }
        *url = xasprintf("%s%.*s", base, (int)klen, s + i);
        *start = i;
        *len = klen;
        *pos = i + klen;
        return 1;
    }
    return 0;
}

static cmark_node *md_text(const char *s, size_t n)
{
    cmark_node *t = cmark_node_new(CMARK_NODE_TEXT);
    char *lit = xstrndup(s, n);
    cmark_node_set_literal(t, lit);
    free(lit);
    return t;
}

/* Replaces text node `t` by text and link nodes when it holds references. */
static void md_link_refs(cmark_node *t, const md_refs *r)
{
    const char *s = cmark_node_get_literal(t);
    if (!s || (r->num_base && !strchr(s, '#'))) return;
    size_t n = strlen(s), pos = 0, start, len, done = 0;
    int any = 0;
    char *url;
    while (md_next_ref(s, n, r, &pos, &start, &len, &url)) {
        if (start > done) cmark_node_insert_before(t, md_text(s + done, start - done));
        cmark_node *a = cmark_node_new(CMARK_NODE_LINK);
        cmark_node_set_url(a, url);
        free(url);
        cmark_node_append_child(a, md_text(s + start, len));
        cmark_node_insert_before(t, a);
        done = start + len;
        any = 1;
    }
    if (!any) return;
    if (done < n) cmark_node_insert_before(t, md_text(s + done, n - done));
    cmark_node_free(t);
}

/* Turns a remote image into a link "image: ALT" to the same URL. */
static void md_image_to_link(cmark_node *img)
{
    const char *url = cmark_node_get_url(img);
    if (url && !strncmp(url, "data:", 5)) return;   /* inline bytes leak nothing */
    cmark_node *a = cmark_node_new(CMARK_NODE_LINK);
    cmark_node_set_url(a, url ? url : "");
    const char *title = cmark_node_get_title(img);
    if (title && *title) cmark_node_set_title(a, title);
    cmark_node_append_child(a, md_text("image: ", 7));
    cmark_node *c;
    while ((c = cmark_node_first_child(img))) cmark_node_append_child(a, c);
    cmark_node_insert_before(img, a);
    cmark_node_free(img);
}

typedef struct md_nodes { cmark_node **v; size_t n, cap; } md_nodes;

static void md_push(md_nodes *l, cmark_node *n)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = n;
}

/* Collects first, rewrites after: the iterator must not see a changing tree. */
static void md_rewrite(cmark_node *doc, const md_refs *r)
{
    int refs = r->num_base || r->key_base || r->other_base;
    md_nodes texts = {0}, images = {0};
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(n);
        if (ev == CMARK_EVENT_ENTER && t == CMARK_NODE_IMAGE) md_push(&images, n);
        else if (t == CMARK_NODE_TEXT && refs && !md_in_link(n)) md_push(&texts, n);
    }
    cmark_iter_free(it);
    for (size_t i = 0; i < texts.n; i++) md_link_refs(texts.v[i], r);
    for (size_t i = 0; i < images.n; i++) md_image_to_link(images.v[i]);
    free(texts.v);
    free(images.v);
}

static char *md_render(const char *md, const md_refs *r)
{
    pthread_once(&md_once, md_register);
    int opts = CMARK_OPT_DEFAULT | CMARK_OPT_SAFE | CMARK_OPT_VALIDATE_UTF8 | CMARK_OPT_HARDBREAKS;
    cmark_parser *p = cmark_parser_new(opts);
    for (size_t i = 0; i < sizeof md_exts / sizeof md_exts[0]; i++) {
        cmark_syntax_extension *e = cmark_find_syntax_extension(md_exts[i]);
        if (e) cmark_parser_attach_syntax_extension(p, e);
    }
    if (!md) md = "";
    cmark_parser_feed(p, md, strlen(md));
    cmark_node *doc = cmark_parser_finish(p);
    /* Escaped characters ("HIVE\-1") arrive as separate text nodes; join
     * them so a reference is found whole. */
    if (r->project) cmark_consolidate_text_nodes(doc);
    md_rewrite(doc, r);
    char *html = cmark_render_html(doc, opts, cmark_parser_get_syntax_extensions(p));
    cmark_node_free(doc);
    cmark_parser_free(p);
    /* cmark allocates with malloc by default; copy so the caller can free()
     * without knowing which allocator made it. */
    char *out = xstrdup(html ? html : "");
    free(html);
    return out;
}

char *web_markdown_render(const char *md, const char *ref_base)
{
    md_refs r = {.num_base = ref_base};
    return md_render(md, &r);
}

char *web_jira_render(const char *wiki, const char *project, const char *item_base, const char *other_base)
{
    char *md = web_jira_to_markdown(wiki);
    md_refs r = {.project = project ? project : "", .key_base = item_base, .other_base = other_base};
    char *html = md_render(md, &r);
    free(md);
    return html;
}
