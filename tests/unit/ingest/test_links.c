/* test_links.c -- links found in text: duplicate phrasings, closing
 * keywords, URLs, and the cases that must not produce a link. */
#include "testutil.h"

#include <stdlib.h>

#include "../../../src/ingest/ingest.h"

#define REPO "acme/widgets"

/* Extracts links from text written on item 100 and renders them as
 * "src>dst:type" joined by spaces, in order (type d/r/f). */
static char *render(item_kind kind, const char *text)
{
    link_vec lv = {0};
    sbuf sb;
    sb_init(&sb);
    ingest_links_from_text("100", kind, text, REPO, "body", &lv);
    for (size_t i = 0; i < lv.n; i++) {
        char t = lv.v[i].type == LINK_DUPLICATE ? 'd' : lv.v[i].type == LINK_FIXES ? 'f' : 'r';
        assert_string_equal(lv.v[i].source, "body");
        sb_printf(&sb, "%s%s>%s:%c", i ? " " : "", lv.v[i].src_key, lv.v[i].dst_key, t);
    }
    link_vec_free(&lv);
    if (!sb.s) return xstrdup("");
    return sb_take(&sb);
}

static void expect(item_kind kind, const char *text, const char *want)
{
    char *got = render(kind, text);
    if (strcmp(got, want) != 0) {
        fail_msg("text [%s]: got [%s] want [%s]", text, got, want);
    }
    free(got);
}

static void test_duplicate_variants(void **state)
{
    (void)state;
    expect(ITEM_ISSUE, "Duplicate of #12", "100>12:d");
    expect(ITEM_ISSUE, "Thanks!\n\nduplicate of #12\n", "100>12:d");
    expect(ITEM_ISSUE, "dup of #12", "100>12:d");
    expect(ITEM_ISSUE, "Dupe of #12.", "100>12:d");
    expect(ITEM_ISSUE, "Closing as duplicate of #12", "100>12:d");
    expect(ITEM_ISSUE, "Closing as a duplicate of #12, thanks", "100>12:d");
    expect(ITEM_ISSUE, "This duplicates #12", "100>12:d");
    expect(ITEM_ISSUE, "Duplicate: #12", "100>12:d");
    expect(ITEM_ISSUE, "**Duplicate of** #12", "100>12:d");
    expect(ITEM_ISSUE, "duplicate of https://github.com/acme/widgets/issues/12", "100>12:d");
    expect(ITEM_ISSUE, "duplicate of [#12](https://github.com/acme/widgets/issues/12)", "100>12:d");
    expect(ITEM_ISSUE, "Duplicate of acme/widgets#12", "100>12:d");
    /* the other direction */
    expect(ITEM_ISSUE, "This is duplicated by #12", "12>100:d");
}

static void test_hedged(void **state)
{
    (void)state;
    expect(ITEM_ISSUE, "Possible duplicate of #12", "100>12:r");
    expect(ITEM_ISSUE, "This is not a duplicate of #12", "100>12:r");
    expect(ITEM_ISSUE, "Maybe a dup of #12?", "100>12:r");
    /* a hedge in an earlier sentence does not count */
    expect(ITEM_ISSUE, "Not sure at first. Duplicate of #12", "100>12:d");
}

static void test_fixes(void **state)
{
    (void)state;
    expect(ITEM_PR, "Fixes #7", "100>7:f");
    expect(ITEM_PR, "This PR closes #7 and resolves #8.\nfixed: #9", "100>7:f 100>8:f 100>9:f");
    expect(ITEM_PR, "Resolved #7", "100>7:f");
    expect(ITEM_PR, "fix https://github.com/acme/widgets/issues/7", "100>7:f");
    /* closing keywords in an issue are only mentions */
    expect(ITEM_ISSUE, "Fixes #7", "100>7:r");
    /* a word merely ending like a keyword */
    expect(ITEM_PR, "prefix #7", "100>7:r");
    expect(ITEM_PR, "Fix the bug in #7", "100>7:r");
}

static void test_mentions(void **state)
{
    (void)state;
    expect(ITEM_ISSUE, "See #3, #4 and (#5).", "100>3:r 100>4:r 100>5:r");
    expect(ITEM_ISSUE, "#6 at the start of a line", "100>6:r");
    expect(ITEM_ISSUE, "Related: https://github.com/acme/widgets/pull/9#discussion_r1", "100>9:r");
    /* strongest type wins, one link per target */
    expect(ITEM_ISSUE, "#12 looks similar.\nDuplicate of #12", "100>12:d");
    expect(ITEM_ISSUE, "https://github.com/ACME/Widgets/issues/4", "100>4:r");
}

static void test_not_links(void **state)
{
    (void)state;
    expect(ITEM_ISSUE, "In C#1 and F#2 we trust", "");
    expect(ITEM_ISSUE, "see `#12` and ``code `#13` more``", "");
    expect(ITEM_ISSUE, "```\nDuplicate of #12\n```\n", "");
    expect(ITEM_ISSUE, "~~~~ c\n#14\n~~~\n#15\n~~~~\n", "");
    expect(ITEM_ISSUE, "  ```\nunclosed #16\n", "");
    expect(ITEM_ISSUE, "https://github.com/other/repo/issues/12", "");
    expect(ITEM_ISSUE, "other/repo#12", "");
    expect(ITEM_ISSUE, "https://github.com/acme/widgets-fork/issues/12", "");
    expect(ITEM_ISSUE, "Duplicate of #100", "");               /* itself */
    expect(ITEM_ISSUE, "#12abc and #0 and #12345678901", "");
    expect(ITEM_ISSUE, "&#123; entity", "");
    expect(ITEM_ISSUE, "## Heading\n# 12 things", "");
    expect(ITEM_ISSUE, "#0  0x00007f in main ()\n#1  0x00007f in start ()", "");
    expect(ITEM_ISSUE, "color: #fff", "");
    expect(ITEM_ISSUE, "", "");
    /* code spans end at a paragraph break: the backtick is literal here */
    expect(ITEM_ISSUE, "a ` lone tick\n\nthen #21 `x`", "100>21:r");
}

