/* test_markdown.c -- web_markdown_render: GitHub features, #N links, safety. */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "../../../src/web/web.h"
#include "safelinks.h"

#define BASE "https://github.com/o/r/issues/"

static char *render(const char *md)
{
    return web_markdown_render(md, BASE);
}

static void assert_has(const char *html, const char *needle)
{
    if (!strstr(html, needle)) fail_msg("missing [%s] in:\n%s", needle, html);
}

static void assert_lacks(const char *html, const char *needle)
{
    if (strstr(html, needle)) fail_msg("unexpected [%s] in:\n%s", needle, html);
}

static void test_gfm_features(void **state)
{
    (void)state;
    char *h = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ new\n\n- [x] done\n- [ ] todo\n\n"
                     "see https://example.com/x\n\n```c\nint x;\n```\n");
    assert_has(h, "<table>");
    assert_has(h, "<td>1</td>");
    assert_has(h, "<del>old</del>");
    assert_has(h, "<input type=\"checkbox\" checked=\"\" disabled=\"\" /> done");
    assert_has(h, "<a href=\"https://example.com/x\">https://example.com/x</a>");
    assert_has(h, "<pre><code class=\"language-c\">int x;");
    free(h);
}

static void test_hard_breaks(void **state)
{
    (void)state;
    char *h = render("line one\nline two");
    assert_has(h, "line one<br />");
    free(h);
}

static void test_issue_refs(void **state)
{
    (void)state;
    char *h = render("Dup of #4606, see (#12). Not: a#5, `#7`, #0, #x, [#9](https://e.com), ##8\n");
    assert_has(h, "<a href=\"" BASE "4606\">#4606</a>");
    assert_has(h, "(<a href=\"" BASE "12\">#12</a>)");
    assert_lacks(h, BASE "5\"");
    assert_lacks(h, BASE "7\"");
    assert_lacks(h, BASE "0\"");
    assert_lacks(h, BASE "9\"");
    assert_has(h, "<code>#7</code>");
    assert_has(h, "<a href=\"https://e.com\">#9</a>");
    free(h);
    h = web_markdown_render("see #3", NULL);
    assert_lacks(h, "<a");
    free(h);
    h = web_markdown_render("#1 at start and end #2", "/item/3/");
    assert_has(h, "<a href=\"/item/3/1\">#1</a> at start and end <a href=\"/item/3/2\">#2</a>");
    free(h);
}

static void test_no_raw_html(void **state)
{
    (void)state;
    char *h = render("<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
                     "<iframe src=\"javascript:alert(3)\"></iframe>\n\n<svg onload=alert(4)>\n\n"
                     "text <b onclick=alert(5)>bold</b>\n");
    assert_lacks(h, "<script");
    assert_lacks(h, "<img");
    assert_lacks(h, "<iframe");
    assert_lacks(h, "<svg");
    assert_lacks(h, "onclick");
    assert_lacks(h, "onerror");
    free(h);
}

static void test_dangerous_urls(void **state)
{
    (void)state;
    char *h = render("[a](javascript:alert(1)) [b](JAVASCRIPT:alert(1)) [c](vbscript:x) "
                     "[d](data:text/html;base64,PHNjcmlwdD4=) [e](file:///etc/passwd) "
                     "[t](https://ok.example \"x\\\" onmouseover=\\\"alert(1)\") <javascript:alert(1)>");
    assert_lacks(h, "javascript:alert(1)\"");
    assert_lacks(h, "href=\"javascript");
    assert_lacks(h, "href=\"vbscript");
    assert_lacks(h, "href=\"data:text");
    assert_lacks(h, "href=\"file:");
    assert_has(h, "title=\"x&quot; onmouseover=&quot;alert(1)\"");
    free(h);
}

