/* test_split.c -- the streaming splitter: record boundaries, positions and
 * errors over every accepted shape, from memory and from (gzip) files. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include "../../../src/ingest/ingest.h"

/* Splits s and joins the records with '|'; returns the status of the last
 * call (DP_NOTFOUND at a clean end). */
static int split_all(const char *s, size_t len, char *out, size_t outsz, dp_err *err,
                     ingest_split **keep)
{
    ingest_split *sp = ingest_split_mem(s, len);
    ingest_record r;
    int rc;
    out[0] = '\0';
    while ((rc = ingest_split_next(sp, &r, err)) == DP_OK) {
        if (out[0]) strncat(out, "|", outsz - strlen(out) - 1);
        strncat(out, r.data, r.len < outsz - strlen(out) - 1 ? r.len : outsz - strlen(out) - 1);
    }
    if (keep) *keep = sp;
    else ingest_split_close(sp);
    return rc;
}

static void expect_split(const char *in, const char *want)
{
    char out[4096];
    dp_err err = {""};
    int rc = split_all(in, strlen(in), out, sizeof out, &err, NULL);
    if (rc != DP_NOTFOUND) fail_msg("split failed: %s", err.msg);
    assert_string_equal(out, want);
}

static void test_single_array(void **state)
{
    (void)state;
    expect_split("[{\"a\":1},{\"b\":[1,2]}]", "{\"a\":1}|{\"b\":[1,2]}");
    expect_split("[]", "");
    expect_split("", "");
    expect_split("  \n\t ", "");
}

static void test_concatenated_arrays(void **state)
{
    (void)state;
    expect_split("[{\"a\":1}][{\"a\":2}]\n[ {\"a\":3} ]", "{\"a\":1}|{\"a\":2}|{\"a\":3}");
    expect_split("[{\"a\":1}]\n[]\n[{\"a\":2}]", "{\"a\":1}|{\"a\":2}");
}

static void test_ndjson(void **state)
{
    (void)state;
    expect_split("{\"a\":1}\n{\"a\":2}\r\n\n{\"a\":3}", "{\"a\":1}|{\"a\":2}|{\"a\":3}");
    expect_split("{\"a\":1}{\"a\":2}", "{\"a\":1}|{\"a\":2}");
}

static void test_whitespace_and_bom(void **state)
{
    (void)state;
    expect_split("\xEF\xBB\xBF[\n  {\"a\" : 1} ,\n\n  {\"a\":2}\n]\n", "{\"a\" : 1}|{\"a\":2}");
}

static void test_strings_with_brackets(void **state)
{
    (void)state;
    expect_split("[{\"t\":\"a } ] { [ \\\" ,\"},{\"t\":\"\\\\\"}]",
                 "{\"t\":\"a } ] { [ \\\" ,\"}|{\"t\":\"\\\\\"}");
    expect_split("{\"t\":\"\\\\\\\"}\"}\n{\"u\":1}", "{\"t\":\"\\\\\\\"}\"}|{\"u\":1}");
}

static void test_wrapper_pages(void **state)
{
    (void)state;
    /* Jira search page: "issues" need not be the first member. */
    expect_split("{\"startAt\":0,\"names\":{\"x\":[1]},\"issues\":[{\"key\":\"A-1\"},{\"key\":\"A-2\"}],"
                 "\"total\":2}\n{\"issues\":[{\"key\":\"A-3\"}]}",
                 "{\"key\":\"A-1\"}|{\"key\":\"A-2\"}|{\"key\":\"A-3\"}");
    /* GitHub search result, inside a top-level array of pages. */
    expect_split("[{\"total_count\":1,\"items\":[{\"n\":1}]}, {\"items\":[]}]", "{\"n\":1}");
    /* "issues" as a value or nested deeper does not unwrap. */
    expect_split("{\"k\":\"issues\",\"l\":[1]}", "{\"k\":\"issues\",\"l\":[1]}");
    expect_split("{\"f\":{\"issues\":[{\"a\":1}]}}", "{\"f\":{\"issues\":[{\"a\":1}]}}");
}

static void test_positions(void **state)
{
    (void)state;
    const char *s = "[\n  {\"a\":1},\n  {\"a\":\"x\\ny\"},\n\n  {\"a\":3}\n]";
    ingest_split *sp = ingest_split_mem(s, strlen(s));
    ingest_record r;
    dp_err err;
    size_t lines[3], offs[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ingest_split_next(sp, &r, &err), DP_OK);
        lines[i] = r.line;
        offs[i] = (size_t)r.offset;
        assert_int_equal(s[offs[i]], '{');
    }
    assert_int_equal(ingest_split_next(sp, &r, &err), DP_NOTFOUND);
    assert_int_equal(lines[0], 2);
    assert_int_equal(lines[1], 3);
    assert_int_equal(lines[2], 5);
    assert_int_equal(offs[0], 4);
    assert_int_equal(ingest_split_bytes(sp), strlen(s));
    ingest_split_close(sp);
}

