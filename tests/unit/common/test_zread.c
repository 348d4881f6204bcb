/* test_zread.c -- the strict gzip reader: every way a .gz can be cut or
 * extended must be an error (gzread() passed them as a shorter file), and
 * what gzip itself accepts (concatenated and empty members, plain files,
 * pipes) must read in full. dp_read_file goes through the same reader. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "../../../src/common/zread.h"

#define NREC 300

/* NREC NDJSON records, ~40 KB. */
static void records(sbuf *sb)
{
    sb_init(sb);
    for (int i = 1; i <= NREC; i++)
        sb_printf(sb, "{\"number\":%d,\"title\":\"record %d of the test\",\"body\":\"%0*d\"}\n", i, i,
                  80, i);
}

/* Gzip member of data[0..n). With cut > 0 the stream is flushed to a byte
 * boundary (Z_FULL_FLUSH) after data[0..cut), and *cut_at receives the
 * compressed size at that point: cutting the file there ends it exactly at
 * a record boundary, with every byte before decodable. */
static void gz_member(sbuf *out, const char *data, size_t n, size_t cut, size_t *cut_at)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    unsigned char buf[1 << 16];
    size_t parts[2] = {cut ? cut : n, cut ? n - cut : 0};
    const char *p = data;
    for (int k = 0; k < 2; k++) {
        zs.next_in = (unsigned char *)p;
        zs.avail_in = (uInt)parts[k];
        int flush = k == 0 && cut ? Z_FULL_FLUSH : Z_FINISH;
        int r;
        do {
            zs.next_out = buf;
            zs.avail_out = sizeof buf;
            r = deflate(&zs, flush);
            sb_add(out, (char *)buf, sizeof buf - zs.avail_out);
        } while (zs.avail_out == 0 || (flush == Z_FINISH && r != Z_STREAM_END));
        p += parts[k];
        if (k == 0 && cut && cut_at) *cut_at = out->len;
        if (!cut) break;
    }
    deflateEnd(&zs);
}

static char dir[64];

static const char *write_tmp(const char *name, const char *data, size_t n)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (n) assert_int_equal(fwrite(data, 1, n, fp), n);
    fclose(fp);
    return path;
}

/* Reads path to the end with small reads. Returns the zr_read status of
 * the last call (0 clean end, -1 error); *got holds what came out. */
static int read_all(const char *path, sbuf *got, dp_err *err)
{
    zreader *z;
    sb_init(got);
    assert_int_equal(zr_open(path, &z, err), DP_OK);
    char buf[1000];
    long n;
    while ((n = zr_read(z, buf, sizeof buf, err)) > 0) sb_add(got, buf, (size_t)n);
    if (n < 0) {   /* the error is sticky */
        dp_err again;
        assert_int_equal(zr_read(z, buf, sizeof buf, &again), -1);
        assert_string_equal(again.msg, err->msg);
    }
    zr_close(z);
    return (int)n;
}

static void expect_ok(const char *name, const sbuf *file, const char *want, size_t wantlen)
{
    sbuf got;
    dp_err err;
    const char *path = write_tmp(name, file->s, file->len);
    if (read_all(path, &got, &err) != 0) fail_msg("%s: %s", name, err.msg);
    assert_int_equal(got.len, wantlen);
    if (wantlen) assert_memory_equal(got.s, want, wantlen);
    sb_free(&got);
    /* dp_read_file agrees */
    char *all;
    size_t len;
    if (dp_read_file(path, &all, &len, &err) != DP_OK) fail_msg("%s: %s", name, err.msg);
    assert_int_equal(len, wantlen);
    free(all);
}

static void expect_fail(const char *name, const char *data, size_t n, const char *want)
{
    sbuf got;
    dp_err err;
    const char *path = write_tmp(name, data, n);
    if (read_all(path, &got, &err) != -1) fail_msg("%s: read %zu bytes without an error", name, got.len);
    if (!strstr(err.msg, want)) fail_msg("%s: got [%s], want [%s]", name, err.msg, want);
    sb_free(&got);
    char *all = NULL;
    size_t len;
    assert_int_equal(dp_read_file(path, &all, &len, &err), DP_ERR);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, want));
}

