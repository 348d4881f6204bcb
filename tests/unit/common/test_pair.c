/* test_pair.c -- the one place a judgment becomes text and back: every
 * relation, confidence level and verdict survives name -> parse, unknown
 * and NULL names are refused, and a zeroed pair has no verdict. */
#include "testutil.h"

#include "../../../src/common/pair.h"

static void test_relation(void **state)
{
    (void)state;
    for (int i = 0; i < RELATION_COUNT; i++) {
        relation_kind r = (relation_kind)99;
        assert_int_equal(relation_parse(relation_name((relation_kind)i), &r), 0);
        assert_int_equal(r, i);
    }
    assert_string_equal(relation_name(RELATION_DUPLICATE), "duplicate");
    assert_string_equal(relation_name(RELATION_NONE), "not_related");
    assert_string_equal(relation_label(RELATION_RELATED), "Related");
    assert_string_equal(relation_name(RELATION_COUNT), "?");
    relation_kind r = RELATION_RELATED;
    assert_int_equal(relation_parse("Duplicate", &r), -1);     /* exact tokens only */
    assert_int_equal(relation_parse("not related", &r), -1);
    assert_int_equal(relation_parse(NULL, &r), -1);
    assert_int_equal(r, RELATION_RELATED);                      /* untouched on failure */
}

static void test_confidence(void **state)
{
    (void)state;
    for (int i = 0; i < CONFIDENCE_COUNT; i++) {
        confidence_level c = (confidence_level)99;
        assert_int_equal(confidence_parse(confidence_name((confidence_level)i), &c), 0);
        assert_int_equal(c, i);
    }
    assert_string_equal(confidence_name(CONFIDENCE_HIGH), "high");
    assert_string_equal(confidence_name(CONFIDENCE_LOW), "low");
    confidence_level c;
    assert_int_equal(confidence_parse("HIGH", &c), -1);
    assert_int_equal(confidence_parse("", &c), -1);
}

static void test_verdict(void **state)
{
    (void)state;
    assert_null(verdict_name(VERDICT_NONE));
    assert_null(verdict_name(VERDICT_COUNT));
    for (int i = VERDICT_NONE + 1; i < VERDICT_COUNT; i++) {
        verdict_kind v = VERDICT_NONE;
        assert_int_equal(verdict_parse(verdict_name((verdict_kind)i), &v), 0);
        assert_int_equal(v, i);
        /* a verdict names a relation, by the relation's own token */
        assert_string_equal(verdict_name(v), relation_name(verdict_relation(v)));
        assert_int_equal(verdict_of(verdict_relation(v)), v);
    }
    assert_int_equal(verdict_of(RELATION_DUPLICATE), VERDICT_DUPLICATE);
    assert_int_equal(verdict_of(RELATION_NONE), VERDICT_NOT_RELATED);
    verdict_kind v;
    assert_int_equal(verdict_parse(NULL, &v), -1);
    assert_int_equal(verdict_parse("maybe", &v), -1);
    pair p = {0};
    assert_int_equal(p.verdict, VERDICT_NONE);
}

static void test_pair_vec(void **state)
{
    (void)state;
    pair_vec pv = {0};
    for (int i = 0; i < 40; i++) {
        pair *p = pair_vec_push(&pv);
        assert_int_equal(p->verdict, VERDICT_NONE);
        p->query_key = strdup("1");
        p->reasoning = strdup("a\nb");
    }
    assert_int_equal(pv.n, 40);
    pair_vec_free(&pv);
    assert_null(pv.v);
    assert_int_equal(pv.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relation),
        cmocka_unit_test(test_confidence),
        cmocka_unit_test(test_verdict),
        cmocka_unit_test(test_pair_vec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
