/* jira_render.c -- Jira wiki markup to CommonMark, so Jira items render through
 * the same cmark-gfm safe-mode path as GitHub bodies (markdown.c).
 *
 * Safety by construction: the converter writes no HTML, and the issue's own
 * text never acts as markdown -- every ASCII punctuation character of plain
 * text is backslash-escaped, code goes into code spans or fences longer than
 * any backtick run inside, and link targets pass markdown.c's allowlist
 * (web_url_allowed: http, https, mailto) and are written in <...> form with
 * the delimiters percent-encoded. So the only structure in the output is the
 * structure written here; markdown.c's allowlist and cmark's safe mode stay
 * the second and third fences.
 *
 * Supported: h1. to h6., bq., ----, *bold*, _italic_, -deleted-, +inserted+
 * (plain), {{monospace}}, {color:x}...{color} (plain), !image.png! and
 * !image.png|options! (the text "[image: image.png]": attachments are not
 * reachable from here), !http://host/a.png! (a link),
 * {code}/{code:lang}...{code}, {noformat}...{noformat}, {quote}...{quote},
 * {panel} (dropped, content kept), [text|url], [url], [~user], [^file],
 * [KEY-1], bullet and numbered lists ("*", "-", "#", nested "**", "#*"),
 * tables (|cell| rows, ||header|| rows), \x escapes. Anything else is
 * shown as the literal text it is. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web.h"

enum { B_NONE, B_PARA, B_HEAD, B_LIST, B_TABLE, B_CODE, B_RULE };

#define JW_MAX_DEPTH 8

typedef struct jw {
    sbuf *out;
    int quote;                  /* inside {quote}: every line gets "> " */
    int prev;                   /* kind of the last block written */
    int depth;                  /* open list levels */
    char chain[JW_MAX_DEPTH];   /* '*' or '#' for each open level */
} jw;

/* ---- inline ------------------------------------------------------------- */

static int jw_punct(unsigned char c)
{
    return c < 0x80 && ispunct(c);
}

static void jw_text_char(sbuf *o, unsigned char c)
{
    if (jw_punct(c)) sb_addc(o, '\\');
    sb_addc(o, (char)c);
}

static void jw_text(sbuf *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) jw_text_char(o, (unsigned char)s[i]);
}

/* A code span holding s verbatim (in a table cell, '|' must be "\|" even
 * there: GFM splits cells before it parses code spans). */
static void jw_code_span(sbuf *o, const char *s, size_t n, int in_table)
{
    size_t run = 0, longest = 0;
    for (size_t i = 0; i < n; i++) {
        run = s[i] == '`' ? run + 1 : 0;
        if (run > longest) longest = run;
    }
    for (size_t i = 0; i <= longest; i++) sb_addc(o, '`');
    int pad = n && (s[0] == '`' || s[n - 1] == '`' || s[0] == ' ');
    if (pad) sb_addc(o, ' ');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '|' && in_table) sb_addc(o, '\\');
        sb_addc(o, s[i]);
    }
    if (pad) sb_addc(o, ' ');
    for (size_t i = 0; i <= longest; i++) sb_addc(o, '`');
}

/* The link allowlist of markdown.c, on a span of the text. */
static int jw_url_ok(const char *s, size_t n)
{
    char *u = xstrndup(s, n);
    int ok = web_url_allowed(u);
    free(u);
    return ok;
}

/* A link destination in <...> form: the characters that could end it or
 * escape from it are percent-encoded. */
static void jw_dest(sbuf *o, const char *s, size_t n)
{
    sb_addc(o, '<');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == '<' || c == '>' || c == '\\' || c == 0x7f) sb_printf(o, "%%%02X", c);
        else sb_addc(o, (char)c);
    }
    sb_addc(o, '>');
}