static void test_truncations(void **state)
{
    (void)state;
    sbuf rec, gz;
    size_t at = 0;
    records(&rec);
    sb_init(&gz);
    size_t boundary = (size_t)(strstr(rec.s, "{\"number\":147,") - rec.s);
    gz_member(&gz, rec.s, rec.len, boundary, &at);
    expect_ok("whole.gz", &gz, rec.s, rec.len);

    expect_fail("mid.gz", gz.s, gz.len / 2, "truncated gzip file: unexpected end of file");
    expect_fail("boundary.gz", gz.s, at, "truncated gzip file");
    expect_fail("no-size.gz", gz.s, gz.len - 4, "truncated gzip file");
    expect_fail("no-trailer.gz", gz.s, gz.len - 8, "truncated gzip file");
    expect_fail("header-only.gz", gz.s, 10, "truncated gzip file");
    expect_fail("magic-only.gz", gz.s, 2, "truncated gzip file");

    /* damaged trailer: CRC, then length */
    gz.s[gz.len - 6] ^= 1;
    expect_fail("crc.gz", gz.s, gz.len, "incorrect data check");
    gz.s[gz.len - 6] ^= 1;
    gz.s[gz.len - 2] ^= 1;
    expect_fail("length.gz", gz.s, gz.len, "incorrect length check");
    gz.s[gz.len - 2] ^= 1;

    /* anything after the last member that is not a member */
    sbuf ext;
    sb_init(&ext);
    sb_add(&ext, gz.s, gz.len);
    sb_adds(&ext, "garbage\n");
    expect_fail("garbage.gz", ext.s, ext.len, "trailing garbage after the gzip data");
    ext.len = gz.len;
    sb_addc(&ext, '\0');
    expect_fail("zero.gz", ext.s, ext.len, "trailing garbage");
    ext.len = gz.len;
    sb_addc(&ext, '\x1f');   /* half a magic */
    expect_fail("half-magic.gz", ext.s, ext.len, "trailing garbage");
    ext.len = gz.len;
    sb_add(&ext, gz.s, 12);  /* a second member cut short */
    expect_fail("second-cut.gz", ext.s, ext.len, "truncated gzip file");
    /* the position is counted in compressed bytes */
    ext.len = gz.len;
    sb_adds(&ext, "xx");
    char want[64];
    snprintf(want, sizeof want, "(compressed byte %zu)", gz.len);
    expect_fail("pos.gz", ext.s, ext.len, want);
    sb_free(&ext);
    sb_free(&gz);
    sb_free(&rec);
}

static void test_members(void **state)
{
    (void)state;
    sbuf rec, gz, empty;
    records(&rec);
    sb_init(&gz);
    sb_init(&empty);
    gz_member(&empty, "", 0, 0, NULL);
    size_t half = (size_t)(strstr(rec.s, "{\"number\":151,") - rec.s);
    /* empty, first half, empty, second half, empty */
    sb_add(&gz, empty.s, empty.len);
    gz_member(&gz, rec.s, half, 0, NULL);
    sb_add(&gz, empty.s, empty.len);
    gz_member(&gz, rec.s + half, rec.len - half, 0, NULL);
    sb_add(&gz, empty.s, empty.len);
    expect_ok("members.gz", &gz, rec.s, rec.len);
    expect_ok("empty-member.gz", &empty, "", 0);
    sb_free(&gz);
    sb_free(&empty);
    sb_free(&rec);
}

/* A member of n bytes stored (deflate level 0), so its size follows n. */
static void gz_stored(sbuf *out, size_t n)
{
    sbuf data;
    sb_init(&data);
    for (size_t i = 0; i < n; i++) sb_addc(&data, (char)('a' + (i * 7919 + i / 13) % 26));
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 0, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, n);
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    zs.next_in = (unsigned char *)data.s;
    zs.avail_in = (uInt)n;
    zs.next_out = buf;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    sb_add(out, (char *)buf, zs.total_out);
    deflateEnd(&zs);
    free(buf);
    sb_free(&data);
}

