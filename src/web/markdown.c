/* markdown.c -- item bodies to HTML, as GitHub renders them, safely.
 *
 * cmark-gfm does the parsing and the escaping; it runs in its safe mode (raw
 * HTML becomes a comment) with the tagfilter extension as a second fence.
 * Before rendering we rewrite the tree:
 *  - the link allowlist: every link and image the text holds (inline,
 *    reference-style, autolink, raw-HTML <img>) keeps its URL only when it is
 *    http:, https: or mailto: (web_url_allowed); any other link is dropped
 *    and its text stays. cmark's own check blocks only javascript:, vbscript:,
 *    file: and data:, which leaves ms-msdt:, search-ms:, vscode://, smb://,
 *    //host (protocol-relative) and the like clickable;
 *  - images with a remote URL become links "image: ALT": fetching them would
 *    tell the image's host who is reading the issue, and the page's CSP
 *    blocks them anyway, so a visible link is the honest rendering. Inline
 *    data:image/{png,gif,jpeg,webp} images stay images. A raw-HTML <img>
 *    (which safe mode drops) is shown the same way instead of vanishing;
 *  - `#123` in plain text becomes a link to ref_base + "123" (GitHub), or
 *    a Jira key such as HIVE-123 a link to the item (Jira, web_jira_render,
 *    which first converts wiki markup with web_jira_to_markdown). These are
 *    the only links not subject to the allowlist: their base comes from the
 *    caller, never from the text.
 * Everything happens on the AST, never on HTML text, so no rewrite can
 * produce markup that cmark did not escape. */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* ---- the link allowlist -------------------------------------------------- */

int web_url_allowed(const char *url)
{
    static const char *const schemes[] = {"http://", "https://", "mailto:"};
    if (!url) return 0;
    int ok = 0;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0] && !ok; i++) {
        size_t k = strlen(schemes[i]);
        ok = !strncasecmp(url, schemes[i], k) && url[k];
    }
    /* Browsers drop tabs and newlines inside URLs and strip control
     * characters; a URL that holds any is a trick, never a real link. */
    for (const unsigned char *p = (const unsigned char *)url; ok && *p; p++)
        if (*p < 0x20 || *p == 0x7f) ok = 0;
    return ok;
}

/* Inline image bytes in the formats cmark's safe mode lets through: they
 * leak nothing and the CSP allows them (img-src data:). */
static int md_data_image(const char *url)
{
    static const char *const types[] = {"data:image/png;", "data:image/gif;", "data:image/jpeg;",
                                        "data:image/webp;"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (url && !strncasecmp(url, types[i], strlen(types[i]))) return 1;
    return 0;
}

/* Moves n's children in front of it and frees it: a dropped link keeps its
 * text visible. */
static void md_unwrap(cmark_node *n)
{
    cmark_node *c;
    while ((c = cmark_node_first_child(n))) cmark_node_insert_before(n, c);
    cmark_node_free(n);
}

/* Replaces img (an image node, or raw HTML when alt is given) by "image: ALT",
 * a link to url when the URL is allowed and the node is not already inside
 * a link (links do not nest), plain text otherwise. */
static void md_image_replace(cmark_node *img, const char *url, const char *title, const char *alt)
{
    int link = web_url_allowed(url) && !md_in_link(img);
    cmark_node *a = cmark_node_new(link ? CMARK_NODE_LINK : CMARK_NODE_EMPH);
    if (link) {
        cmark_node_set_url(a, url);
        if (title && *title) cmark_node_set_title(a, title);
    }
    cmark_node_append_child(a, md_text("image: ", 7));
    cmark_node *c;
    if (alt && *alt) cmark_node_append_child(a, md_text(alt, strlen(alt)));
    else if (!alt)
        while ((c = cmark_node_first_child(img))) cmark_node_append_child(a, c);
    if (cmark_node_first_child(a) == cmark_node_last_child(a)) {
        /* no description: name the file */
        const char *u = url ? url : "", *e = u + strcspn(u, "?#"), *b = e;
        while (b > u && b[-1] != '/') b--;
        cmark_node_append_child(a, md_text(b, (size_t)(e - b)));
    }
    cmark_node_insert_before(img, a);
    if (!link) md_unwrap(a);
}

/* A remote image becomes a link "image: ALT" (loading it would tell its
 * host who reads the issue, and the CSP blocks it anyway); an image whose
 * URL is not allowed becomes the text "image: ALT". */
static void md_image(cmark_node *img)
{
    const char *url = cmark_node_get_url(img);
    if (md_data_image(url)) return;   /* inline bytes leak nothing */
    md_image_replace(img, url, cmark_node_get_title(img), NULL);
    cmark_node_free(img);
}

/* ---- raw HTML <img> ---------------------------------------------------- */

/* An HTML attribute value with its character references decoded. cmark
 * decodes them (the whole HTML5 table) in link destinations, so the value is
 * handed to it as one: "[](<VALUE>)", with the characters that would end or
 * escape the destination backslash-escaped. Owned string; NULL when the value
 * cannot be a destination (a line break). */
static char *md_attr_decode(const char *v, size_t n)
{
    sbuf md;
    sb_init(&md);
    sb_adds(&md, "[](<");
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\n' || v[i] == '\r') {
            sb_free(&md);
            return NULL;
        }
        if (v[i] == '\\' || v[i] == '<' || v[i] == '>') sb_addc(&md, '\\');
        sb_addc(&md, v[i]);
    }
    sb_adds(&md, ">)");
    cmark_node *doc = cmark_parse_document(md.s, md.len, CMARK_OPT_DEFAULT);
    sb_free(&md);
    cmark_node *p = cmark_node_first_child(doc), *a = p ? cmark_node_first_child(p) : NULL;
    char *out = NULL;
    if (a && cmark_node_get_type(a) == CMARK_NODE_LINK && !cmark_node_next(a))
        out = xstrdup(cmark_node_get_url(a));
    cmark_node_free(doc);
    return out;
}