static int jw_is_key(const char *s, size_t n)
{
    size_t i = 0;
    if (!n || !isupper((unsigned char)s[0])) return 0;
    while (i < n && (isupper((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_')) i++;
    if (i == n || s[i] != '-' || i + 1 == n || s[i + 1] == '0') return 0;
    for (i++; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return 0;
    return 1;
}

static void jw_inline(sbuf *o, const char *s, size_t n, int in_link, int in_table);

static const char *jw_memchr(const char *s, size_t n, char c)
{
    return n ? memchr(s, c, n) : NULL;
}

/* "[...]" at s (length n, s[0] == '['); returns the bytes consumed, 0 when
 * it is plain text. */
static size_t jw_link(sbuf *o, const char *s, size_t n, int in_table, int code)
{
    const char *end = jw_memchr(s + 1, n - 1, ']');
    if (!end) return 0;
    const char *c = s + 1;
    size_t cn = (size_t)(end - c);
    const char *bar = jw_memchr(c, cn, '|');
    const char *url = bar ? bar + 1 : c;
    size_t un = bar ? (size_t)(end - url) : cn;
    while (un && url[0] == ' ') url++, un--;
    while (un && url[un - 1] == ' ') un--;
    if (jw_url_ok(url, un)) {
        sb_addc(o, '[');
        if (code) jw_code_span(o, c, bar ? (size_t)(bar - c) : un, in_table);   /* {{[text|url]}} */
        else if (bar) jw_inline(o, c, (size_t)(bar - c), 1, in_table);
        else jw_text(o, url, un);
        sb_addc(o, ']');
        sb_addc(o, '(');
        jw_dest(o, url, un);
        sb_addc(o, ')');
    } else if (code) {
        return 0;
    } else if (bar && jw_is_key(url, un)) {
        /* [text|HIVE-1]: the text, then the key (which markdown.c links) */
        jw_inline(o, c, (size_t)(bar - c), 1, in_table);
        sb_adds(o, " (");
        sb_add(o, url, un);
        sb_adds(o, ")");
    } else if (!bar && cn > 1 && (c[0] == '~' || c[0] == '^')) {
        if (c[0] == '~') sb_addc(o, '@');
        jw_text(o, c + 1, cn - 1);                      /* [~user], [^attachment] */
    } else if (!bar && jw_is_key(c, cn)) {
        sb_add(o, c, cn);
    } else {
        return 0;                                       /* "[INFO] ..." and friends */
    }
    return (size_t)(end - s) + 1;
}

/* *strong* / _emphasis_ at s (s[0] is the mark): the length of the whole
 * span, or 0. Jira's rule: the mark opens after a non-word character and
 * before a non-space, and closes after a non-space and before a non-word. */
static size_t jw_span(const char *s, size_t n, int prev_word)
{
    char m = s[0];
    if (prev_word || n < 3 || s[1] == ' ' || s[1] == m) return 0;
    for (size_t j = 2; j < n; j++) {
        if (s[j] != m || s[j - 1] == ' ') continue;
        if (j + 1 < n && (isalnum((unsigned char)s[j + 1]) || s[j + 1] == '_')) continue;
        return j + 1;
    }
    return 0;
}

/* A file name that names an image (by its extension). */
static int jw_image_name(const char *s, size_t n)
{
    static const char *const exts[] = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".svg", ".webp", ".tif", ".tiff", ".ico"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t k = strlen(exts[i]);
        if (n > k && !strncasecmp(s + n - k, exts[i], k)) return 1;
    }
    return 0;
}

/* "!name!" or "!name|options!" at s (s[0] == '!'): an image. An http(s)
 * URL becomes a markdown image (which markdown.c shows as a link "image:
 * NAME"); an attachment, which this page cannot show, becomes the text
 * "[image: NAME]". Returns the bytes consumed, 0 when it is plain text. */
static size_t jw_image(sbuf *o, const char *s, size_t n)
{
    const char *end = n > 2 ? memchr(s + 1, '!', n - 1) : NULL;
    if (!end || end == s + 1 || s[1] == ' ' || end[-1] == ' ') return 0;
    size_t cn = (size_t)(end - s - 1);
    const char *bar = memchr(s + 1, '|', cn);
    size_t nn = bar ? (size_t)(bar - s - 1) : cn;
    const char *name = s + 1;
    int url = (nn > 7 && !strncasecmp(name, "http://", 7)) || (nn > 8 && !strncasecmp(name, "https://", 8));
    if (url && jw_url_ok(name, nn)) {
        const char *base = name + nn;
        while (base > name && base[-1] != '/') base--;
        sb_adds(o, "![");
        jw_text(o, base, (size_t)(name + nn - base));
        sb_adds(o, "](");
        jw_dest(o, name, nn);
        sb_addc(o, ')');
    } else if (!url && jw_image_name(name, nn)) {
        jw_text(o, "[image: ", 8);
        jw_text(o, name, nn);
        jw_text_char(o, ']');
    } else {
        return 0;
    }
    return cn + 2;
}

/* "{color:red}" or "{color}" at s: the length of the tag (colour is dropped:
 * the text stays, plain), or 0. */
static size_t jw_color_tag(const char *s, size_t n)
{
    if (n >= 7 && !strncmp(s, "{color}", 7)) return 7;
    if (n < 8 || strncmp(s, "{color:", 7)) return 0;
    for (size_t i = 7; i < n && i < 40; i++) {
        if (s[i] == '}') return i > 7 ? i + 1 : 0;
        if (s[i] == '{' || s[i] == ' ') return 0;
    }
    return 0;
}

static void jw_inline(sbuf *o, const char *s, size_t n, int in_link, int in_table)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        int prev_word = i > 0 && (isalnum((unsigned char)s[i - 1]) || (unsigned char)s[i - 1] >= 0x80);
        size_t k;
        if (c == '\\' && i + 1 < n && jw_punct((unsigned char)s[i + 1])) {
            jw_text_char(o, (unsigned char)s[i + 1]);   /* Jira's own escape */
            i += 2;
        } else if (c == '{' && i + 1 < n && s[i + 1] == '{') {
            const char *e = strstr(s + i + 2, "}}");
            if (!e || e + 2 > s + n || e == s + i + 2) {
                jw_text(o, s + i, 2);
                i += 2;
                continue;
            }
            const char *c0 = s + i + 2;
            size_t cn = (size_t)(e - c0);
            if (in_link || c0[0] != '[' || c0[cn - 1] != ']' || jw_link(o, c0, cn, in_table, 1) != cn)
                jw_code_span(o, c0, cn, in_table);
            i = (size_t)(e - s) + 2;
        } else if (c == '{' && (k = jw_color_tag(s + i, n - i))) {
            i += k;
        } else if (c == '!' && !prev_word && (k = jw_image(o, s + i, n - i))) {
            i += k;
        } else if (c == '[' && !in_link && (k = jw_link(o, s + i, n - i, in_table, 0))) {
            i += k;
        } else if (c && strchr("*_-+", c) && (k = jw_span(s + i, n - i, prev_word || (i && s[i - 1] == c)))) {
            /* *strong*, _emphasis_, -deleted-; +inserted+ has no markdown
             * form and stays plain. "--x--" is no span: a mark right after
             * the same mark does not open one. */
            const char *mark = c == '*' ? "**" : c == '_' ? "*" : c == '-' ? "~~" : "";
            sb_adds(o, mark);
            jw_inline(o, s + i + 1, k - 2, in_link, in_table);
            sb_adds(o, mark);
            i += k;
        } else {
            jw_text_char(o, c);
            i++;
        }
    }
}

/* ---- blocks ------------------------------------------------------------- */

/* Starts an output line (the quote prefix). */
static void jw_line(jw *w)
{
    if (w->quote) sb_adds(w->out, "> ");
}

static void jw_blank(jw *w)
{
    sb_adds(w->out, w->quote ? ">\n" : "\n");
}

/* Before a block of `kind`: blocks of different kinds are separated by a
 * blank line (a plain line after a list item would otherwise continue it). */
static void jw_begin(jw *w, int kind)
{
    if (w->prev != B_NONE && (w->prev != kind || kind == B_HEAD || kind == B_CODE || kind == B_RULE))
        jw_blank(w);
    if (kind != B_LIST) w->depth = 0;
    w->prev = kind;
}

static int jw_starts(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    return n >= k && !strncmp(s, p, k);
}

static void jw_list_item(jw *w, const char *run, size_t d, const char *rest, size_t rn)
{
    if (w->prev != B_LIST) w->depth = 0;
    jw_begin(w, B_LIST);
    if (d > (size_t)w->depth + 1) d = (size_t)w->depth + 1;   /* no level without a parent */
    if (d > JW_MAX_DEPTH) d = JW_MAX_DEPTH;
    jw_line(w);
    /* Indent by the content width of the parents actually open. */
    for (size_t i = 0; i + 1 < d; i++) sb_adds(w->out, w->chain[i] == '#' ? "   " : "  ");
    char type = run[d - 1] == '#' ? '#' : '*';
    w->chain[d - 1] = type;
    w->depth = (int)d;
    sb_adds(w->out, type == '#' ? "1. " : "- ");
    jw_inline(w->out, rest, rn, 0, 0);
    sb_addc(w->out, '\n');
}

/* Splits a table row into cells on '|' (and "||"), not inside [...] or
 * {{...}}; calls back with each cell. Returns 1 when it is a header row. */
static int jw_row(jw *w, const char *s, size_t n, int header_done, size_t *ncols)
{
    int header = jw_starts(s, n, "||");
    sbuf row;
    sb_init(&row);
    size_t cells = 0, i = 0;
    while (i < n && s[i] == '|') i++;
    while (i < n) {
        size_t st = i;
        int br = 0, cb = 0;
        for (; i < n; i++) {
            if (s[i] == '[') br++;
            else if (s[i] == ']' && br) br--;
            else if (s[i] == '{' && i + 1 < n && s[i + 1] == '{') cb = 1;
            else if (s[i] == '}' && i + 1 < n && s[i + 1] == '}') cb = 0;
            else if (s[i] == '|' && !br && !cb) break;
            else if (s[i] == '!' && !br && !cb && (i == 0 || !isalnum((unsigned char)s[i - 1]))) {
                sbuf skip;                          /* !x.png|thumbnail! is one cell */
                sb_init(&skip);
                size_t k = jw_image(&skip, s + i, n - i);
                sb_free(&skip);
                if (k) i += k - 1;
            }
        }
        size_t e = i;
        while (st < e && s[st] == ' ') st++;
        while (e > st && s[e - 1] == ' ') e--;
        if (i < n || e > st) {
            sb_adds(&row, "| ");
            jw_inline(&row, s + st, e - st, 0, 1);
            sb_addc(&row, ' ');
            cells++;
        }
        while (i < n && s[i] == '|') i++;
    }
    sb_adds(&row, "|\n");
    if (!cells) {
        sb_free(&row);
        return 0;
    }
    if (!header_done) {
        /* GFM tables need a header: a table without one gets an empty one. */
        *ncols = cells;
        jw_line(w);
        if (header) sb_adds(w->out, sb_str(&row));
        else for (size_t c = 0; c < cells; c++) sb_adds(w->out, c + 1 < cells ? "|   " : "|   |\n");
        jw_line(w);
        for (size_t c = 0; c < cells; c++) sb_adds(w->out, "| --- ");
        sb_adds(w->out, "|\n");
        if (header) {
            sb_free(&row);
            return 1;
        }
    }
    jw_line(w);
    sb_adds(w->out, sb_str(&row));
    sb_free(&row);
    return 1;
}

/* One line of wiki text outside code blocks. */
static void jw_wiki_line(jw *w, const char *s, size_t n)
{
    while (n && (s[0] == ' ' || s[0] == '\t')) s++, n--;    /* leading blanks mean nothing */
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
    size_t tags = 0, k;
    while (tags < n && (k = jw_color_tag(s + tags, n - tags))) tags += k;
    if (n && tags == n) return;                             /* a line of {color} tags only */
    if (!n) {
        /* A paragraph break; it also ends a list or a table. */
        if (w->prev != B_NONE) jw_blank(w);
        w->prev = B_NONE;
        w->depth = 0;
        return;
    }
    if (n >= 4 && s[0] == 'h' && s[1] >= '1' && s[1] <= '6' && s[2] == '.' && s[3] == ' ') {
        jw_begin(w, B_HEAD);
        jw_line(w);
        for (int i = 0; i < s[1] - '0'; i++) sb_addc(w->out, '#');
        sb_addc(w->out, ' ');
        jw_inline(w->out, s + 4, n - 4, 0, 0);
        sb_addc(w->out, '\n');
        return;
    }
    if (jw_starts(s, n, "bq. ")) {
        jw_begin(w, B_HEAD);
        jw_line(w);
        sb_adds(w->out, "> ");
        jw_inline(w->out, s + 4, n - 4, 0, 0);
        sb_addc(w->out, '\n');
        return;
    }
    if (n == 4 && !strncmp(s, "----", 4)) {
        jw_begin(w, B_RULE);
        jw_line(w);
        sb_adds(w->out, "***\n");
        return;
    }
    size_t d = 0;
    while (d < n && (s[d] == '*' || s[d] == '#')) d++;
    if (!d && s[0] == '-') d = 1;
    if (d && d < n && s[d] == ' ' && (s[0] != '-' || d == 1)) {
        size_t r = d;
        while (r < n && s[r] == ' ') r++;
        if (r < n) {
            jw_list_item(w, s, d, s + r, n - r);
            return;
        }
    }
    if (s[0] == '|') {
        int header_done = w->prev == B_TABLE;
        size_t ncols = 0;
        if (!header_done) jw_begin(w, B_TABLE);
        if (jw_row(w, s, n, header_done, &ncols)) return;
    }
    jw_begin(w, B_PARA);
    jw_line(w);
    jw_inline(w->out, s, n, 0, 0);
    sb_addc(w->out, '\n');
}

static void jw_wiki(jw *w, const char *s, size_t n)
{
    while (n) {
        const char *nl = jw_memchr(s, n, '\n');
        size_t len = nl ? (size_t)(nl - s) : n;
        jw_wiki_line(w, s, len);
        if (!nl) break;
        s += len + 1;
        n -= len + 1;
    }
}

/* A fenced block holding s verbatim; lang only if it is a plain word. */
static void jw_fence(jw *w, const char *s, size_t n, const char *lang, size_t ln)
{
    /* Drop the line break right after the opening tag and before the close. */
    if (n && s[0] == '\r') s++, n--;
    if (n && s[0] == '\n') s++, n--;
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) n--;
    size_t run = 0, longest = 2;
    for (size_t i = 0; i < n; i++) {
        run = s[i] == '`' ? run + 1 : 0;
        if (run > longest) longest = run;
    }
    jw_begin(w, B_CODE);
    jw_line(w);
    for (size_t i = 0; i <= longest; i++) sb_addc(w->out, '`');
    int plain = ln > 0 && ln < 32;
    for (size_t i = 0; i < ln; i++)
        if (!isalnum((unsigned char)lang[i]) && !strchr("+-_#.", lang[i])) plain = 0;
    if (plain) sb_add(w->out, lang, ln);
    sb_addc(w->out, '\n');
    size_t i = 0;
    while (i < n) {
        const char *nl = jw_memchr(s + i, n - i, '\n');
        size_t len = nl ? (size_t)(nl - (s + i)) : n - i;
        jw_line(w);
        sb_add(w->out, s + i, len && s[i + len - 1] == '\r' ? len - 1 : len);
        sb_addc(w->out, '\n');
        i += len + 1;
    }
    jw_line(w);
    for (size_t k = 0; k <= longest; k++) sb_addc(w->out, '`');
    sb_addc(w->out, '\n');
}

/* The block macros: {code...}, {noformat...}, {quote}, {panel...}. */
typedef struct jw_macro {
    const char *name;
    size_t start, tag_end;   /* offsets of '{' and just past '}' */
    const char *param;       /* text after ':' inside the tag */
    size_t nparam;
} jw_macro;

static int jw_find_macro(const char *s, size_t from, jw_macro *m)
{
    static const char *const names[] = {"code", "noformat", "quote", "panel"};
    for (const char *p = strchr(s + from, '{'); p; p = strchr(p + 1, '{')) {
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
            size_t nl = strlen(names[k]);
            if (strncmp(p + 1, names[k], nl) || (p[1 + nl] != '}' && p[1 + nl] != ':')) continue;
            const char *close = strchr(p + 1 + nl, '}');
            const char *nlc = strchr(p + 1 + nl, '\n');
            if (!close || (nlc && nlc < close)) continue;
            m->name = names[k];
            m->start = (size_t)(p - s);
            m->tag_end = (size_t)(close - s) + 1;
            m->param = p[1 + nl] == ':' ? p + 2 + nl : close;
            m->nparam = (size_t)(close - m->param);
            return 1;
        }
    }
    return 0;
}

