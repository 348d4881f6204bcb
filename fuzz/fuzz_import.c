/* fuzz_import.c -- a whole import (ingest_file) into a store, from a file
 * that is plain JSON or gzip: the input is put in a memfd and imported by
 * path, format detected, inside a transaction that is rolled back (the store
 * is an in-memory SQLite database opened once).
 *
 * Checks: ingest_file either succeeds or fails with a message naming the
 * file; the store stays usable; a
 * gzip input imports only when it is whole (issue 11 A) -- complete members and nothing
 * after them -- and then every member's bytes were read. */
#include "fuzz.h"

#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "../src/ingest/ingest.h"

static store *st;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    dp_err err;
    if (store_open(":memory:", &st, &err) != DP_OK) fuzz_fail("store_open: %s", err.msg);
    return 0;
}

/* Uncompressed size of data when it is a sequence of complete gzip members
 * and nothing else; -1 otherwise. */
static long long gzip_whole_size(const uint8_t *data, size_t size)
{
    long long total = 0;
    size_t pos = 0;
    unsigned char out[16384];
    while (pos < size) {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return -1;
        zs.next_in = (Bytef *)(data + pos);
        zs.avail_in = (uInt)(size - pos);
        int zr;
        do {
            zs.next_out = out;
            zs.avail_out = sizeof out;
            zr = inflate(&zs, Z_NO_FLUSH);
            total += (long long)(sizeof out - zs.avail_out);
        } while (zr == Z_OK);
        pos = size - zs.avail_in;
        inflateEnd(&zs);
        if (zr != Z_STREAM_END) return -1;
    }
    return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-import", 0);
    if (fd < 0) fuzz_fail("memfd_create failed");
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) fuzz_fail("write to memfd failed");
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    dp_err err;
    ingest_opts opts = {.format = INGEST_AUTO};
    ingest_stats stats = {0};
    if (store_begin(st, &err) != DP_OK) fuzz_fail("store_begin: %s", err.msg);
    int rc = ingest_file(st, path, &opts, &stats, &err);
    store_rollback(st);
    close(fd);

    if (rc == DP_OK) {
        fuzz_check(stats.items_written <= stats.items, "more items written than read");
        int gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
        if (gz) {
            long long whole = gzip_whole_size(data, size);
            fuzz_check(whole >= 0, "a damaged or truncated gzip file imported without an error");
            fuzz_check((long long)stats.bytes == whole,
                       "gzip: %zu bytes read of %lld (a member was dropped)", stats.bytes, whole);
        }
    } else {
        fuzz_check(rc == DP_ERR, "ingest_file returned %d", rc);
        fuzz_check(!strncmp(err.msg, path, strlen(path)), "error does not name the file: %s", err.msg);
    }
    return 0;
}
