/* test_jira.c -- web_jira_to_markdown (Jira wiki markup to CommonMark) and
 * web_jira_render: each construct, literal text staying literal, key links,
 * and hostile input staying inert. */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "../../../src/web/web.h"
#include "safelinks.h"

#define ITEM "/item/7/"
#define BROWSE "https://issues.example.org/jira/browse/"

static void assert_has(const char *s, const char *needle)
{
    if (!strstr(s, needle)) fail_msg("missing [%s] in:\n%s", needle, s);
}

static void assert_lacks(const char *s, const char *needle)
{
    if (strstr(s, needle)) fail_msg("unexpected [%s] in:\n%s", needle, s);
}

/* wiki -> markdown must equal want exactly. */
static void md_is(const char *wiki, const char *want)
{
    char *md = web_jira_to_markdown(wiki);
    if (strcmp(md, want)) fail_msg("wiki:\n%s\nwant:\n%s\ngot:\n%s", wiki, want, md);
    free(md);
}

static char *render(const char *wiki)
{
    return web_jira_render(wiki, "HIVE", ITEM, BROWSE);
}

static void test_inline(void **state)
{
    (void)state;
    md_is("a *bold* and _it_ word", "a **bold** and *it* word\n");
    md_is("{{x = a*b}}", "`x = a*b`\n");
    md_is("{{a`b}}", "``a`b``\n");
    md_is("2*3*4 and snake_case_name", "2\\*3\\*4 and snake\\_case\\_name\n");
    md_is("[Apache|https://apache.org/a b]", "[Apache](<https://apache.org/a%20b>)\n");
    md_is("[https://x.org]", "[https\\:\\/\\/x\\.org](<https://x.org>)\n");
    md_is("[~alice] [^log.txt] [INFO]", "@alice log\\.txt \\[INFO\\]\n");
    md_is("\\*not bold\\*", "\\*not bold\\*\n");
    md_is("<b>#1</b>", "\\<b\\>\\#1\\<\\/b\\>\n");
}

static void test_blocks(void **state)
{
    (void)state;
    md_is("h1. Top\nh3. Sub *x*", "# Top\n\n### Sub **x**\n");
    md_is("bq. quoted", "> quoted\n");
    md_is("one\ntwo\n\nthree", "one\ntwo\n\nthree\n");
    md_is("   indented text", "indented text\n");   /* not a markdown code block */
    md_is("a\n----\nb", "a\n\n***\n\nb\n");
    /* lists: nesting by marker runs, a level never without its parent, and
     * a plain line after a list is a new paragraph */
    md_is("* a\n** b\n*** c\n# d\nafter", "- a\n  - b\n    - c\n1. d\n\nafter\n");
    md_is("*** deep first", "- deep first\n");
    md_is("# one\n#* sub", "1. one\n   - sub\n");
    md_is("- dash", "- dash\n");
    md_is("-- not a list", "\\-\\- not a list\n");
    md_is("*bold* start", "**bold** start\n");
    /* tables */
    md_is("||h1||h2||\n|a|b|\n|{{x|y}}|[t|http://u]|",
          "| h1 | h2 |\n| --- | --- |\n| a | b |\n| `x\\|y` | [t](<http://u>) |\n");
    md_is("|a|b|", "|   |   |\n| --- | --- |\n| a | b |\n");
    md_is("text\n|a|", "text\n\n|   |\n| --- |\n| a |\n");
}

static void test_macros(void **state)
{
    (void)state;
    md_is("{code:java}\nint a = `b`;\n{code}", "```java\nint a = `b`;\n```\n");
    md_is("{code:title=A.java|borderStyle=solid}\nx\n{code}", "```\nx\n```\n");
    md_is("{code}\n```\n{code}", "````\n```\n````\n");
    md_is("{noformat}\n*not bold* <b>\n{noformat}", "```\n*not bold* <b>\n```\n");
    md_is("before {code}x{code} after", "before\n\n```\nx\n```\n\nafter\n");
    md_is("{code}\nno end", "```\nno end\n```\n");
    md_is("{quote}\nq *1*\nq2\n{quote}\nout", "> q **1**\n> q2\n\nout\n");
    md_is("{panel:title=T}\ninside\n{panel}", "inside\n\n");
}

static void test_render(void **state)
{
    (void)state;
    char *h = render("h2. Title\nSee HIVE-99, HADOOP-12 and HIVE-0 or XHIVE-1x.\n"
                     "# one\n# two\n\n||k||v||\n|a|b|\n{code:sql}\nSELECT 1;\n{code}\n"
                     "{quote}wise{quote}\n{{HIVE-5}} [link|http://example.org/]");
    assert_has(h, "<h2>Title</h2>");
    assert_has(h, "<a href=\"/item/7/HIVE-99\">HIVE-99</a>");
    assert_has(h, "<a href=\"" BROWSE "HADOOP-12\">HADOOP-12</a>");
    assert_lacks(h, "HIVE-0</a>");
    assert_lacks(h, "XHIVE-1x</a>");
    assert_has(h, "<ol>\n<li>one</li>\n<li>two</li>\n</ol>");
    assert_has(h, "<th>k</th>");
    assert_has(h, "<pre><code class=\"language-sql\">SELECT 1;\n</code></pre>");
    assert_has(h, "<blockquote>\n<p>wise</p>\n</blockquote>");
    assert_has(h, "<code>HIVE-5</code>");                           /* no link inside code */
    assert_has(h, "<a href=\"http://example.org/\">link</a>");
    free(h);
    /* other projects' keys stay text without a tracker URL */
    h = web_jira_render("HIVE-1 HADOOP-2", "HIVE", ITEM, NULL);
    assert_has(h, "<a href=\"/item/7/HIVE-1\">HIVE-1</a>");
    assert_lacks(h, "HADOOP-2</a>");
    free(h);
}

