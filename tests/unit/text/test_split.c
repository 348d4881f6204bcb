/* test_split.c -- the edges text_split_compact's fast paths rely on: the
 * inline walk copies plain text a run at a time and finds where a construct
 * may open sixteen bytes a step (a bare URL only after a byte that is no
 * ASCII letter or digit, at any place around the 16-byte steps); a line
 * with no comment or block marker is split as it is, but an empty line
 * inside an HTML comment is still no blank line; the squeeze copies runs of
 * non-blank lines at once; the trace test picks its checks by a line's
 * first byte. Expected texts are what the former byte-at-a-time split
 * gave. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "../../../src/text/text.h"
#include "../../../src/text/text_int.h"

static text_fields *split_body(const char *body)
{
    item it;
    item_init(&it);
    it.title = xstrdup("t");
    it.body = xstrdup(body);
    text_fields *c = text_split_compact(&it, NULL);
    item_free(&it);
    return c;
}

static void assert_split(const char *body, const char *prose, const char *code)
{
    text_fields *c = split_body(body);
    assert_string_equal(c->f[FIELD_PROSE], prose);
    assert_string_equal(c->f[FIELD_CODE], code);
    free(c);
}

/* A bare URL is dropped after a space, '(', '_' or a non-ASCII byte, kept
 * as text after a letter or a digit; and the other openers, wherever they
 * sit in a line (before, on and after each 16-byte step). */
static void test_split_openers_any_offset(void **st)
{
    (void)st;
    static const struct { const char *sep; int drops; } seps[] = {
        {" ", 1}, {"(", 1}, {"_", 1}, {"\xc3\xa9", 1}, {"@", 1}, {"/", 1}, {":", 1}, {"[", 1}, {"{", 1},
        {"a", 0}, {"Z", 0}, {"9", 0}, {"0", 0}, {"z", 0}, {"A", 0}, {"\t", 1},
    };
    char body[128], prose[128];
    for (size_t k = 0; k < 40; k++) {
        char pre[48];
        for (size_t i = 0; i < k; i++) pre[i] = (char)('b' + i % 3);   /* b c d: no opener */
        pre[k] = '\0';
        for (size_t s = 0; s < sizeof seps / sizeof *seps; s++) {
            if (k == 0 && (seps[s].sep[0] == ' ' || seps[s].sep[0] == '\t'))
                continue;   /* a line's leading blanks are no prose (a tab makes it code) */
            snprintf(body, sizeof body, "%s%shttp://e.com/p tail", pre, seps[s].sep);
            if (seps[s].drops) snprintf(prose, sizeof prose, "%s%s  tail", pre, seps[s].sep);
            else snprintf(prose, sizeof prose, "%s", body);
            assert_split(body, prose, "");
        }
        /* at the line's start, and each word starter that is no URL */
        snprintf(body, sizeof body, "%swww.e.org x", pre);
        snprintf(prose, sizeof prose, k ? "%swww.e.org x" : "%s  x", pre);
        assert_split(body, prose, "");
        snprintf(body, sizeof body, "%s-with ftp://f/x from hello", pre);
        snprintf(prose, sizeof prose, "%s-with   from hello", pre);
        assert_split(body, prose, "");
        /* the openers that need no word start */
        snprintf(body, sizeof body, "%s`code`x {{mono}} ![i](u) !p.png! [t](u) [a|u] <br> <!x", pre);
        snprintf(prose, sizeof prose, "%s x       t a   <!x", pre);
        assert_split(body, prose, "code\nmono");
    }
    /* a URL right at a 16-byte step, after a non-letter */
    assert_split("0123456789abcde-https://x.y/z end", "0123456789abcde-  end", "");
    assert_split("0123456789abcdef-https://x.y/z end", "0123456789abcdef-  end", "");
    assert_split("0123456789abcdefhttps://x.y/z end", "0123456789abcdefhttps://x.y/z end", "");
}