static void test_images_become_links(void **state)
{
    (void)state;
    char *h = render("![shot](https://tracker.example/p.png \"T\") ![ok](data:image/png;base64,iVBORw0KGgo=)");
    assert_has(h, "<a href=\"https://tracker.example/p.png\" title=\"T\">image: shot</a>");
    assert_lacks(h, "<img src=\"https://");
    assert_has(h, "<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"ok\" />");
    free(h);
}

static const char *const INTERNAL[] = {BASE, NULL};

/* Renders md; every href/src must pass the allowlist, and `text` (the
 * dropped link's text) must still be visible, outside any link. */
static void dropped(const char *md, const char *text)
{
    char *h = render(md);
    safelinks_check(h, INTERNAL);
    assert_lacks(h, "<a");
    assert_has(h, text);
    free(h);
}

static void test_allowlist_schemes(void **state)
{
    (void)state;
    /* every scheme of the report, inline, as autolink and as reference */
    static const char *const bad[] = {
        "ms-msdt:id PCWDiagnostic", "search-ms:query=x", "vscode://file/etc/passwd", "smb://host/share",
        "ftp://host/f", "ssh://host", "intent://x#Intent;end", "chrome://settings", "ms-word:ofe|u|http://x/a.doc",
        "javascript:alert(1)", "vbscript:x", "file:///etc/passwd", "data:text/html,x", "tel:123", "irc://x/y",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char md[256];
        snprintf(md, sizeof md, "[shown](<%s>)", bad[i]);
        dropped(md, "shown");
        snprintf(md, sizeof md, "<%s>", bad[i]);
        if (!strchr(bad[i], ' ')) {
            char *h = render(md);
            safelinks_check(h, INTERNAL);
            assert_lacks(h, "<a");
            free(h);
        }
        snprintf(md, sizeof md, "[shown][r]\n\n[r]: <%s>\n", bad[i]);
        dropped(md, "shown");
        snprintf(md, sizeof md, "[shown]\n\n[shown]: <%s> \"t\"\n", bad[i]);
        dropped(md, "shown");
    }
    /* mixed case, the GFM autolink extension */
    dropped("[a](MS-MSDT:x) [b](VsCode://x) [c](JaVaScRiPt:alert(1))", "a b c");
    dropped("see ftp://host/f and ftp://user@host.example/x", "ftp://host/f");
    /* the allowed ones survive, in any case */
    char *h = render("[a](http://a.example) [b](HTTPS://b.example) [c](mailto:x@y.example) <https://d.example> "
                     "www.e.example f@g.example");
    safelinks_check(h, INTERNAL);
    assert_has(h, "<a href=\"http://a.example\">a</a>");
    assert_has(h, "<a href=\"HTTPS://b.example\">b</a>");
    assert_has(h, "<a href=\"mailto:x@y.example\">c</a>");
    assert_has(h, "<a href=\"https://d.example\">");
    assert_has(h, "<a href=\"http://www.e.example\">");
    assert_has(h, "<a href=\"mailto:f@g.example\">");
    free(h);
}

static void test_allowlist_tricks(void **state)
{
    (void)state;
    /* protocol-relative and backslash forms navigate away from the page */
    dropped("[p](//evil.example/p)", "p");
    dropped("[p](\\\\evil.example/p)", "p");
    dropped("[p](/\\evil.example/p)", "p");
    dropped("[p](http:\\\\evil.example/p)", "p");
    dropped("[p](https:/evil.example) [q](http:evil.example)", "p");
    /* relative links would be resolved against this page */
    dropped("[r](/api/pairs) [s](?token=x) [t](#x) [u](item/3)", "r");
    /* entity-encoded, escaped, whitespace and control characters */
    dropped("[e](jav&#x61;script:alert(1)) [f](&#106;avascript:x) [g](javascript&colon;x)", "e");
    dropped("[h](java\\script:x) [i](<java\tscript:x>) [j](<\x01javascript:x>)", "h");
    dropped("[k](<https://ok.example/\x01>) [l](<http://ok.example/\x7f>)", "k");
    dropped("[m](%6aavascript:x) [o](ms&#x2D;msdt:x)", "m");
    /* (an entity that decodes to an allowed scheme is that scheme) */
    char *h = render("[n](&#x68;ttp://x.example)");
    assert_has(h, "<a href=\"http://x.example\">n</a>");
    free(h);
    /* an image whose URL is refused becomes text, never a link or an img */
    dropped("![diag](ms-msdt:x) ![p](//evil.example/a.png) ![q](data:text/html,x)", "image: diag");
    /* a refused link around an image: neither becomes a link */
    dropped("[![in](https://i.example/a.png)](smb://host/x)", "image: in");
    /* raw HTML stays out, and so do the URLs in it */
    h = render("<a href=\"ms-msdt:x\">t1</a> <a href=//evil.example>t2</a>\n\n"
                     "<form action=\"//evil.example\"><button formaction=x>b</button></form>\n");
    safelinks_check(h, INTERNAL);
    assert_lacks(h, "<a");
    assert_has(h, "t1");
    free(h);
}