/* A raw newline right after a backslash in a string (invalid JSON, but the
 * splitter does not judge) still starts a new line: records and errors after
 * it keep their true line numbers. Found by fuzz/fuzz_split.c. */
static void test_positions_escaped_newline(void **state)
{
    (void)state;
    const char *s = "{\"a\":\"x\\\ny\"}\n{\"b\":1}\n@";
    ingest_split *sp = ingest_split_mem(s, strlen(s));
    ingest_record r;
    dp_err err;
    assert_int_equal(ingest_split_next(sp, &r, &err), DP_OK);
    assert_int_equal(r.line, 1);
    assert_int_equal(ingest_split_next(sp, &r, &err), DP_OK);
    assert_int_equal(r.line, 3);
    assert_int_equal(ingest_split_next(sp, &r, &err), DP_ERR);
    size_t line;
    ingest_split_where(sp, &line, NULL);
    assert_int_equal(line, 4);
    ingest_split_close(sp);
    /* a raw newline inside a string, not after a backslash, counts too */
    s = "{\"a\":\"x\ny\"}\n{\"b\":1}";
    sp = ingest_split_mem(s, strlen(s));
    assert_int_equal(ingest_split_next(sp, &r, &err), DP_OK);
    assert_int_equal(ingest_split_next(sp, &r, &err), DP_OK);
    assert_int_equal(r.line, 3);
    ingest_split_close(sp);
}

static void expect_error_n(const char *in, size_t len, const char *msg_part, size_t line,
                           uint64_t off)
{
    char out[4096];
    dp_err err = {""};
    ingest_split *sp;
    int rc = split_all(in, len, out, sizeof out, &err, &sp);
    size_t l;
    uint64_t o;
    ingest_split_where(sp, &l, &o);
    ingest_split_close(sp);
    assert_int_equal(rc, DP_ERR);
    if (!strstr(err.msg, msg_part)) fail_msg("message '%s' lacks '%s'", err.msg, msg_part);
    assert_int_equal(l, line);
    assert_int_equal(o, off);
}

static void expect_error(const char *in, const char *msg_part, size_t line, uint64_t off)
{
    expect_error_n(in, strlen(in), msg_part, line, off);
}

static void test_truncated(void **state)
{
    (void)state;
    expect_error("[{\"a\":1},\n {\"a\":\"unterminated", "end of input", 2, 11);
    expect_error("[{\"a\":1},\n", "never closed", 1, 0);
    expect_error("{\"issues\":[{\"a\":1}", "never closed", 1, 10);
    expect_error("{\"a\":{\"b\":1}", "end of input", 1, 0);
}

static void test_garbage(void **state)
{
    (void)state;
    expect_error("{\"a\":1}\nnull\n", "unexpected 'n'", 2, 8);
    expect_error("[{\"a\":1} {\"a\":2}]", "expected ',' or ']'", 1, 9);
    expect_error("[1,2]", "expected '{'", 1, 1);
    expect_error("[{\"a\":1},]", "expected '{'", 1, 9);
    expect_error_n("{\"a\":1}\n\x00{}", 11, "byte 0x00", 2, 8);
    expect_error("[[{\"a\":1}]]", "expected '{'", 1, 1);
}

/* A record above INGEST_MAX_RECORD fails, naming the record's start, and
 * without buffering more than the limit. */
static void test_record_too_large(void **state)
{
    (void)state;
    size_t n = INGEST_MAX_RECORD + 100;
    char *s = malloc(n + 32);
    assert_non_null(s);
    strcpy(s, "{\"a\":1}\n{\"body\":\"");
    size_t k = strlen(s);
    memset(s + k, 'x', n - k - 2);
    strcpy(s + n - 2, "\"}");
    dp_err err = {""};
    ingest_split *sp = ingest_split_mem(s, n);
    ingest_record r;
    assert_int_equal(ingest_split_next(sp, &r, &err), DP_OK);
    assert_int_equal(ingest_split_next(sp, &r, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "larger than"));
    size_t l;
    uint64_t o;
    ingest_split_where(sp, &l, &o);
    assert_int_equal(l, 2);
    assert_int_equal(o, 8);
    ingest_split_close(sp);
    free(s);
}