/* igzip reports a failed CRC and a failed length alike; the reader tells
 * them apart by the trailer it kept, also when the trailer is split
 * between two reads of its 128 KiB input buffer (ZR_IN in zread.c): the
 * file is made 4 bytes longer than that, so the first read ends inside
 * the trailer. Damaged headers and deflate data get zlib's words. */
static void test_check_messages(void **state)
{
    (void)state;
    const size_t zr_in = 128u * 1024;
    sbuf gz;
    sb_init(&gz);
    for (size_t n = zr_in - 200; gz.len != zr_in + 4; n++) {
        assert_true(n < zr_in);
        sb_reset(&gz);
        gz_stored(&gz, n);
    }
    gz.s[gz.len - 6] ^= 1;   /* in the CRC, before the cut */
    expect_fail("split-crc.gz", gz.s, gz.len, "corrupt gzip data: incorrect data check");
    gz.s[gz.len - 6] ^= 1;
    gz.s[gz.len - 2] ^= 1;   /* in the length, after the cut */
    expect_fail("split-length.gz", gz.s, gz.len, "corrupt gzip data: incorrect length check");
    gz.s[gz.len - 2] ^= 1;
    gz.s[2] = 7;             /* compression method 7 */
    expect_fail("method.gz", gz.s, gz.len, "corrupt gzip data: unknown compression method");
    gz.s[2] = 8;
    gz.s[10] = 0x07;         /* a final block of the reserved type 3 */
    expect_fail("block.gz", gz.s, gz.len, "corrupt gzip data: invalid block type");
    sb_free(&gz);
}

/* Plain files pass through, also tiny ones and one that starts with 0x1f
 * alone; an empty file is a clean, empty read. */
static void test_plain(void **state)
{
    (void)state;
    sbuf f;
    sb_init(&f);
    expect_ok("empty.json", &f, "", 0);
    sb_adds(&f, "{");
    expect_ok("one.json", &f, "{", 1);
    sb_reset(&f);
    sb_adds(&f, "\x1f{}");
    expect_ok("odd.json", &f, "\x1f{}", 3);
    sbuf rec;
    records(&rec);
    expect_ok("plain.json", &rec, rec.s, rec.len);
    sb_free(&rec);
    sb_free(&f);
    zreader *z;
    dp_err err;
    snprintf(dir + strlen(dir), 16, "/nope");
    assert_int_equal(zr_open(dir, &z, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "cannot open"));
    dir[strlen(dir) - 5] = '\0';
}

/* A pipe delivers the stream in pieces, the magic possibly byte by byte. */
static void test_pipe(void **state)
{
    (void)state;
    sbuf rec, gz;
    records(&rec);
    sb_init(&gz);
    gz_member(&gz, rec.s, rec.len, 0, NULL);
    for (int cut = 0; cut < 2; cut++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            size_t n = cut ? gz.len - 8 : gz.len;
            for (size_t i = 0; i < n;) {   /* 1 byte, then 4 KB at a time */
                size_t k = i == 0 ? 1 : (n - i < 4096 ? n - i : 4096);
                if (write(fds[1], gz.s + i, k) != (ssize_t)k) _exit(1);
                i += k;
            }
            _exit(0);
        }
        close(fds[1]);
        int saved = dup(0);
        dup2(fds[0], 0);
        close(fds[0]);
        sbuf got;
        dp_err err;
        int rc = read_all("-", &got, &err);
        dup2(saved, 0);
        close(saved);
        int status;
        waitpid(pid, &status, 0);
        if (cut) {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err.msg, "truncated gzip file"));
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(got.len, rec.len);
            assert_memory_equal(got.s, rec.s, rec.len);
        }
        sb_free(&got);
    }
    sb_free(&gz);
    sb_free(&rec);
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/doppel-zread-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_check_messages),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_pipe),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
