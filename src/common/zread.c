/* zread.c -- strict gzip-or-plain file reader (see zread.h).
 *
 * The gzip path keeps one input buffer and inflates with windowBits 15+16
 * (gzip wrapper only), so zlib itself checks each member's CRC-32 and
 * length. Between members the next two bytes must be the gzip magic or the
 * input must end there; that is the check gzread() leaves out.
 */
#include "zread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define ZR_IN (128u * 1024)

enum { ZR_READING = 0, ZR_END = 1, ZR_FAILED = -1 };

struct zreader {
    int fd;
    int gz;               /* 1: inflating gzip members; 0: plain pass-through */
    int state;
    int eof;              /* read() returned 0 */
    int in_member;        /* inside a gzip member (its trailer not yet checked) */
    uint64_t raw;         /* bytes read from fd */
    unsigned char *in;    /* ZR_IN bytes; zs.next_in/avail_in mark the unread part */
    z_stream zs;
    dp_err err;           /* the error, repeated by later calls */
};

/* Fails with "<what> (compressed byte N)" and makes the error sticky. */
static int zr_fail(zreader *z, dp_err *err, const char *what)
{
    dp_fail(&z->err, "%s (%sbyte %llu)", what, z->gz ? "compressed " : "",
            (unsigned long long)zr_offset(z));
    z->state = ZR_FAILED;
    if (err) *err = z->err;
    return -1;
}

static int read_error(zreader *z, dp_err *err)
{
    char what[256];
    snprintf(what, sizeof what, "read error: %s", strerror(errno));
    return zr_fail(z, err, what);
}

/* Moves the unread input to the front and reads once more behind it (one
 * read, so a pipe's data is used as soon as it arrives). Sets eof when the
 * file ends. -1 on a read error. */
static int fill(zreader *z, dp_err *err)
{
    size_t have = z->zs.avail_in;
    if (have && z->zs.next_in != z->in) memmove(z->in, z->zs.next_in, have);
    z->zs.next_in = z->in;
    if (z->eof || have == ZR_IN) return 0;
    ssize_t n;
    do n = read(z->fd, z->in + have, ZR_IN - have);
    while (n < 0 && errno == EINTR);
    if (n < 0) return read_error(z, err);
    if (n == 0) z->eof = 1;
    z->raw += (uint64_t)n;
    z->zs.avail_in = (uInt)(have + (size_t)n);
    return 0;
}

int zr_open(const char *path, zreader **out, dp_err *err)
{
    int fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return dp_fail(err, "cannot open: %s", strerror(errno));
    zreader *z = xcalloc(1, sizeof *z);
    z->fd = fd;
    z->in = xmalloc(ZR_IN);
    z->zs.next_in = z->in;
    /* Enough bytes to see the magic (a pipe may deliver one at a time). */
    while (z->zs.avail_in < 2 && !z->eof)
        if (fill(z, err) < 0) {
            zr_close(z);
            return DP_ERR;
        }
    if (z->zs.avail_in >= 2 && z->in[0] == 0x1f && z->in[1] == 0x8b) {
        if (inflateInit2(&z->zs, 15 + 16) != Z_OK) {
            zr_close(z);
            return dp_fail(err, "cannot start gzip decompression");
        }
        z->gz = 1;
        z->in_member = 1;
    }
    *out = z;
    return DP_OK;
}

static long plain_read(zreader *z, unsigned char *buf, size_t cap, dp_err *err)
{
    if (z->zs.avail_in) {   /* what zr_open read ahead */
        size_t n = z->zs.avail_in < cap ? z->zs.avail_in : cap;
        memcpy(buf, z->zs.next_in, n);
        z->zs.next_in += n;
        z->zs.avail_in -= (uInt)n;
        return (long)n;
    }
    ssize_t n;
    do n = read(z->fd, buf, cap > (1u << 30) ? (1u << 30) : cap);
    while (n < 0 && errno == EINTR);
    if (n < 0) return read_error(z, err);
    if (n == 0) z->state = ZR_END;
    z->raw += (uint64_t)n;
    return (long)n;
}

/* Between members: another member must follow, or nothing at all. Returns
 * 1 when one starts, 0 at the clean end, -1 on trailing garbage. */
static int next_member(zreader *z, dp_err *err)
{
    while (z->zs.avail_in < 2 && !z->eof)
        if (fill(z, err) < 0) return -1;
    if (z->zs.avail_in == 0) return 0;
    if (z->zs.avail_in >= 2 && z->zs.next_in[0] == 0x1f && z->zs.next_in[1] == 0x8b) {
        inflateReset(&z->zs);
        z->in_member = 1;
        return 1;
    }
    return zr_fail(z, err, "trailing garbage after the gzip data: not another gzip member");
}

/* On an error after some output, that output is returned first and the
 * error comes with the next call, so the caller's position points at the
 * end of the good data. */
static long gzip_read(zreader *z, unsigned char *buf, size_t cap, dp_err *err)
{
    z->zs.next_out = buf;
    z->zs.avail_out = (uInt)(cap > (1u << 30) ? (1u << 30) : cap);
    uInt want = z->zs.avail_out;
    while (z->zs.avail_out > 0 && z->state == ZR_READING) {
        if (!z->in_member) {
            if (next_member(z, err) == 0) z->state = ZR_END;
            continue;
        }
        if (z->zs.avail_in == 0 && !z->eof && fill(z, err) < 0) break;
        int r = inflate(&z->zs, Z_NO_FLUSH);
        if (r == Z_STREAM_END) {
            z->in_member = 0;   /* CRC and length matched */
        } else if (r == Z_BUF_ERROR && z->zs.avail_in == 0 && z->eof) {
            zr_fail(z, err, "truncated gzip file: unexpected end of file");
        } else if (r != Z_OK && r != Z_BUF_ERROR) {
            char what[256];
            snprintf(what, sizeof what, "corrupt gzip data: %s", z->zs.msg ? z->zs.msg : "inflate failed");
            zr_fail(z, err, what);
        }
    }
    long n = (long)(want - z->zs.avail_out);
    return n > 0 || z->state != ZR_FAILED ? n : -1;
}

long zr_read(zreader *z, void *buf, size_t cap, dp_err *err)
{
    if (z->state == ZR_FAILED) {
        if (err) *err = z->err;
        return -1;
    }
    if (z->state == ZR_END || cap == 0) return 0;
    return z->gz ? gzip_read(z, buf, cap, err) : plain_read(z, buf, cap, err);
}

uint64_t zr_offset(const zreader *z) { return z->raw - z->zs.avail_in; }

int zr_is_gzip(const zreader *z) { return z->gz; }

void zr_close(zreader *z)
{
    if (!z) return;
    if (z->gz) inflateEnd(&z->zs);
    close(z->fd);
    free(z->in);
    free(z);
}
