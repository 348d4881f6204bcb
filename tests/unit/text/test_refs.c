/* test_refs.c -- references to other items in text: kinds (duplicate,
 * follow-up, closing keyword, mention), Jira keys, bare numbers after a
 * duplicate phrase, and what must not count (code, hedges, questions,
 * versions, words glued to a key). */
#include "testutil.h"

#include <stdlib.h>

#include "../../../src/text/text.h"

/* Renders the refs of text as "key:kind" joined by spaces (kind m/f/x/b/d). */
static char *render(const char *text, int jira, int bare)
{
    static const char kinds[] = "?mfxbd";
    text_refs_opts o = {.numeric = 1, .bare = bare, .jira = jira, .closing = 1, .repo = "acme/widgets"};
    text_refs rs = {0};
    text_refs_scan(text, &o, &rs);
    sbuf sb;
    sb_init(&sb);
    sb_adds(&sb, "");
    for (size_t i = 0; i < rs.n; i++) sb_printf(&sb, "%s%s:%c", i ? " " : "", rs.v[i].key, kinds[rs.v[i].kind]);
    text_refs_free(&rs);
    return sb_take(&sb);
}

static void expect(const char *text, int jira, int bare, const char *want)
{
    char *got = render(text, jira, bare);
    if (strcmp(got, want) != 0) fail_msg("text [%s]: got [%s] want [%s]", text, got, want);
    free(got);
}

static void test_kinds(void **state)
{
    (void)state;
    expect("Duplicate of #12", 0, 0, "12:d");
    expect("duplicated by #12", 0, 0, "12:b");
    expect("fixes #7", 0, 0, "7:x");
    expect("see #3", 0, 0, "3:m");
    expect("Follow-up to #9", 0, 0, "9:f");
    expect("Disabled in HIVE-20577", 1, 0, "HIVE-20577:f");
    expect("a bug in HIVE-16523", 1, 0, "HIVE-16523:f");
    expect("backport of #44 to 2.x", 0, 0, "44:f");
    expect("This reverts #8", 0, 0, "8:f");
    expect("caused by HADOOP-9", 1, 0, "HADOOP-9:f");
    /* strongest kind per key */
    expect("see #12. Duplicate of #12", 0, 0, "12:d");
}

/* The phrase before a reference is read from the start of the word that
 * holds it (after a space or '('), however far the last reference is. */
static void test_word_starts(void **state)
{
    (void)state;
    expect("Duplicate of (#12)", 0, 0, "12:d");
    expect("x,#1,#2,#3 duplicate of #4", 0, 0, "1:m 2:m 3:m 4:d");
    expect("see #3 and then duplicate of #4, fixes #5", 0, 0, "3:m 4:d 5:x");
    expect("Duplicate of HIVE-9 (HIVE-10) fixes\nHIVE-11", 1, 0, "HIVE-9:d HIVE-10:m HIVE-11:m");
    char text[400];
    memset(text, ',', 300);
    strcpy(text + 300, "duplicate of #7 (#8)");
    expect(text, 0, 0, "7:d 8:m");
    /* code blocks and spans are blanked line by line, lines kept */
    expect("```\ncode #1\n```\nduplicate of #2 `#3` and #4", 0, 0, "2:d 4:m");
    expect("{code}\nHIVE-1\n{code}\nDuplicate of HIVE-2", 1, 0, "HIVE-2:d");
    expect("issue `a\nb` 42", 0, 1, "");   /* the span's newline stays: 42 starts a line */
}

static void test_hedges_and_questions(void **state)
{
    (void)state;
    expect("Possible duplicate of #12", 0, 0, "12:m");
    expect("I think 1) is a duplicate of AMQ-835 maybe?", 1, 0, "AMQ-835:m");
    expect("Is this a dup of #5?", 0, 0, "5:m");
    expect("Not sure at first. Duplicate of #12.", 0, 0, "12:d");
}

static void test_jira_keys(void **state)
{
    (void)state;
    expect("see HIVE-123 and [https://issues.apache.org/jira/browse/HDFS-77]", 1, 0, "HIVE-123:m HDFS-77:m");
    /* not keys: lower case, glued, versions, one-letter projects; "UTF-8"
     * reads like one, which is why callers take only their own projects */
    expect("UTF-8 on jdk-8, X-1, fooHIVE-1, HIVE-1.2.3, T-5", 1, 0, "UTF-8:m");
    expect("{code}HIVE-9 in a log{code} and {noformat}HIVE-10{noformat} HIVE-11", 1, 0, "HIVE-11:m");
    /* tags in any case, with options; "{code" without '}' or ':' opens nothing */
    expect("{Code:java}HIVE-9{CODE} {code HIVE-12 {NoFormat}HIVE-10{noformat} HIVE-11", 1, 0,
           "HIVE-12:m HIVE-11:m");
    /* a project filter */
    text_refs_opts o = {.jira = 1, .projects = "HIVE,HDFS"};
    text_refs rs = {0};
    text_refs_scan("HIVE-1 HADOOP-2 HDFS-3", &o, &rs);
    assert_int_equal(rs.n, 2);
    assert_string_equal(rs.v[1].key, "HDFS-3");
    assert_non_null(text_refs_find(&rs, "HIVE-1"));
    assert_null(text_refs_find(&rs, "HADOOP-2"));
    text_refs_free(&rs);
}

static void test_bare_numbers(void **state)
{
    (void)state;
    expect("duplicate of 4652", 0, 1, "4652:d");
    expect("see 1201 ... kill this bug", 0, 1, "1201:m");
    expect("see issue 77.", 0, 1, "77:m");
    /* not references: counts, versions, single digits, percentages */
    expect("duplicate of 3 rows", 0, 1, "");
    expect("same as 2.0", 0, 1, "");
    expect("see 5", 0, 1, "");
    expect("see 50%", 0, 1, "");
    /* between the words and the number: markup and punctuation, any case */
    expect("Bug: 1234", 0, 1, "1234:m");
    expect("**Same as** (4321)", 0, 1, "4321:d");
    expect("Ticket [99]", 0, 1, "99:m");
    /* no lead words before it on its line: stack frames, line starts */
    expect("at Foo.java:123)", 0, 1, "");
    expect("  :* 55", 0, 1, "");
    expect("duplicate of\n4652", 0, 1, "");
    expect("tissue 42", 0, 1, "");
    /* off unless asked */
    expect("duplicate of 4652", 0, 0, "");
}

static void test_code_is_not_text(void **state)
{
    (void)state;
    expect("`#12` and\n```\nDuplicate of #13\n```\n#14", 0, 0, "14:m");
    expect("", 1, 1, "");
    text_refs rs = {0};
    text_refs_opts o = {.numeric = 1};
    text_refs_scan(NULL, &o, &rs);
    assert_int_equal(rs.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),         cmocka_unit_test(test_hedges_and_questions),
        cmocka_unit_test(test_jira_keys),     cmocka_unit_test(test_bare_numbers),
        cmocka_unit_test(test_word_starts),
        cmocka_unit_test(test_code_is_not_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