static int md_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* The tag at s (s[0] == '<') when it is an <img> open tag, following the
 * CommonMark grammar for open tags (attribute: name, optionally = and an
 * unquoted, 'single' or "double" quoted value): fills *src and *alt
 * (owned, decoded, NULL when absent) and returns the tag's length, or 0 when
 * it is not a well-formed <img> tag. */
static size_t md_img_tag(const char *s, size_t n, char **src, char **alt)
{
    *src = *alt = NULL;
    if (n < 5 || strncasecmp(s, "<img", 4) || !(md_space(s[4]) || s[4] == '/' || s[4] == '>')) return 0;
    size_t i = 4;
    for (;;) {
        size_t ws = i;
        while (i < n && md_space(s[i])) i++;
        if (i < n && s[i] == '>') return i + 1;
        if (i + 1 < n && s[i] == '/' && s[i + 1] == '>') return i + 2;
        if (i == ws || i >= n || !(isalpha((unsigned char)s[i]) || s[i] == '_' || s[i] == ':')) break;
        size_t name = i;
        while (i < n && (isalnum((unsigned char)s[i]) || strchr("_.:-", s[i]))) i++;
        size_t nlen = i - name, j = i;
        while (j < n && md_space(s[j])) j++;
        if (j >= n || s[j] != '=') continue;                  /* a name alone */
        for (j++; j < n && md_space(s[j]);) j++;
        size_t v, vlen;
        if (j < n && (s[j] == '"' || s[j] == '\'')) {
            const char *q = memchr(s + j + 1, s[j], n - j - 1);
            if (!q) break;
            v = j + 1;
            vlen = (size_t)(q - (s + v));
            i = (size_t)(q - s) + 1;
        } else {
            v = j;
            while (j < n && !md_space(s[j]) && !strchr("\"'=<>`", s[j])) j++;
            if (j == v) break;
            vlen = j - v;
            i = j;
        }
        char **slot = nlen == 3 && !strncasecmp(s + name, "src", 3)   ? src
                      : nlen == 3 && !strncasecmp(s + name, "alt", 3) ? alt : NULL;
        if (slot && !*slot) *slot = md_attr_decode(s + v, vlen);
    }
    free(*src);
    free(*alt);
    *src = *alt = NULL;
    return 0;
}

/* Raw HTML never renders (safe mode); the <img> tags in it are shown the way
 * markdown images are, instead of vanishing. An inline tag is replaced in
 * place; a block's tags become a paragraph after it. */
static void md_raw_html(cmark_node *h)
{
    const char *s = cmark_node_get_literal(h);
    int block = cmark_node_get_type(h) == CMARK_NODE_HTML_BLOCK;
    size_t n = s ? strlen(s) : 0;
    cmark_node *para = NULL;
    for (size_t i = 0; i < n; i++) {
        char *src, *alt;
        size_t k = s[i] == '<' ? md_img_tag(s + i, n - i, &src, &alt) : 0;
        if (!k) {
            if (!block) return;                               /* not an <img> */
            continue;
        }
        if (block && !para) {
            para = cmark_node_new(CMARK_NODE_PARAGRAPH);
            cmark_node_insert_after(h, para);
        }
        cmark_node *slot = md_text("", 0);
        if (para) {
            if (cmark_node_first_child(para)) cmark_node_append_child(para, md_text(" ", 1));
            cmark_node_append_child(para, slot);
        } else {
            cmark_node_insert_before(h, slot);
        }
        md_image_replace(slot, src, NULL, alt ? alt : "");
        cmark_node_free(slot);
        free(src);
        free(alt);
        if (!block) break;
        i += k - 1;
    }
    if (!block) cmark_node_free(h);
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

/* Collects first, rewrites after: the iterator must not see a changing tree.
 * The allowlist applies to the links and images of the text (written by the
 * issue's author); the reference links made here afterwards point where
 * md_refs says. */
static void md_rewrite(cmark_node *doc, const md_refs *r)
{
    int refs = r->num_base || r->key_base || r->other_base;
    md_nodes texts = {0}, links = {0}, images = {0}, html = {0};
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(n);
        if (ev == CMARK_EVENT_EXIT) continue;
        if (t == CMARK_NODE_IMAGE) md_push(&images, n);
        else if (t == CMARK_NODE_LINK) md_push(&links, n);
        else if (t == CMARK_NODE_HTML_INLINE || t == CMARK_NODE_HTML_BLOCK) md_push(&html, n);
        else if (t == CMARK_NODE_TEXT && refs && !md_in_link(n)) md_push(&texts, n);
    }
    cmark_iter_free(it);
    for (size_t i = 0; i < texts.n; i++) md_link_refs(texts.v[i], r);
    /* Images first: one inside a dropped link must still see that link. */
    for (size_t i = images.n; i-- > 0;) md_image(images.v[i]);
    for (size_t i = 0; i < html.n; i++) md_raw_html(html.v[i]);
    for (size_t i = 0; i < links.n; i++)
        if (!web_url_allowed(cmark_node_get_url(links.v[i]))) md_unwrap(links.v[i]);
    free(texts.v);
    free(links.v);
    free(images.v);
    free(html.v);
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
