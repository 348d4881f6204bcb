/* test_markdown.c -- web_markdown_render: GitHub features, #N links, safety. */
#include <stdlib.h>

#include "testutil.h"
#include "../../../src/web/web.h"

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
        cmocka_unit_test(test_edge_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