static void test_raw_img(void **state)
{
    (void)state;
    char *h = render("a <img src=\"https://i.example/a.png?x=1&amp;y=2\" alt=\"a &amp; b\" width=\"3\"> b\n\n"
                     "<IMG SRC=http://i.example/b.png>\n\n"
                     "<p align=\"center\">\n  <img src='https://i.example/logo.svg'/> <img alt=\"no src\">\n</p>\n\n"
                     "<img src=\"jav&#x61;script:alert(1)\" alt=\"j\"> <img src=\"ms-msdt:x\" alt=\"m\"> "
                     "<img src=\"//evil.example/c.png\" alt=\"c\"> <img src=x onerror=alert(1)>\n");
    safelinks_check(h, INTERNAL);
    assert_lacks(h, "<img");
    assert_lacks(h, "onerror");
    assert_has(h, "<a href=\"https://i.example/a.png?x=1&amp;y=2\">image: a &amp; b</a>");
    assert_has(h, "<a href=\"http://i.example/b.png\">image: b.png</a>");
    assert_has(h, "<a href=\"https://i.example/logo.svg\">image: logo.svg</a>");
    assert_has(h, "image: no src");
    assert_has(h, "image: j");
    assert_has(h, "image: m");
    assert_has(h, "image: c");
    free(h);
    /* a raw <img> inside a link is text: links do not nest */
    h = render("[<img src=\"https://i.example/a.png\" alt=\"x\">](https://l.example)");
    assert_has(h, "<a href=\"https://l.example\">image: x</a>");
    free(h);
    /* not an img tag, or an unfinished one (which is text): no image link */
    h = render("<imgx src=\"https://i.example/a.png\"> <img src=\"https://i.example/b.png\n");
    assert_lacks(h, "a.png");
    assert_lacks(h, "image:");
    assert_has(h, "&lt;img src=&quot;");
    free(h);
}

static void test_edge_inputs(void **state)
{
    (void)state;
    char *h = web_markdown_render(NULL, BASE);
    assert_string_equal(h, "");
    free(h);
    h = render("bad \xff\xfe utf8 #5");
    assert_has(h, "\xef\xbf\xbd");
    assert_has(h, BASE "5");
    free(h);
    /* long nesting must not blow up */
    char *deep = malloc(20001);
    memset(deep, '>', 20000);
    deep[20000] = 0;
    h = render(deep);
    assert_non_null(h);
    free(h);
    free(deep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gfm_features),     cmocka_unit_test(test_hard_breaks),
        cmocka_unit_test(test_issue_refs),       cmocka_unit_test(test_no_raw_html),
        cmocka_unit_test(test_dangerous_urls),   cmocka_unit_test(test_images_become_links),
        cmocka_unit_test(test_edge_inputs),      cmocka_unit_test(test_allowlist_schemes),
        cmocka_unit_test(test_allowlist_tricks), cmocka_unit_test(test_raw_img),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
