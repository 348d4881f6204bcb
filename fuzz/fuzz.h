/* fuzz.h -- helpers the libFuzzer targets in fuzz/ share (not a library: a
 * header of static functions, included by each target).
 *
 * Every target is one file fuzz/fuzz_<name>.c built with
 * clang -fsanitize=fuzzer,address,undefined (make fuzz). A target checks
 * the contract of the code it drives, not only that it does not crash: a
 * broken promise calls fuzz_fail(), which abort()s so libFuzzer records the
 * input. Seeds that once broke a check stay in the corpus:
 * seeds/markdown/schemes.md and jira_links.wiki (the link allowlist, issue
 * 11 C), cut_*.gz and trailing_garbage.json.gz made by seeds.sh (damaged
 * gzip, issue 11 A), seeds/gh_headers/redact_gaps (gh_redact_url) and
 * seeds/gh_pages/timeline_negative.json (timeline numbers).
 */
#ifndef DP_FUZZ_H
#define DP_FUZZ_H

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../src/common/util.h"

#define fuzz_fail(...)                                                  \
    do {                                                                \
        fprintf(stderr, "fuzz: %s:%d: ", __FILE__, __LINE__);           \
        fprintf(stderr, __VA_ARGS__);                                   \
        fputc('\n', stderr);                                            \
        abort();                                                        \
    } while (0)