/* The rest of a wrapper is skipped without buffering, so only a depth cap
 * bounds its nesting counter (a stream of '[' is never a record). */
static char *wrapper_with_tail(int depth)
{
    char *s = malloc((size_t)depth * 2 + 64);
    int k = sprintf(s, "{\"issues\":[{\"a\":1}],\"x\":");
    memset(s + k, '[', (size_t)depth);
    memset(s + k + depth, ']', (size_t)depth);
    strcpy(s + k + 2 * depth, "}");
    return s;
}

static void test_deep_wrapper_tail(void **state)
{
    (void)state;
    char *ok = wrapper_with_tail(4000), *deep = wrapper_with_tail(5000);
    char out[64];
    dp_err err = {""};
    assert_int_equal(split_all(ok, strlen(ok), out, sizeof out, &err, NULL), DP_NOTFOUND);
    assert_string_equal(out, "{\"a\":1}");
    /* the wrapper object itself is level 1: the 4096th '[' is one too many */
    expect_error(deep, "nested more than 4096 levels deep", 1, 24 + 4095);
    free(ok);
    free(deep);
}

/* The bytes that end a run of string bytes ('"', '\\', a raw newline),
 * with up to 40 plain bytes before them: every offset inside the
 * splitter's 16-byte steps and across their ends, where a stop byte missed
 * or found one byte off cuts the record wrong or miscounts its lines. */
static void test_string_stops_at_every_offset(void **state)
{
    (void)state;
    static const char *const stops[] = {"\\\"", "\\\\", "\n", "}]{[", "\\\n"};
    for (size_t k = 0; k < sizeof stops / sizeof *stops; k++)
        for (int pad = 0; pad <= 40; pad++) {
            char rec[160], in[400], want[400];
            int n = snprintf(rec, sizeof rec, "{\"t\":\"%.*s%sz\"}", pad,
                             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", stops[k]);
            snprintf(in, sizeof in, "%s\n%s\n{\"u\":%d}", rec, rec, pad);
            snprintf(want, sizeof want, "%s|%s|{\"u\":%d}", rec, rec, pad);
            expect_split(in, want);
            /* a newline inside the string counts as a line of the file */
            ingest_split *sp = ingest_split_mem(in, strlen(in));
            ingest_record r;
            dp_err err;
            size_t nl = strchr(rec, '\n') ? 1 : 0;
            for (size_t i = 0; i < 3; i++) {
                assert_int_equal(ingest_split_next(sp, &r, &err), DP_OK);
                assert_int_equal(r.line, 1 + i * (1 + nl));
                assert_int_equal(r.offset, i * (size_t)(n + 1));
            }
            ingest_split_close(sp);
        }
}

/* Records spanning the 256 KiB read buffer, read through gzip. */
static void test_gzip_file_across_chunks(void **state)
{
    (void)state;
    char path[] = "/tmp/doppel-split-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    gzFile gz = gzopen(path, "wb");
    assert_non_null(gz);
    size_t count = 1000;   /* 720 KB */
    for (size_t i = 0; i < count; i++) {
        gzprintf(gz, "{\"n\":%zu,\"pad\":\"", i);
        for (int j = 0; j < 700; j++) gzputs(gz, j % 50 == 0 ? "\\\"" : "y");
        gzputs(gz, "\"}\n");
    }
    gzclose(gz);
    ingest_split *sp;
    dp_err err;
    assert_int_equal(ingest_split_open(path, &sp, &err), DP_OK);
    ingest_record r;
    size_t got = 0;
    while (ingest_split_next(sp, &r, &err) == DP_OK) {
        char want[32];
        snprintf(want, sizeof want, "{\"n\":%zu,", got);
        assert_memory_equal(r.data, want, strlen(want));
        assert_int_equal(r.data[r.len - 1], '}');
        assert_int_equal(r.line, got + 1);
        got++;
    }
    assert_int_equal(got, count);
    ingest_split_close(sp);
    unlink(path);
    assert_int_equal(ingest_split_open("/nonexistent/x.json", &sp, &err), DP_ERR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_array),
        cmocka_unit_test(test_concatenated_arrays),
        cmocka_unit_test(test_ndjson),
        cmocka_unit_test(test_whitespace_and_bom),
        cmocka_unit_test(test_strings_with_brackets),
        cmocka_unit_test(test_wrapper_pages),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_positions_escaped_newline),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_record_too_large),
        cmocka_unit_test(test_deep_wrapper_tail),
        cmocka_unit_test(test_string_stops_at_every_offset),
        cmocka_unit_test(test_gzip_file_across_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
