/* test_ingest.c -- ingest_file() against a real store: what lands where,
 * idempotent re-import, newer-wins, gzip, and errors that name file, line
 * and byte and leave the store untouched after the caller's rollback. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../../../src/ingest/ingest.h"
#include "../../../src/store/store_int.h"   /* the connection, to compare tables */

typedef struct fx {
    char dir[64];
    store *st;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    dp_err err;
    strcpy(f->dir, "/tmp/doppel-ingest-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    char path[128];
    snprintf(path, sizeof path, "%s/t.db", f->dir);
    if (store_open(path, &f->st, &err) != DP_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char cmd[128];
    store_close(f->st);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

/* Writes content (n bytes) to dir/name, gzip-compressed when gz. */
static const char *write_file(fx *f, const char *name, const char *content, size_t n, int gz)
{
    static char path[160];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    if (gz) {
        gzFile g = gzopen(path, "wb");
        assert_non_null(g);
        assert_int_equal(gzwrite(g, content, (unsigned)n), (int)n);
        gzclose(g);
    } else {
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(content, 1, n, fp), n);
        fclose(fp);
    }
    return path;
}

/* Imports files in one transaction like cmd_import does. */
static int import(fx *f, const char *const *paths, const char *repo, ingest_stats *stats,
                  dp_err *err)
{
    ingest_opts opts = {.format = INGEST_AUTO, .repo = repo};
    memset(stats, 0, sizeof *stats);
    assert_int_equal(store_begin(f->st, err), DP_OK);
    for (size_t i = 0; paths[i]; i++)
        if (ingest_file(f->st, paths[i], &opts, stats, err) != DP_OK) {
            store_rollback(f->st);
            return DP_ERR;
        }
    assert_int_equal(store_commit(f->st, err), DP_OK);
    return DP_OK;
}

static int64_t repo_id(fx *f, const char *name)
{
    int64_t id = 0;
    dp_err err;
    if (store_repo_get(f->st, name, 0, NULL, NULL, &id, &err) != DP_OK) fail_msg("no repo %s", name);
    return id;
}

static int has_link(fx *f, int64_t repo, const char *src, const char *dst, link_type t,
                    const char *source)
{
    link_vec lv = {0};
    dp_err err;
    int found = 0;
    assert_int_equal(store_links_load(f->st, repo, &lv, &err), DP_OK);
    for (size_t i = 0; i < lv.n; i++)
        if (!strcmp(lv.v[i].src_key, src) && !strcmp(lv.v[i].dst_key, dst) && lv.v[i].type == t &&
            (!source || (lv.v[i].source && !strcmp(lv.v[i].source, source))))
            found = 1;
    link_vec_free(&lv);
    return found;
}

static size_t nlinks(fx *f, int64_t repo)
{
    link_vec lv = {0};
    dp_err err;
    assert_int_equal(store_links_load(f->st, repo, &lv, &err), DP_OK);
    size_t n = lv.n;
    link_vec_free(&lv);
    return n;
}

static void test_github_and_comments(void **state)
{
    fx *f = *state;
    ingest_stats s;
    dp_err err;
    const char *files[] = {FIXTURES "/ingest/github_issues.json",
                           FIXTURES "/ingest/github_comments.json", NULL};
    if (import(f, files, NULL, &s, &err) != DP_OK) fail_msg("%s", err.msg);
    assert_int_equal(s.items, 6);
    assert_int_equal(s.items_written, 6);
    assert_int_equal(s.comments, 3);
    int64_t r = repo_id(f, "acme/widgets");
    size_t issues, prs, open;
    assert_int_equal(store_item_count(f->st, r, &issues, &prs, &open, &err), DP_OK);
    assert_int_equal(issues, 4);
    assert_int_equal(prs, 2);
    assert_int_equal(open, 3);
    item it;
    assert_int_equal(store_item_get(f->st, r, "2", &it, &err), DP_OK);
    assert_string_equal(it.state_reason, "duplicate");
    assert_string_equal(it.labels.v[0], "duplicate");
    item_free(&it);

    assert_true(has_link(f, r, "2", "1", LINK_DUPLICATE, "body"));
    assert_true(has_link(f, r, "3", "1", LINK_FIXES, "body"));
    assert_true(has_link(f, r, "3", "2", LINK_RELATED, "body"));
    assert_true(has_link(f, r, "5", "4", LINK_RELATED, "body"));
    assert_true(has_link(f, r, "6", "5", LINK_FIXES, "body"));
    assert_true(has_link(f, r, "4", "1", LINK_DUPLICATE, "comment"));
    assert_true(has_link(f, r, "3", "4", LINK_RELATED, "comment"));   /* never FIXES */
    assert_int_equal(nlinks(f, r), 7);
    assert_int_equal(s.links, 7);

    strvec names = {0}, colors = {0};
    assert_int_equal(store_label_colors_load(f->st, r, &names, &colors, &err), DP_OK);
    assert_int_equal(names.n, 3);
    for (size_t i = 0; i < names.n; i++)
        if (!strcmp(names.v[i], "bug")) assert_string_equal(colors.v[i], "d73a4a");
    sv_free(&names);
    sv_free(&colors);
    comment_vec cv = {0};
    assert_int_equal(store_comments_load(f->st, r, "3", &cv, &err), DP_OK);
    assert_int_equal(cv.n, 1);
    assert_int_equal(cv.v[0].id, 1003);
    comment_vec_free(&cv);

    /* again: nothing is written */
    if (import(f, files, NULL, &s, &err) != DP_OK) fail_msg("%s", err.msg);
    assert_int_equal(s.items, 6);
    assert_int_equal(s.items_written, 0);
    assert_int_equal(nlinks(f, r), 7);
}

static void test_newer_wins(void **state)
{
    fx *f = *state;
    ingest_stats s;
    dp_err err;
    const char *base = "{\"number\":4,\"node_id\":\"x\",\"title\":\"%s\",\"updated_at\":\"%s\","
                       "\"repository_url\":\"https://api.github.com/repos/a/b\"}\n";
    char buf[512];
    snprintf(buf, sizeof buf, base, "first", "2023-02-01T08:00:00Z");
    const char *files[] = {write_file(f, "a.json", buf, strlen(buf), 0), NULL};
    assert_int_equal(import(f, files, NULL, &s, &err), DP_OK);
    assert_int_equal(s.items_written, 1);
    snprintf(buf, sizeof buf, base, "older", "2023-01-01T08:00:00Z");
    files[0] = write_file(f, "a.json", buf, strlen(buf), 0);
    assert_int_equal(import(f, files, NULL, &s, &err), DP_OK);
    assert_int_equal(s.items_written, 0);
    snprintf(buf, sizeof buf, base, "newer", "2023-03-01T08:00:00Z");
    files[0] = write_file(f, "a.json", buf, strlen(buf), 0);
    assert_int_equal(import(f, files, NULL, &s, &err), DP_OK);
    assert_int_equal(s.items_written, 1);
    item it;
    assert_int_equal(store_item_get(f->st, repo_id(f, "a/b"), "4", &it, &err), DP_OK);
    assert_string_equal(it.title, "newer");
    item_free(&it);
}

static void test_gh_and_repo_option(void **state)
{
    fx *f = *state;
    ingest_stats s;
    dp_err err;
    const char *files[] = {FIXTURES "/ingest/gh_issues.json", FIXTURES "/ingest/gh_prs.json", NULL};
    if (import(f, files, "me/mine", &s, &err) != DP_OK) fail_msg("%s", err.msg);
    assert_int_equal(s.items, 3);
    int64_t r = repo_id(f, "me/mine");
    assert_true(has_link(f, r, "11", "10", LINK_DUPLICATE, "body"));
    assert_true(has_link(f, r, "12", "10", LINK_FIXES, "body"));
    /* the URL names acme/gadgets, the data's repository, not --repo's */
    assert_true(has_link(f, r, "10", "12", LINK_RELATED, "body"));
    int64_t id;
    assert_int_equal(store_repo_get(f->st, "acme/gadgets", 0, NULL, NULL, &id, &err), DP_NOTFOUND);
}

static void test_jira_page_and_gzip(void **state)
{
    fx *f = *state;
    ingest_stats s;
    dp_err err;
    const char *line = "{\"key\":\"DEMO-4\",\"fields\":{\"summary\":\"gz\",\"status\":{\"name\":\"Open\"},"
                       "\"updated\":\"2014-03-01T00:00:00.000+0000\",\"issuelinks\":[{\"type\":{\"name\":"
                       "\"Duplicate\",\"inward\":\"is duplicated by\",\"outward\":\"duplicates\"},"
                       "\"outwardIssue\":{\"key\":\"DEMO-3\"}}]}}\n";
    const char *files[] = {FIXTURES "/ingest/jira_search.json",
                           write_file(f, "more.jsonl.gz", line, strlen(line), 1), NULL};
    if (import(f, files, NULL, &s, &err) != DP_OK) fail_msg("%s", err.msg);
    assert_int_equal(s.items, 4);
    assert_int_equal(s.comments, 3);
    struct stat sb;
    assert_int_equal(stat(FIXTURES "/ingest/jira_search.json", &sb), 0);
    assert_int_equal(s.bytes, (size_t)sb.st_size + strlen(line));   /* uncompressed */
    int64_t r = repo_id(f, "DEMO");
    assert_true(has_link(f, r, "DEMO-2", "DEMO-1", LINK_DUPLICATE, "jira:Duplicate"));
    assert_true(has_link(f, r, "DEMO-4", "DEMO-3", LINK_DUPLICATE, "jira:Duplicate"));
    assert_true(has_link(f, r, "DEMO-2", "DEMO-3", LINK_RELATED, "jira:Reference"));
    assert_true(has_link(f, r, "DEMO-3", "OTHER-7", LINK_RELATED, "jira:Blocker"));
    assert_int_equal(nlinks(f, r), 4);   /* both sides of a link give one row */
    item it;
    assert_int_equal(store_item_get(f->st, r, "DEMO-2", &it, &err), DP_OK);
    assert_string_equal(it.state, "closed");
    assert_string_equal(it.state_reason, "Duplicate");
    item_free(&it);
}

/* ---- dates from a wrong clock ------------------------------------------- */

static void collect_warning(void *ctx, const char *msg)
{
    sv_push(ctx, msg);
}

/* A date more than a day past the import's clock is imported as given but
 * counted and reported with file and line, once per item or comment. */
static void test_future_dates(void **state)
{
    fx *f = *state;
    const int64_t now = 1700000000;   /* 2023-11-14T22:13:20Z */
    char buf[2048];
    snprintf(buf, sizeof buf,
             /* line 1: one second inside the slack; line 2: one past */
             "{\"number\":1,\"node_id\":\"a\",\"updated_at\":\"2023-11-15T22:13:20Z\",%s}\n"
             "{\"number\":2,\"node_id\":\"b\",\"updated_at\":\"2023-11-15T22:13:21Z\",%s}\n"
             /* line 3: two bad dates, one warning */
             "{\"number\":3,\"node_id\":\"c\",\"created_at\":\"9999-12-31T00:00:00Z\","
             "\"updated_at\":\"9999-12-31T00:00:00Z\",%s}\n",
             "\"repository_url\":\"https://api.github.com/repos/e/r\"",
             "\"repository_url\":\"https://api.github.com/repos/e/r\"",
             "\"repository_url\":\"https://api.github.com/repos/e/r\"");
    const char *items = write_file(f, "items.json", buf, strlen(buf), 0);
    char items_path[160];
    snprintf(items_path, sizeof items_path, "%s", items);
    static const char comments[] =
        "[{\"id\":5,\"issue_url\":\"https://api.github.com/repos/e/r/issues/1\","
        "\"created_at\":\"2023-01-01T00:00:00Z\",\"updated_at\":\"2031-01-01T00:00:00Z\"}]";
    const char *cpath = write_file(f, "comments.json", comments, strlen(comments), 0);

    strvec warnings = {0};
    ingest_opts opts = {.warn = collect_warning, .warn_ctx = &warnings, .now = now};
    ingest_stats s = {0};
    dp_err err;
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    if (ingest_file(f->st, items_path, &opts, &s, &err) != DP_OK) fail_msg("%s", err.msg);
    if (ingest_file(f->st, cpath, &opts, &s, &err) != DP_OK) fail_msg("%s", err.msg);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    assert_int_equal(s.items, 3);
    assert_int_equal(s.items_written, 3);   /* stored as given */
    assert_int_equal(s.future_dated, 3);
    assert_int_equal(warnings.n, 3);
    char want[256];
    snprintf(want, sizeof want, "%s:2 (byte ", items_path);
    assert_non_null(strstr(warnings.v[0], want));
    assert_non_null(strstr(warnings.v[0], "item 2: updated 2023-11-15T22:13:21Z is more than a day in the future"));
    snprintf(want, sizeof want, "%s:3 (byte ", items_path);
    assert_non_null(strstr(warnings.v[1], want));
    assert_non_null(strstr(warnings.v[1], "item 3: created 9999-12-31T00:00:00Z"));
    assert_non_null(strstr(warnings.v[2], "comments.json:1 (byte 1): comment on 1: updated 2031-01-01"));
    item it;
    assert_int_equal(store_item_get(f->st, repo_id(f, "e/r"), "3", &it, &err), DP_OK);
    assert_int_equal(it.updated_at, 253402214400);
    item_free(&it);
    sv_free(&warnings);
}

/* A file without a record imports nothing and says so: an export that
 * failed and left an empty file should not pass unnoticed. */
static void test_empty_file_warns(void **state)
{
    fx *f = *state;
    strvec warnings = {0};
    ingest_opts opts = {.warn = collect_warning, .warn_ctx = &warnings};
    ingest_stats s = {0};
    dp_err err;
    const char *names[] = {"empty.json", "list.json", "one.json"};
    const char *data[] = {"", "[]\n", "{\"number\":1,\"node_id\":\"a\",\"repository_url\":\"https://api.github.com/repos/e/r\"}"};
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    for (int i = 0; i < 3; i++) {
        const char *path = write_file(f, names[i], data[i], strlen(data[i]), 0);
        if (ingest_file(f->st, path, &opts, &s, &err) != DP_OK) fail_msg("%s", err.msg);
    }
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    assert_int_equal(warnings.n, 2);
    assert_non_null(strstr(warnings.v[0], "empty.json: no records (an empty file or an empty list)"));
    assert_non_null(strstr(warnings.v[1], "list.json: no records"));
    assert_int_equal(s.items, 1);
    sv_free(&warnings);
}

/* ---- errors -------------------------------------------------------------- */

/* Repositories and items, as one number: what an aborted import must not
 * change. */
static size_t count_items(fx *f)
{
    repo_info *repos = NULL;
    size_t n = 0, total = 0;
    dp_err err;
    assert_int_equal(store_repo_list(f->st, &repos, &n, &err), DP_OK);
    for (size_t i = 0; i < n; i++) {
        size_t is, prs, open;
        assert_int_equal(store_item_count(f->st, repos[i].id, &is, &prs, &open, &err), DP_OK);
        total += is + prs;
        repo_info_free(&repos[i]);
    }
    free(repos);
    return total + n * 1000;   /* repositories count too */
}

/* The file is: a good record on line 2, then `bad` on line 3. The import
 * must fail with "<path>:<line> (byte <off>): <msg...>" and change nothing. */
static void expect_import_error(fx *f, const char *bad, size_t badlen, size_t line,
                                long byte_in_bad, const char *msg)
{
    static const char good[] =
        "[\n{\"number\":1,\"node_id\":\"a\",\"title\":\"ok\",\"updated_at\":\"2023-01-01T00:00:00Z\","
        "\"repository_url\":\"https://api.github.com/repos/e/r\"},\n";
    size_t glen = strlen(good);
    char *buf = malloc(glen + badlen + 3);
    memcpy(buf, good, glen);
    memcpy(buf + glen, bad, badlen);
    memcpy(buf + glen + badlen, "\n]", 2);
    const char *path = write_file(f, "bad.json", buf, glen + badlen + 2, 0);
    char want[256];
    snprintf(want, sizeof want, "%s:%zu (byte %ld): %s", path, line, (long)glen + byte_in_bad, msg);

    size_t before = count_items(f);
    ingest_stats s;
    dp_err err = {""};
    const char *files[] = {FIXTURES "/ingest/github_issues.json", path, NULL};
    int rc = import(f, files, NULL, &s, &err);
    free(buf);
    assert_int_equal(rc, DP_ERR);
    if (strncmp(err.msg, want, strlen(want)) != 0) fail_msg("got  [%s]\nwant [%s...]", err.msg, want);
    assert_int_equal(count_items(f), before);
}

static void test_errors(void **state)
{
    fx *f = *state;
    static const char nul[] = "{\"number\":2,\"title\":\"a\0b\"}";
    static const char utf8[] = "{\"number\":2,\"title\":\"caf\xff\"}";
    expect_import_error(f, "{\"number\":2,\"title\":7}", 22, 3, 0,
                        "title: expected string, got an integer");
    /* jansson points just past the offending token */
    expect_import_error(f, "{\"number\":2,\n\"title\":[}", 23, 4, 23, "invalid JSON:");
    expect_import_error(f, utf8, sizeof utf8 - 1, 3, 24, "invalid JSON: unable to decode byte 0xff");
    expect_import_error(f, nul, sizeof nul - 1, 3, 22, "invalid JSON: control character 0x0");
    expect_import_error(f, "{\"number\":2,\"title\":\"a\\u0000b\"}", 31, 3, 30,
                        "invalid JSON: string contains \\u0000");
    expect_import_error(f, "{\"number\":2,\"created_at\":\"soon\"}", 32, 3, 0,
                        "created_at: bad timestamp");
    expect_import_error(f, "{\"number\":2, \"title\": \"open", 27, 3, 0,
                        "unexpected end of input inside an object");
    expect_import_error(f, "{\"title\":\"no number\"}", 21, 3, 0, "number: missing");
    expect_import_error(f, "42", 2, 3, 0, "unexpected '4'");
}

/* ---- damaged gzip: nothing imported, the file named ---------------------- */

/* Writes records first..last as NDJSON into a gzip file; with flush_after,
 * the stream is flushed to a byte boundary after that record and *at gets
 * the file size there, so a cut at *at ends exactly between two records. */
static void gz_records(const char *path, const char *mode, int first, int last, int flush_after,
                       long *at)
{
    gzFile g = gzopen(path, mode);
    assert_non_null(g);
    for (int i = first; i <= last; i++) {
        gzprintf(g, "{\"number\":%d,\"node_id\":\"n%d\",\"title\":\"issue %d\","
                    "\"updated_at\":\"2023-01-01T00:00:00Z\","
                    "\"repository_url\":\"https://api.github.com/repos/e/r\"}\n", i, i, i);
        if (i == flush_after) {
            assert_int_equal(gzflush(g, Z_FULL_FLUSH), Z_OK);
            struct stat sb;
            assert_int_equal(stat(path, &sb), 0);
            *at = (long)sb.st_size;
        }
    }
    gzclose(g);
}

static char *slurp(const char *path, long *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *n = ftell(fp);
    rewind(fp);
    char *b = malloc((size_t)*n + 16);
    assert_int_equal(fread(b, 1, (size_t)*n, fp), (size_t)*n);
    fclose(fp);
    return b;
}

static void expect_gz_error(fx *f, const char *name, const char *data, size_t n, const char *msg)
{
    const char *path = write_file(f, name, data, n, 0);
    size_t before = count_items(f);
    ingest_stats s;
    dp_err err = {""};
    const char *files[] = {path, NULL};
    assert_int_equal(import(f, files, NULL, &s, &err), DP_ERR);
    char want[200];
    snprintf(want, sizeof want, "%s:", path);
    if (strncmp(err.msg, want, strlen(want)) != 0 || !strstr(err.msg, msg))
        fail_msg("%s: got [%s], want [%s...%s]", name, err.msg, want, msg);
    assert_int_equal(count_items(f), before);
}

/* Each way a .jsonl.gz can lose its end fails the import; gzread() used to
 * hand over the records before the cut (147 of 300) and report success. */
static void test_gzip_damage(void **state)
{
    fx *f = *state;
    char path[160];
    long at = 0, n;
    snprintf(path, sizeof path, "%s/all.jsonl.gz", f->dir);
    gz_records(path, "wb", 1, 300, 147, &at);
    char *gz = slurp(path, &n);
    char *ext = malloc((size_t)n + 64);
    memcpy(ext, gz, (size_t)n);
    expect_gz_error(f, "mid.jsonl.gz", gz, (size_t)n / 2, "truncated gzip file");
    expect_gz_error(f, "boundary.jsonl.gz", gz, (size_t)at, "truncated gzip file");
    expect_gz_error(f, "no-size.jsonl.gz", gz, (size_t)n - 4, "truncated gzip file");
    expect_gz_error(f, "no-trailer.jsonl.gz", gz, (size_t)n - 8, "truncated gzip file");
    memcpy(ext + n, "{\"number\":9}\n", 14);
    expect_gz_error(f, "garbage.jsonl.gz", ext, (size_t)n + 14, "trailing garbage after the gzip data");
    ext[n - 5] ^= 0x40;
    expect_gz_error(f, "crc.jsonl.gz", ext, (size_t)n, "incorrect data check");
    free(ext);
    free(gz);

    /* concatenated members (and an empty one) are all read */
    ingest_stats s;
    dp_err err;
    gz_records(path, "ab", 301, 400, 0, NULL);
    gz_records(path, "ab", 1, 0, 0, NULL);
    const char *files[] = {path, NULL};
    if (import(f, files, NULL, &s, &err) != DP_OK) fail_msg("%s", err.msg);
    assert_int_equal(s.items, 400);
    assert_int_equal(count_items(f), 1000 + 400);
}

/* A 20 MB body (over INGEST_MAX_RECORD) is refused; the record's start is
 * named and the store is unchanged. The CLI test covers 50 MB. */
static void test_huge_record(void **state)
{
    fx *f = *state;
    size_t n = INGEST_MAX_RECORD + (4u << 20);
    char *body = malloc(n + 64);
    int k = sprintf(body, "{\"number\":2,\"title\":\"big\",\"body\":\"");
    memset(body + k, 'a', n - (size_t)k - 2);
    memcpy(body + n - 2, "\"}", 2);
    expect_import_error(f, body, n, 3, 0, "record larger than the 16 MiB limit");
    free(body);
}

static void test_undetectable(void **state)
{
    fx *f = *state;
    ingest_stats s;
    dp_err err;
    const char *files[] = {write_file(f, "x.json", "{\"hello\":1}\n", 12, 0), NULL};
    assert_int_equal(import(f, files, NULL, &s, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "x.json:1 (byte 0): cannot detect the format"));
    files[0] = write_file(f, "y.json", "{\"number\":1,\"node_id\":\"x\"}\n", 27, 0);
    assert_int_equal(import(f, files, NULL, &s, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "use --repo"));
    files[0] = "/nonexistent/file.json";
    assert_int_equal(import(f, files, NULL, &s, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "cannot open"));
}

/* ---- bulk mode: the same rows, and nothing on an error ------------------- */

/* The rows of items_fts holding text t (a literal without quotes) as the
 * text filter asks: the index has no positions (detail=none), so its
 * trigrams find candidates and dp_fts_has keeps those holding t. */
#define FTS_HAS(t) "items_fts MATCH dp_fts_query('" t "') AND dp_fts_has(key, title, '" t "')"

/* Every row of the tables an import writes, through the store's own
 * connection (so inside its transaction too), one line per row. */
static char *dump_tables(store *st)
{
    static const char *const sql[] = {
        "SELECT repo_id, key, title, labels, updated_at, changed_seq, deleted FROM items ORDER BY id",
        "SELECT item_id, name FROM item_labels ORDER BY item_id, name",
        "SELECT rowid, key, title FROM items_fts ORDER BY rowid",
        "SELECT count(*) FROM items_fts WHERE " FTS_HAS("ssue 41"),
        "SELECT rowid FROM items_fts WHERE " FTS_HAS(" r2") " ORDER BY rowid",
        "SELECT rowid FROM items_fts WHERE " FTS_HAS("sue 1") " AND dp_fts_has(key, title, ' r1') ORDER BY rowid",
        "SELECT id FROM items_fts_todo ORDER BY id",
        "SELECT repo_id, src_key, dst_key, type FROM links ORDER BY id",
        "SELECT repo_id, name, color FROM labels ORDER BY repo_id, name",
        /* the schema, and the label index answering (a first import makes
         * it at commit) */
        "SELECT type, name, sql FROM sqlite_master ORDER BY name",
        "SELECT name, count(*) FROM item_labels INDEXED BY item_labels_by_name GROUP BY name ORDER BY name",
    };
    sbuf sb;
    sb_init(&sb);
    for (size_t q = 0; q < sizeof sql / sizeof sql[0]; q++) {
        sqlite3_stmt *s = NULL;
        assert_int_equal(sqlite3_prepare_v2(st->db, sql[q], -1, &s, NULL), SQLITE_OK);
        while (sqlite3_step(s) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(s); c++) {
                const unsigned char *t = sqlite3_column_text(s, c);
                sb_printf(&sb, "%s%s", c ? "|" : "", t ? (const char *)t : "NULL");
            }
            sb_addc(&sb, '\n');
        }
        sqlite3_finalize(s);
        sb_adds(&sb, "--\n");
    }
    return sb_take(&sb);
}

static int64_t read_int(store *st, const char *sql)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* NDJSON items first..last; `round` changes titles, labels and dates, so a
 * second round updates every item it repeats. With bad, a broken record
 * follows the last. More items than STORE_FTS_BATCH, so bulk mode flushes
 * the title index during the import. */
static const char *bulk_file(fx *f, const char *name, int first, int last, int round, int bad)
{
    sbuf sb;
    sb_init(&sb);
    for (int i = first; i <= last; i++)
        sb_printf(&sb,
                  "{\"number\":%d,\"node_id\":\"n%d\",\"title\":\"issue %d r%d\","
                  "\"body\":\"see #%d\",\"labels\":[{\"name\":\"l%d\",\"color\":\"c%d\"}%s],"
                  "\"updated_at\":\"2023-01-%02dT00:00:00Z\","
                  "\"repository_url\":\"https://api.github.com/repos/e/r\"}\n",
                  i, i, i, round, i / 2 + 1, i % 5, i % 5, i % 3 == round % 3 ? ",{\"name\":\"extra\"}" : "",
                  round + 1);
    if (bad) sb_adds(&sb, "{\"number\":\"x\"}\n");
    const char *path = write_file(f, name, sb.s, sb.len, 0);
    sb_free(&sb);
    return path;
}

/* FTS5's own check of the title index against the titles it holds. */
static void fts_intact(store *st)
{
    char *msg = NULL;
    int rc = sqlite3_exec(st->db, "INSERT INTO items_fts(items_fts, rank) VALUES('integrity-check', 1)", NULL,
                          NULL, &msg);
    if (rc != SQLITE_OK) fail_msg("title index: %s", msg ? msg : "?");
}

/* The side build turns the connection's triggers off; a transaction's end
 * turns them on again, for the writes that follow. */
static void expect_triggers_on(store *st)
{
    int on = -1;
    assert_int_equal(sqlite3_db_config(st->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, -1, &on), SQLITE_OK);
    assert_int_equal(on, 1);
    assert_int_equal(st->fts_todo_skipped, 0);
}

/* One file into st in one transaction, as cmd_import does. bulk 1: the
 * title index must be flushed along the way (fewer noted items than were
 * written); bulk 2 (a store without items): it is built beside the
 * writer (store_fts.c) and copied at commit. */
static int import_one(store *st, const char *path, int bulk, dp_err *err)
{
    ingest_opts opts = {.format = INGEST_AUTO};
    ingest_stats stats = {0};
    assert_int_equal(store_begin(st, err), DP_OK);
    if (ingest_file(st, path, &opts, &stats, err) != DP_OK) {
        store_rollback(st);
        expect_triggers_on(st);
        return DP_ERR;
    }
    if (bulk == 1) assert_true(read_int(st, "SELECT count(*) FROM items_fts_todo") < STORE_FTS_BATCH);
    if (bulk == 2) {
        /* a first import: the label index waits for the commit */
        assert_int_equal(st->labels_state, 1);
        assert_int_equal(read_int(st, "SELECT count(*) FROM sqlite_master WHERE name = 'item_labels_by_name'"), 0);
        assert_non_null(st->fts_side);
        /* the side build runs without the title triggers: nothing noted */
        assert_int_equal(read_int(st, "SELECT count(*) FROM items_fts_todo"), 0);
        /* and the writer has put each item's content row in place already */
        assert_int_equal(read_int(st, "SELECT count(*) FROM items_fts_content c JOIN items i "
                                      "ON i.id = c.id AND i.key = c.c0 AND i.title = c.c1"),
                         read_int(st, "SELECT count(*) FROM items"));
    }
    assert_int_equal(store_commit(st, err), DP_OK);
    assert_null(st->fts_side);
    expect_triggers_on(st);
    fts_intact(st);
    return DP_OK;
}

/* A first import and an update of most items give the same rows in bulk
 * mode as one write at a time: items, labels, the title index, links. */
static void test_bulk_same_rows(void **state)
{
    fx *f = *state;
    int n = STORE_FTS_BATCH + 300;
    char path[160];
    dp_err err;
    store *bulk;
    snprintf(path, sizeof path, "%s/bulk.db", f->dir);
    assert_int_equal(store_open(path, &bulk, &err), DP_OK);
    assert_int_equal(store_bulk_mode(bulk, &err), DP_OK);
    const char *files[] = {bulk_file(f, "a.json", 1, n, 1, 0), NULL};
    char *a = xstrdup(files[0]);
    assert_int_equal(import_one(f->st, a, 0, &err), DP_OK);
    assert_int_equal(import_one(bulk, a, 2, &err), DP_OK);
    const char *b = bulk_file(f, "b.json", 200, n + 50, 2, 0);
    assert_int_equal(import_one(f->st, b, 0, &err), DP_OK);
    assert_int_equal(import_one(bulk, b, 1, &err), DP_OK);
    char *want = dump_tables(f->st), *got = dump_tables(bulk);
    assert_true(strlen(want) > 100000);
    assert_string_equal(got, want);
    free(want);
    free(got);
    free(a);
    store_close(bulk);
}

/* A trigger of the store's owner on items (not one of doppel's) keeps the
 * triggers on through a side-built first import: it fires for every item,
 * and the title index is whole. */
static void test_side_keeps_other_triggers(void **state)
{
    fx *f = *state;
    char path[160];
    dp_err err;
    store *st;
    snprintf(path, sizeof path, "%s/audit.db", f->dir);
    assert_int_equal(store_open(path, &st, &err), DP_OK);
    assert_int_equal(store_bulk_mode(st, &err), DP_OK);
    assert_int_equal(sqlite3_exec(st->db,
                                  "CREATE TABLE audit(id INTEGER);"
                                  "CREATE TRIGGER audit_items AFTER INSERT ON items BEGIN "
                                  "INSERT INTO audit VALUES(new.id); END;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    int n = STORE_FTS_BATCH + 30;
    ingest_opts opts = {.format = INGEST_AUTO};
    ingest_stats stats = {0};
    assert_int_equal(store_begin(st, &err), DP_OK);
    assert_int_equal(ingest_file(st, bulk_file(f, "audit.json", 1, n, 1, 0), &opts, &stats, &err), DP_OK);
    assert_non_null(st->fts_side);   /* built beside the writer ... */
    expect_triggers_on(st);          /* ... with the triggers on */
    assert_int_equal(store_commit(st, &err), DP_OK);
    assert_int_equal(read_int(st, "SELECT count(*) FROM items"), n);
    assert_int_equal(read_int(st, "SELECT count(*) FROM audit"), n);
    assert_int_equal(read_int(st, "SELECT count(*) FROM items_fts"), n);
    fts_intact(st);
    store_close(st);
}

/* A bulk import that fails after the title index was flushed (and labels
 * and links written) leaves every table as it was. */
static void test_bulk_error_unchanged(void **state)
{
    fx *f = *state;
    int n = STORE_FTS_BATCH + 300;
    dp_err err = {""};
    assert_int_equal(store_bulk_mode(f->st, &err), DP_OK);
    assert_int_equal(import_one(f->st, bulk_file(f, "a.json", 1, 500, 1, 0), 2, &err), DP_OK);
    char *before = dump_tables(f->st);
    const char *bad = bulk_file(f, "bad.json", 300, n, 2, 1);
    assert_int_equal(import_one(f->st, bad, 1, &err), DP_ERR);
    char want[200];
    snprintf(want, sizeof want, "%s:%d (byte ", bad, n - 300 + 2);
    if (strncmp(err.msg, want, strlen(want)) != 0) fail_msg("got [%s], want [%s...]", err.msg, want);
    char *after = dump_tables(f->st);
    assert_string_equal(after, before);
    free(before);
    free(after);
}

/* A first bulk import that fails, after the label index was dropped for
 * its commit, leaves the store as it was: the index is back, and answers. */
static void test_bulk_first_error_unchanged(void **state)
{
    fx *f = *state;
    char path[160];
    dp_err err = {""};
    store *st;
    snprintf(path, sizeof path, "%s/first.db", f->dir);
    assert_int_equal(store_open(path, &st, &err), DP_OK);
    assert_int_equal(store_bulk_mode(st, &err), DP_OK);
    char *before = dump_tables(st);
    ingest_opts opts = {.format = INGEST_AUTO};
    ingest_stats stats = {0};
    assert_int_equal(store_begin(st, &err), DP_OK);
    assert_int_equal(ingest_file(st, bulk_file(f, "first-bad.json", 1, 300, 1, 1), &opts, &stats, &err), DP_ERR);
    assert_int_equal(st->labels_state, 1);   /* the index was dropped ... */
    store_rollback(st);
    assert_int_equal(st->labels_state, 0);
    char *after = dump_tables(st);           /* ... and is back */
    assert_string_equal(after, before);
    assert_int_equal(read_int(st, "SELECT count(*) FROM sqlite_master WHERE name = 'item_labels_by_name'"), 1);
    /* the next import into the still empty store defers it again */
    assert_int_equal(import_one(st, bulk_file(f, "first-good.json", 1, 300, 1, 0), 2, &err), DP_OK);
    assert_int_equal(read_int(st, "SELECT count(*) FROM item_labels INDEXED BY item_labels_by_name WHERE name = 'extra'"),
                     read_int(st, "SELECT count(*) FROM item_labels NOT INDEXED WHERE name = 'extra'"));
    free(before);
    free(after);
    store_close(st);
}

/* ---- the pipeline: many batches, errors in file order ------------------- */

/* n NDJSON (or, with array, one JSON array of) GitHub issues; records at
 * the 1-based positions bad1 and bad2 (0: none) have a bad type. With
 * array and unclosed, the array never ends. */
static const char *many_records(fx *f, const char *name, int n, int bad1, int bad2, int array,
                                int unclosed)
{
    sbuf sb;
    sb_init(&sb);
    if (array) sb_adds(&sb, "[\n");
    for (int i = 1; i <= n; i++) {
        if (i == bad1 || i == bad2)
            sb_printf(&sb, "{\"number\":%d,\"title\":%d}", i, i);
        else
            sb_printf(&sb, "{\"number\":%d,\"node_id\":\"n%d\",\"title\":\"issue %d\",\"body\":\"text of %d\","
                           "\"repository_url\":\"https://api.github.com/repos/e/r\"}", i, i, i, i);
        sb_adds(&sb, array && i < n ? ",\n" : "\n");
    }
    if (array && !unclosed) sb_adds(&sb, "]\n");
    const char *path = write_file(f, name, sb.s, sb.len, 0);
    sb_free(&sb);
    return path;
}

static void expect_error_at(fx *f, const char *path, int line, const char *msg)
{
    ingest_stats s;
    dp_err err = {""};
    char want[256];
    size_t before = count_items(f);
    const char *files[] = {path, NULL};
    assert_int_equal(import(f, files, NULL, &s, &err), DP_ERR);
    snprintf(want, sizeof want, "%s:%d (byte ", path, line);
    if (strncmp(err.msg, want, strlen(want)) != 0 || !strstr(err.msg, msg))
        fail_msg("got  [%s]\nwant [%s...%s]", err.msg, want, msg);
    assert_int_equal(count_items(f), before);
}

/* Records are parsed in batches (1,024 records each) on several threads,
 * so a later batch may be parsed before an earlier one: the error reported
 * is still the first in the file, with its line, and nothing is written. */
static void test_errors_in_file_order(void **state)
{
    fx *f = *state;
    expect_error_at(f, many_records(f, "two.json", 3000, 1000, 2500, 0, 0), 1000,
                    "title: expected string, got an integer");
    expect_error_at(f, many_records(f, "late.json", 3000, 2999, 0, 0, 0), 2999, "title: expected string");
    /* an array: record i is on line i + 1 */
    expect_error_at(f, many_records(f, "arr.json", 3000, 2000, 0, 1, 1), 2001, "title: expected string");
    /* the reader's own error comes last, after every record before it */
    expect_error_at(f, many_records(f, "open.json", 3000, 0, 0, 1, 1), 1, "'[' never closed");
    ingest_stats s;
    dp_err err;
    const char *files[] = {many_records(f, "ok.json", 3000, 0, 0, 1, 0), NULL};
    assert_int_equal(import(f, files, NULL, &s, &err), DP_OK);
    assert_int_equal(s.items, 3000);
    assert_true(s.cpu_parse >= 0 && s.cpu_read >= 0 && s.cpu_write > 0);
}

/* The format of a file is that of its first record, also for the records
 * of later batches (1,024 records each), which other threads parse. */
static void test_format_of_first_record(void **state)
{
    fx *f = *state;
    sbuf sb;
    sb_init(&sb);
    for (int i = 1; i <= 3000; i++)
        sb_printf(&sb, "{\"number\":%d,\"title\":\"t%d\",\"createdAt\":\"2024-02-01T00:00:00Z\","
                       "\"state\":\"OPEN\",\"url\":\"https://github.com/acme/g/issues/%d\"}\n", i, i, i);
    const char *files[] = {write_file(f, "gh.json", sb.s, sb.len, 1), NULL};
    sb_free(&sb);
    ingest_stats s;
    dp_err err;
    if (import(f, files, NULL, &s, &err) != DP_OK) fail_msg("%s", err.msg);
    assert_int_equal(s.items, 3000);
    item it;   /* in the third batch */
    assert_int_equal(store_item_get(f->st, repo_id(f, "acme/g"), "3000", &it, &err), DP_OK);
    assert_string_equal(it.state, "open");
    item_free(&it);
}

/* One issue twice in a file, the later copy newer and retitled: the
 * second write updates an item still noted for the title index, which
 * failed the whole import before ("UNIQUE constraint failed:
 * items_fts_todo.id"). */
static void test_same_item_twice(void **state)
{
    fx *f = *state;
    static const char twice[] =
        "{\"number\":1,\"node_id\":\"a\",\"title\":\"one\",\"updated_at\":\"2023-01-01T00:00:00Z\","
        "\"repository_url\":\"https://api.github.com/repos/e/r\"}\n"
        "{\"number\":1,\"node_id\":\"a\",\"title\":\"one, edited\",\"updated_at\":\"2023-01-02T00:00:00Z\","
        "\"repository_url\":\"https://api.github.com/repos/e/r\"}\n";
    dp_err err;
    for (int bulk = 0; bulk < 2; bulk++) {
        if (bulk) assert_int_equal(store_bulk_mode(f->st, &err), DP_OK);
        const char *path = write_file(f, bulk ? "twice2.json" : "twice.json", twice, sizeof twice - 1, 0);
        char *p = xstrdup(path);
        if (import_one(f->st, p, 0, &err) != DP_OK) fail_msg("%s", err.msg);
        free(p);
        assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts WHERE " FTS_HAS("edited")), 1);
        assert_int_equal(read_int(f->st, "SELECT count(*) FROM items WHERE title = 'one, edited'"), 1);
    }
}

/* A first import in bulk mode builds the title index beside the writer
 * (store_fts.c): an item written again with a new title leaves only its
 * new title there, an older copy changes nothing, and the index passes
 * FTS5's check. A failed first import leaves the store empty and stops
 * the builder. */
static void test_side_index(void **state)
{
    fx *f = *state;
    static const char recs[] =
        "{\"number\":1,\"node_id\":\"a\",\"title\":\"first words\",\"updated_at\":\"2023-01-01T00:00:00Z\","
        "\"repository_url\":\"https://api.github.com/repos/e/r\"}\n"
        "{\"number\":2,\"node_id\":\"b\",\"title\":\"second\",\"updated_at\":\"2023-01-05T00:00:00Z\","
        "\"repository_url\":\"https://api.github.com/repos/e/r\"}\n"
        "{\"number\":1,\"node_id\":\"a\",\"title\":\"retitled\",\"updated_at\":\"2023-01-02T00:00:00Z\","
        "\"repository_url\":\"https://api.github.com/repos/e/r\"}\n"
        "{\"number\":2,\"node_id\":\"b\",\"title\":\"stale copy\",\"updated_at\":\"2023-01-01T00:00:00Z\","
        "\"repository_url\":\"https://api.github.com/repos/e/r\"}\n";
    dp_err err = {""};
    /* this connection has read the (empty) index before */
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts WHERE " FTS_HAS("words")), 0);
    assert_int_equal(store_bulk_mode(f->st, &err), DP_OK);
    const char *bad = bulk_file(f, "bad.json", 1, 300, 1, 1);
    assert_int_equal(import_one(f->st, bad, 2, &err), DP_ERR);
    assert_null(f->st->fts_side);
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items"), 0);
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts"), 0);
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts_todo"), 0);
    char *p = xstrdup(write_file(f, "recs.json", recs, sizeof recs - 1, 0));
    if (import_one(f->st, p, 2, &err) != DP_OK) fail_msg("%s", err.msg);
    free(p);
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts"), 2);
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts WHERE " FTS_HAS("retitled")), 1);
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts WHERE " FTS_HAS("words")), 0);
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts WHERE " FTS_HAS("second")), 1);
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts WHERE " FTS_HAS("stale")), 0);
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts_todo"), 0);
    /* the private index's settings stay there */
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts_config WHERE k <> 'version'"), 0);
    /* the same connection goes on writing the copied index the usual way */
    static const char more[] =
        "{\"number\":3,\"node_id\":\"c\",\"title\":\"third words\",\"updated_at\":\"2023-01-01T00:00:00Z\","
        "\"repository_url\":\"https://api.github.com/repos/e/r\"}\n"
        "{\"number\":2,\"node_id\":\"b\",\"title\":\"second, later\",\"updated_at\":\"2023-02-01T00:00:00Z\","
        "\"repository_url\":\"https://api.github.com/repos/e/r\"}\n";
    p = xstrdup(write_file(f, "more.json", more, sizeof more - 1, 0));
    if (import_one(f->st, p, 1, &err) != DP_OK) fail_msg("%s", err.msg);
    free(p);
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts"), 3);
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts WHERE " FTS_HAS("retitled")), 1);
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts WHERE " FTS_HAS("words")), 1);
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts WHERE " FTS_HAS("later")), 1);
}

/* A first import of n items in bulk mode, then the check that every
 * title is in the index (the last one by a phrase). */
static int import_titles(fx *f, int n, dp_err *err)
{
    assert_int_equal(store_bulk_mode(f->st, err), DP_OK);
    return import_one(f->st, bulk_file(f, "a.json", 1, n, 1, 0), 2, err);
}

static void expect_titles(fx *f, int n)
{
    char q[192];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM items_fts WHERE items_fts MATCH dp_fts_query('issue %d r1') "
             "AND dp_fts_has(key, title, 'issue %d r1')",
             n - 1, n - 1);
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts"), n);
    assert_int_equal(read_int(f->st, q), 1);
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM items_fts_todo"), 0);
}

/* When the side build fails (its temporary file, say), the import still
 * succeeds and indexes every title the usual way. */
static void test_side_index_fails(void **state)
{
    fx *f = *state;
    dp_err err = {""};
    store_fts_side_fault = 1;
    int rc = import_titles(f, 3000, &err);
    store_fts_side_fault = 0;
    if (rc != DP_OK) fail_msg("%s", err.msg);
    expect_titles(f, 3000);
}

/* The writer waits for the thread when the queue is full: with room for
 * one chunk, an import of five chunks still indexes every title. */
static void test_side_index_queue_full(void **state)
{
    fx *f = *state;
    dp_err err = {""};
    store_fts_side_max_queued = 1;
    int rc = import_titles(f, 5000, &err);
    store_fts_side_max_queued = 64;
    if (rc != DP_OK) fail_msg("%s", err.msg);
    expect_titles(f, 5000);
}

/* A label's colour is set when a (label, colour) is met for the first time
 * in an import: a later new colour wins, an earlier one met again does
 * not come back (ingest.c, set_label_colors). */
static void test_label_colour_changes(void **state)
{
    fx *f = *state;
    static const char recs[] =
        "{\"number\":1,\"node_id\":\"a\",\"title\":\"one\",\"labels\":[{\"name\":\"bug\",\"color\":\"aaaaaa\"}],"
        "\"repository_url\":\"https://api.github.com/repos/e/r\"}\n"
        "{\"number\":2,\"node_id\":\"b\",\"title\":\"two\",\"labels\":[{\"name\":\"bug\",\"color\":\"#bbbbbb\"},"
        "{\"name\":\"ui\",\"color\":\"cccccc\"}],\"repository_url\":\"https://api.github.com/repos/e/r\"}\n"
        "{\"number\":3,\"node_id\":\"c\",\"title\":\"three\",\"labels\":[{\"name\":\"bug\",\"color\":\"aaaaaa\"}],"
        "\"repository_url\":\"https://api.github.com/repos/e/r\"}\n";
    dp_err err;
    ingest_stats s = {0};
    const char *files[] = {write_file(f, "colours.json", recs, sizeof recs - 1, 0), NULL};
    if (import(f, files, NULL, &s, &err) != DP_OK) fail_msg("%s", err.msg);
    strvec names = {0}, colors = {0};
    assert_int_equal(store_label_colors_load(f->st, repo_id(f, "e/r"), &names, &colors, &err), DP_OK);
    assert_int_equal(names.n, 2);
    assert_string_equal(names.v[0], "bug");
    assert_string_equal(colors.v[0], "bbbbbb");
    assert_string_equal(names.v[1], "ui");
    assert_string_equal(colors.v[1], "cccccc");
    sv_free(&names);
    sv_free(&colors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_side_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_side_index_queue_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_side_index_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_label_colour_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_github_and_comments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gh_and_repo_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jira_page_and_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_future_dates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_file_warns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_undetectable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_side_keeps_other_triggers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_same_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_error_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_first_error_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_in_file_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_of_first_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_item_twice, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