#define fuzz_check(cond, ...)                                           \
    do {                                                                \
        if (!(cond)) fuzz_fail("check failed: " #cond ": " __VA_ARGS__); \
    } while (0)

/* data[0..size) as an owned NUL-terminated string (bytes after a NUL are
 * invisible to C-string APIs anyway). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    return xstrndup((const char *)data, size);
}

/* Cuts the next part off *p (up to the separator byte sep or the end) into
 * an owned string; *p and *n advance past the separator. */
static inline char *fuzz_part(const uint8_t **p, size_t *n, char sep)
{
    const uint8_t *e = memchr(*p, sep, *n);
    size_t len = e ? (size_t)(e - *p) : *n;
    char *s = xstrndup((const char *)*p, len);
    *p += e ? len + 1 : len;
    *n -= e ? len + 1 : len;
    return s;
}

/* ---- HTML output checks (markdown, Jira, the API's body_html) -------------
 *
 * The renderers promise HTML that can do nothing but show text and links:
 * no script, no event handler, no style, and no URL a click could turn into
 * something else than opening a web page. The checker reads tags the way a
 * browser does: attribute values have their character references decoded,
 * and a URL loses leading/trailing spaces/controls and every tab/newline
 * before its scheme is read.
 *
 * Checked: no dangerous element, no on* or style attribute, and the link
 * allowlist (issue 11 C): every URL attribute is http(s):, mailto: or a
 * relative link that stays on this origin (not "//host", no backslash
 * trick); the one exception is an <img src> holding inline bytes,
 * data:image/{png,gif,jpeg,webp}, which the allowlist keeps as an image
 * (never as a link's href). */

/* Decodes the character references of an attribute value. */
static inline void fuzz_html_unescape(const char *s, size_t n, sbuf *out)
{
    for (size_t i = 0; i < n;) {
        if (s[i] != '&') {
            sb_addc(out, s[i++]);
            continue;
        }
        size_t j = i + 1;
        unsigned long cp = 0;
        int num = 0;
        if (j < n && s[j] == '#') {
            j++;
            int hex = j < n && (s[j] == 'x' || s[j] == 'X');
            if (hex) j++;
            size_t d0 = j;
            while (j < n && (hex ? isxdigit((unsigned char)s[j]) : isdigit((unsigned char)s[j])) && j - d0 < 8)
                cp = cp * (hex ? 16 : 10) +
                     (unsigned long)(isdigit((unsigned char)s[j]) ? s[j] - '0' : (tolower((unsigned char)s[j]) - 'a' + 10)),
                j++;
            num = j > d0;
        }
        if (num) {
            if (j < n && s[j] == ';') j++;
            /* Only ASCII matters for scheme checks; others become '?'. */
            sb_addc(out, cp > 0 && cp < 0x80 ? (char)cp : '?');
            i = j;
            continue;
        }
        static const struct { const char *name; char c; } ents[] = {
            {"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''},
            {"colon;", ':'}, {"sol;", '/'}, {"bsol;", '\\'}, {"Tab;", '\t'}, {"NewLine;", '\n'},
            {NULL, 0}};
        int hit = 0;
        for (int e = 0; ents[e].name; e++) {
            size_t el = strlen(ents[e].name);
            if (n - i - 1 >= el && !memcmp(s + i + 1, ents[e].name, el)) {
                sb_addc(out, ents[e].c);
                i += 1 + el;
                hit = 1;
                break;
            }
        }
        if (!hit) sb_addc(out, s[i++]);
    }
}

/* The scheme of a URL as a browser reads it (lower-cased into buf), or ""
 * when it has none (a relative URL). u is already unescaped. */
static inline const char *fuzz_url_scheme(const char *u, char *buf, size_t cap)
{
    size_t n = 0;
    if (!isalpha((unsigned char)*u)) return "";
    for (const char *p = u; *p; p++) {
        if (*p == ':') {
            buf[n < cap ? n : cap - 1] = '\0';
            return buf;
        }
        if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.') return "";
        if (n + 1 < cap) buf[n++] = (char)tolower((unsigned char)*p);
    }
    return "";
}

/* Checks one URL attribute value (img_src: an <img>'s src); returns NULL
 * when fine, else why not. */
static inline const char *fuzz_url_bad(const char *raw, size_t n, int img_src)
{
    static char why[160];
    sbuf dec, u;
    sb_init(&dec);
    sb_init(&u);
    fuzz_html_unescape(raw, n, &dec);
    /* As the URL parser does: strip C0 controls and spaces at both ends,
     * drop tabs and newlines anywhere. */
    const char *s = sb_str(&dec);
    size_t len = dec.len;
    while (len && (unsigned char)*s <= 0x20) s++, len--;
    while (len && (unsigned char)s[len - 1] <= 0x20) len--;
    for (size_t i = 0; i < len; i++)
        if (s[i] != '\t' && s[i] != '\n' && s[i] != '\r') sb_addc(&u, s[i]);
    const char *url = sb_str(&u);
    char sbuf_[32];
    const char *scheme = fuzz_url_scheme(url, sbuf_, sizeof sbuf_);
    const char *bad = NULL;
    if (!strcmp(scheme, "javascript") || !strcmp(scheme, "vbscript") || !strcmp(scheme, "file")) {
        bad = "a script or file URL";
    } else if (!strcmp(scheme, "data")) {
        const char *t = url + 5;
        int image = !strncasecmp(t, "image/png", 9) || !strncasecmp(t, "image/gif", 9) ||
                    !strncasecmp(t, "image/jpeg", 10) || !strncasecmp(t, "image/webp", 10);
        /* cmark's safe mode lets these through anywhere (an image turned
         * into a link keeps its URL); the allowlist only as an image. */
        if (!image || !img_src) bad = "a data: URL outside an <img src>";
    } else {
        if (*scheme) {
            if (strcmp(scheme, "http") && strcmp(scheme, "https") && strcmp(scheme, "mailto"))
                bad = "a scheme outside http, https and mailto";
        } else if ((url[0] == '/' || url[0] == '\\') && (url[1] == '/' || url[1] == '\\')) {
            bad = "a protocol-relative URL (another host)";
        } else if (url[0] == '\\') {
            bad = "a backslash URL";
        }
    }
    if (bad) snprintf(why, sizeof why, "%s: \"%.100s\"", bad, url);
    sb_free(&dec);
    sb_free(&u);
    return bad ? why : NULL;
}

/* Elements that never belong in a rendered issue body. */
static inline int fuzz_tag_bad(const char *t, size_t n)
{
    static const char *const bad[] = {"script", "style", "iframe", "frame", "frameset", "object",
                                      "embed", "applet", "base", "meta", "link", "form", "svg",
                                      "math", "template", "noscript", "textarea", "button",
                                      "select", "option", "video", "audio", "source", "portal",
                                      NULL};
    for (int i = 0; bad[i]; i++)
        if (strlen(bad[i]) == n && !strncasecmp(t, bad[i], n)) return 1;
    return 0;
}

static inline int fuzz_attr_is_url(const char *a, size_t n)
{
    static const char *const urls[] = {"href", "src", "action", "formaction", "poster",
                                       "background", "cite", "data", "xlink:href", "srcset",
                                       "longdesc", "ping", NULL};
    for (int i = 0; urls[i]; i++)
        if (strlen(urls[i]) == n && !strncasecmp(a, urls[i], n)) return 1;
    return 0;
}

/* Aborts (with the offending snippet) when html breaks the promise above.
 * `what` names the producer for the message. */
static inline void fuzz_check_html(const char *html, const char *what)
{
    const char *p = html;
    while ((p = strchr(p, '<'))) {
        const char *tag = p;
        if (!strncmp(p, "<!--", 4)) {
            const char *e = strstr(p + 4, "-->");
            if (!e) fuzz_fail("%s: unterminated comment at \"%.80s\"", what, tag);
            p = e + 3;
            continue;
        }
        p++;
        if (*p == '/') p++;
        const char *name = p;
        while (isalnum((unsigned char)*p) || *p == '-' || *p == ':') p++;
        size_t nlen = (size_t)(p - name);
        if (!nlen) fuzz_fail("%s: bare '<' in HTML at \"%.80s\"", what, tag);
        if (fuzz_tag_bad(name, nlen)) fuzz_fail("%s: <%.*s> element: \"%.120s\"", what, (int)nlen, name, tag);
        /* attributes */
        for (;;) {
            while (isspace((unsigned char)*p) || *p == '/') p++;
            if (*p == '>' ) { p++; break; }
            if (!*p) fuzz_fail("%s: unterminated tag \"%.120s\"", what, tag);
            const char *an = p;
            while (*p && !isspace((unsigned char)*p) && *p != '=' && *p != '>' && *p != '/') p++;
            size_t alen = (size_t)(p - an);
            if (!alen) fuzz_fail("%s: malformed tag \"%.120s\"", what, tag);
            const char *val = "";
            size_t vlen = 0;
            if (*p == '=') {
                p++;
                if (*p == '"' || *p == '\'') {
                    char q = *p++;
                    val = p;
                    const char *e = strchr(p, q);
                    if (!e) fuzz_fail("%s: unterminated attribute in \"%.120s\"", what, tag);
                    vlen = (size_t)(e - p);
                    p = e + 1;
                } else {
                    val = p;
                    while (*p && !isspace((unsigned char)*p) && *p != '>') p++;
                    vlen = (size_t)(p - val);
                }
            }
            if (alen >= 2 && !strncasecmp(an, "on", 2))
                fuzz_fail("%s: event handler attribute in \"%.120s\"", what, tag);
            if ((alen == 5 && !strncasecmp(an, "style", 5)) || (alen == 6 && !strncasecmp(an, "srcdoc", 6)))
                fuzz_fail("%s: %.*s attribute in \"%.120s\"", what, (int)alen, an, tag);
            if (fuzz_attr_is_url(an, alen)) {
                int img_src = nlen == 3 && !strncasecmp(name, "img", 3) && alen == 3 && !strncasecmp(an, "src", 3);
                const char *why = fuzz_url_bad(val, vlen, img_src);
                if (why) fuzz_fail("%s: %.*s is %s in \"%.160s\"", what, (int)alen, an, why, tag);
            }
        }
    }
}

#endif