/* A line with no marker goes on as it is: a CR before the LF is not text,
 * one inside is; a line eaten by a comment is not blank, nor is an empty
 * line inside a comment (neither may start an indented code block). */
static void test_split_comment_lines(void **st)
{
    (void)st;
    assert_split("text\n<!-- a\n\n    not code\n-->\n    indented\nafter", "text\nindented\nafter", "");
    assert_split("text\n\n<!-- a\n-->\n    code", "text", "code");
    assert_split("a <!-- b --> c <!-- d\ne --> f", "a  c \nf", "");
    assert_split("x <!-- y ---> z", "x  z", "");
    assert_split("one\r\ntwo\rthree\r\n\r\n\r\nfour", "one\ntwo\rthree\n\nfour", "");
    assert_split("{code}x = 1;{code} after\n{noformat}a {no b{noformat}c", "after\n\nc", "x = 1;\na {no b");
    assert_split("{code:java}\nint x;\n<!-- not a comment -->\n{code}\ntail", "tail", "int x;\n<!-- not a comment -->");
}

/* Blank lines are white space only (\t \v \f \r too), at most one kept
 * between two others, none at either end; the last line needs no LF. */
static void test_split_squeeze(void **st)
{
    (void)st;
    assert_split("\n\n  \t\nA\n \n\n\v\f\nB\n\n", "A\n\nB", "");
    assert_split("A\n\nB", "A\n\nB", "");
    assert_split("A\nB\n\n\n\nC\nD", "A\nB\n\nC\nD", "");
    assert_split("```\n\n x\n\n\n y\n  \n```\n", "", " x\n\n y");
    assert_split("`a` b", "  b", "a");   /* a line of only a space in prose is kept: not blank */
    assert_split("`a`\n\nb", "b", "a");
}

/* Each kind of trace line, found whatever its first byte picks, and lines
 * that open alike but are none. */
static void test_trace_openings(void **st)
{
    (void)st;
    static const char *const yes[] = {
        "at org.foo.Bar.baz(Bar.java:12)", "  at f (x.js:1:2)", "> at a.b(C.java)", "Caused by: java.io.IOException",
        "Traceback (most recent call last):", "Exception in thread \"main\" x", "goroutine 1 [running]:",
        "... 12 more", "File \"x.py\", line 3, in f", "#0  0x00007f in f ()", "#12 0x1 in g", "[2020-01-02 12:00] x",
        "2020-01-02 12:34:56,789 INFO x", "2020-01-02T12:34", "12/31/20 10:00 x", "12:34:56,789 x", "12:34:56.789",
        "2020/01/02 10:00", "\t/app/server.go:42 +0x1d", "/a/b.go:7", "x.go: +0x", "main.(*T).Serve(0xc000010000)",
        "main.(*T).Run()", "INFO starting", "[WARN] y", "ERROR: x", "DEBUG\tz", "WARNING", "[CRITICAL] q",
        "java.io.IOException: boom", "KeyError: 'x'", "ValueError: bad", "x.Error", "org.Foo$BarException x",
    };
    static const char *const no[] = {
        "at home we tried", "at", "Caused by nothing", "Traceback", "Exception", "goroutines are", "... x",
        "File \"x.py\"", "#1", "#12 is the issue", "[2020-01-0", "2020-01-02", "1234", "12:34", "x.go is fine", "a.go:1",
        "INFOx", "I think so", "In 2020", "Errors happen", "WARNINGS:", "SomeException", "ValueError", "Error:", "xError",
        "MyExceptionHandler:", "", "   ", ">",
    };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        if (!text_line_is_trace(yes[i], strlen(yes[i]))) fail_msg("not a trace: '%s'", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (text_line_is_trace(no[i], strlen(no[i]))) fail_msg("a trace: '%s'", no[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_openers_any_offset),
        cmocka_unit_test(test_split_comment_lines),
        cmocka_unit_test(test_split_squeeze),
        cmocka_unit_test(test_trace_openings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