char *web_jira_to_markdown(const char *wiki)
{
    sbuf out;
    sb_init(&out);
    jw w = {.out = &out};
    if (!wiki) wiki = "";
    size_t pos = 0, len = strlen(wiki);
    jw_macro m;
    while (pos < len && jw_find_macro(wiki, pos, &m)) {
        jw_wiki(&w, wiki + pos, m.start - pos);
        if (!strcmp(m.name, "code") || !strcmp(m.name, "noformat")) {
            char close[16];
            snprintf(close, sizeof close, "{%s}", m.name);
            const char *e = strstr(wiki + m.tag_end, close);
            size_t end = e ? (size_t)(e - wiki) : len;
            /* {code:title=X.java|borderStyle=solid} has no language; {code:java} has. */
            size_t ln = 0;
            if (!strcmp(m.name, "code"))
                while (ln < m.nparam && m.param[ln] != '|' && m.param[ln] != '=') ln++;
            if (ln < m.nparam && m.param[ln] == '=') ln = 0;
            jw_fence(&w, wiki + m.tag_end, end - m.tag_end, m.param, ln);
            pos = e ? end + strlen(close) : len;
        } else {
            /* A plain blank line: it ends a quote being closed, and keeps
             * the text before a quote being opened out of it. */
            if (!strcmp(m.name, "quote")) w.quote = !w.quote;
            if (out.len) sb_addc(&out, '\n');
            w.prev = B_NONE;
            w.depth = 0;
            pos = m.tag_end;
        }
    }
    if (pos < len) jw_wiki(&w, wiki + pos, len - pos);
    return sb_take(&out);
}