static void test_hostile(void **state)
{
    (void)state;
    char *h = render("<script>alert(1)</script> <img src=x onerror=alert(2)>\n"
                     "[x|javascript:alert(3)] [javascript:alert(4)] [d|data:text/html,<script>alert(5)</script>]\n"
                     "[y|http://a.org/\"><script>alert(6)</script>]\n"
                     "{{<iframe src=javascript:alert(7)>}} *<b onmouseover=alert(8)>*\n"
                     "{code:\"><script>alert(9)</script>}\nx\n{code}\n"
                     "||<svg onload=alert(10)>||\n|<a href=javascript:alert(11)>|\n");
    assert_lacks(h, "<script");
    assert_lacks(h, "<img");
    assert_lacks(h, "<iframe");
    assert_lacks(h, "<svg");
    assert_lacks(h, "<b ");
    assert_lacks(h, "<a href=\"javascript");
    assert_lacks(h, "<a href=\"data");
    assert_lacks(h, "href=\"\"");
    assert_has(h, "&lt;script&gt;alert(1)&lt;/script&gt;");             /* shown as text */
    assert_has(h, "<a href=\"http://a.org/%22%3E%3Cscript%3Ealert(6)%3C/script%3E\">y</a>");
    free(h);
    /* NULL and empty input, NUL-free garbage */
    char *md = web_jira_to_markdown(NULL);
    assert_string_equal(md, "");
    free(md);
    md = web_jira_to_markdown("{{}} {{ [|] [ ** __ || | {code:} {quote}");
    assert_non_null(md);
    free(md);
}

static const char *const INTERNAL[] = {ITEM, NULL};

static void test_allowlist(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "ftp://host/f", "ms-msdt:id", "search-ms:query=x", "vscode://file/x", "smb://host/s", "ssh://host",
        "intent://x#Intent;end", "chrome://settings", "ms-word:ofe|u|http://x", "//evil.example/p",
        "\\\\evil.example\\p", "/\\evil.example", "http:\\\\evil.example", "jav&#x61;script:alert(1)",
        "JavaScript:alert(1)", "java\tscript:x", "file:///etc/passwd", "/api/pairs",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char wiki[256];
        snprintf(wiki, sizeof wiki, "[shown|%s] [%s] !%s!", bad[i], bad[i], bad[i]);
        char *h = render(wiki);
        safelinks_check(h, INTERNAL);
        assert_lacks(h, "<a");
        assert_has(h, "shown");
        free(h);
    }
    char *h = render("[a|http://a.example] [b|HTTPS://b.example] [c|mailto:c@d.example] [https://e.example]");
    safelinks_check(h, INTERNAL);
    assert_has(h, "<a href=\"http://a.example\">a</a>");
    assert_has(h, "<a href=\"HTTPS://b.example\">b</a>");
    assert_has(h, "<a href=\"mailto:c@d.example\">c</a>");
    assert_has(h, "<a href=\"https://e.example\">https://e.example</a>");
    free(h);
}

static void test_images_and_color(void **state)
{
    (void)state;
    md_is("!image.png!", "\\[image\\: image\\.png\\]\n");
    md_is("see !x.JPG|thumbnail! and !a b.gif|align=right, vspace=4!",
          "see \\[image\\: x\\.JPG\\] and \\[image\\: a b\\.gif\\]\n");
    md_is("!http://host/p/a.png!", "![a\\.png](<http://host/p/a.png>)\n");
    md_is("!https://host/a.png|width=300!", "![a\\.png](<https://host/a.png>)\n");
    /* not images: prose, no image extension, a word before, spaces */
    md_is("Wow! Great!", "Wow\\! Great\\!\n");
    md_is("!important! x!y.png! ! a.png!", "\\!important\\! x\\!y\\.png\\! \\! a\\.png\\!\n");
    md_is("|!x.png|thumbnail!|b|", "|   |   |\n| --- | --- |\n| \\[image\\: x\\.png\\] | b |\n");
    md_is("{color:red}red{color} and {color:#ff0000}hex{color}", "red and hex\n");
    md_is("{color:red}\n* item\n{color}", "- item\n");
    md_is("{color} {color:} {colour:red}", " \\{color\\:\\} \\{colour\\:red\\}\n");
    md_is("-gone- +kept+ a-b-c --x-- -- -", "~~gone~~ kept a\\-b\\-c \\-\\-x\\-\\- \\-\\- \\-\n");
    char *h = render("!shot.png! !http://i.example/a.png! !ms-msdt:x.png! {color:blue}*b*{color}");
    safelinks_check(h, INTERNAL);
    assert_has(h, "[image: shot.png]");
    assert_has(h, "<a href=\"http://i.example/a.png\">image: a.png</a>");
    assert_has(h, "[image: ms-msdt:x.png]");
    assert_has(h, "<strong>b</strong>");
    assert_lacks(h, "color");
    assert_lacks(h, "<img");
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_macros),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_allowlist),
        cmocka_unit_test(test_images_and_color),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