/* Closing keywords in a pull request's comments are only mentions. */
static void test_fixes_not_in_comments(void **state)
{
    (void)state;
    link_vec lv = {0};
    ingest_links_from_text("5", ITEM_PR, "fixes #4", REPO, "comment", &lv);
    ingest_links_from_text("5", ITEM_PR, "fixes #3", REPO, "body", &lv);
    assert_int_equal(lv.n, 2);
    assert_int_equal(lv.v[0].type, LINK_RELATED);
    assert_int_equal(lv.v[1].type, LINK_FIXES);
    link_vec_free(&lv);
}

static void test_null_repo(void **state)
{
    (void)state;
    link_vec lv = {0};
    ingest_links_from_text("5", ITEM_ISSUE, "dup of #4 and https://github.com/a/b/issues/3", NULL,
                           "comment", &lv);
    assert_int_equal(lv.n, 1);
    assert_string_equal(lv.v[0].dst_key, "4");
    assert_string_equal(lv.v[0].source, "comment");
    link_vec_free(&lv);
}

/* Reporters' own words: a bare number after a duplicate phrase, a question
 * is not a claim. */
static void test_reporters_words(void **state)
{
    (void)state;
    expect(ITEM_ISSUE, "duplicate of 4652", "100>4652:d");
    expect(ITEM_ISSUE, "see 1201 ... kill this bug", "100>1201:r");
    expect(ITEM_ISSUE, "duplicate of 3 rows", "");
    expect(ITEM_ISSUE, "Is this a duplicate of #12?", "100>12:r");
}

/* Jira text: keys of the item's own project only (others cannot be
 * resolved in this repository), code blocks ignored. */
static void test_jira_text(void **state)
{
    (void)state;
    link_vec lv = {0};
    ingest_links_from_text("HIVE-5", ITEM_ISSUE,
                           "Duplicate of HIVE-3; see HADOOP-2 and HIVE-4.\n{code}HIVE-9{code} #12",
                           NULL, "comment", &lv);
    assert_int_equal(lv.n, 2);
    assert_string_equal(lv.v[0].dst_key, "HIVE-3");
    assert_int_equal(lv.v[0].type, LINK_DUPLICATE);
    assert_string_equal(lv.v[1].dst_key, "HIVE-4");
    assert_int_equal(lv.v[1].type, LINK_RELATED);
    link_vec_free(&lv);
}

/* A body at GitHub's size limit (64 K) made of references: every one is
 * found, in order, the strongest type kept -- and in linear time (this took
 * minutes under the sanitizers when each reference was compared with all
 * earlier ones, and each walked back to the start of its space-free word). */
static void test_many_refs(void **state)
{
    (void)state;
    sbuf sb;
    sb_init(&sb);
    for (int i = 1; i <= 12000; i++) sb_printf(&sb, "#%d ", i);
    sb_adds(&sb, "\nDuplicate of #777");
    link_vec lv = {0};
    ingest_links_from_text("100", ITEM_ISSUE, sb_str(&sb), REPO, "body", &lv);
    assert_int_equal(lv.n, 11999);   /* #100 is the item itself */
    for (size_t i = 0; i < lv.n; i++) {
        char want[16];
        snprintf(want, sizeof want, "%zu", i < 99 ? i + 1 : i + 2);
        assert_string_equal(lv.v[i].dst_key, want);
        assert_int_equal(lv.v[i].type, !strcmp(want, "777") ? LINK_DUPLICATE : LINK_RELATED);
    }
    link_vec_free(&lv);

    sb_reset(&sb);
    for (int i = 0; i < 21000; i++) sb_adds(&sb, ",#1");
    for (int i = 0; i < 2700; i++) sb_adds(&sb, "github.com/acme/widgets/issues/2,");
    ingest_links_from_text("100", ITEM_ISSUE, sb_str(&sb), REPO, "body", &lv);
    assert_int_equal(lv.n, 2);
    link_vec_free(&lv);
    sb_free(&sb);
}

/* A reference is classified by the words before the word that holds it. */
static void test_word_start(void **state)
{
    (void)state;
    expect(ITEM_ISSUE, "Duplicate of x,#5,#6 and y,#7", "100>5:d 100>6:d 100>7:r");
    expect(ITEM_ISSUE, "Duplicate of (#5) and (x,#6", "100>5:d 100>6:r");
    expect(ITEM_ISSUE, "dup of see:https://github.com/acme/widgets/issues/8 #9",
           "100>9:r 100>8:d");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicate_variants),
        cmocka_unit_test(test_hedged),
        cmocka_unit_test(test_fixes),
        cmocka_unit_test(test_mentions),
        cmocka_unit_test(test_not_links),
        cmocka_unit_test(test_fixes_not_in_comments),
        cmocka_unit_test(test_null_repo),
        cmocka_unit_test(test_reporters_words),
        cmocka_unit_test(test_jira_text),
        cmocka_unit_test(test_many_refs),
        cmocka_unit_test(test_word_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
