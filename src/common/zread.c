/* zread.c -- strict gzip-or-plain file reader (see zread.h).
 *
 * The gzip path keeps one input buffer and inflates with ISA-L's igzip in
 * ISAL_GZIP mode (it parses each member's header and checks its CRC-32 and
 * length): igzip inflates 2-3x faster than zlib, and the inflate of a
 * large export was ~15 % of an import's CPU. igzip stops at the end of a
 * member and gives back the input after it; between members the next two
 * bytes must be the gzip magic or the input must end there, the check
 * gzread() leaves out. igzip has no message strings: its error codes are
 * mapped to zlib's messages (the ones users and tests know).
 */
#include "zread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <isa-l/igzip_lib.h>

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
    unsigned char tail[8];/* the last bytes consumed before `in` was refilled */
    unsigned ntail;
    struct inflate_state zs;
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

/* Keeps the last 8 consumed bytes before fill() drops them: a member's
 * trailer (CRC-32, length) when a check fails, see check_message(). */
static void keep_tail(zreader *z)
{
    size_t used = (size_t)(z->zs.next_in - z->in);
    if (used >= sizeof z->tail) {
        memcpy(z->tail, z->zs.next_in - sizeof z->tail, sizeof z->tail);
        z->ntail = sizeof z->tail;
    } else if (used) {
        unsigned keep = z->ntail + used > sizeof z->tail ? (unsigned)(sizeof z->tail - used) : z->ntail;
        memmove(z->tail, z->tail + z->ntail - keep, keep);
        memcpy(z->tail + keep, z->in, used);
        z->ntail = keep + (unsigned)used;
    }
}

/* Moves the unread input to the front and reads once more behind it (one
 * read, so a pipe's data is used as soon as it arrives). Sets eof when the
 * file ends. -1 on a read error. */
static int fill(zreader *z, dp_err *err)
{
    size_t have = z->zs.avail_in;
    keep_tail(z);
    if (have && z->zs.next_in != z->in) memmove(z->in, z->zs.next_in, have);
    z->zs.next_in = z->in;
    if (z->eof || have == ZR_IN) return 0;
    ssize_t n;
    do n = read(z->fd, z->in + have, ZR_IN - have);
    while (n < 0 && errno == EINTR);
    if (n < 0) return read_error(z, err);
    if (n == 0) z->eof = 1;
    z->raw += (uint64_t)n;
    z->zs.avail_in = (uint32_t)(have + (size_t)n);
    return 0;
}

/* Makes igzip ready for a member at next_in; init clears the input and
 * output pointers, which are kept across it (a member may start in the
 * middle of a zr_read). */
static void start_member(zreader *z)
{
    struct inflate_state *s = &z->zs;
    uint8_t *in = s->next_in, *out = s->next_out;
    uint32_t avail_in = s->avail_in, avail_out = s->avail_out;
    isal_inflate_init(s);
    s->crc_flag = ISAL_GZIP;
    s->next_in = in;
    s->avail_in = avail_in;
    s->next_out = out;
    s->avail_out = avail_out;
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
        start_member(z);
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
        z->zs.avail_in -= (uint32_t)n;
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
        start_member(z);
        z->in_member = 1;
        return 1;
    }
    return zr_fail(z, err, "trailing garbage after the gzip data: not another gzip member");
}

/* A failed CRC or length check: igzip says which of the two only by one
 * code, so the member's trailer (the 8 bytes igzip consumed last) is
 * compared with the CRC it computed, for zlib's two messages. */
static const char *check_message(const zreader *z)
{
    unsigned char t[8];
    size_t inbuf = (size_t)(z->zs.next_in - z->in), from_buf = inbuf < 8 ? inbuf : 8;
    if (8 - from_buf > z->ntail) return "incorrect data or length check";
    memcpy(t, z->tail + z->ntail - (8 - from_buf), 8 - from_buf);
    memcpy(t + 8 - from_buf, z->zs.next_in - from_buf, from_buf);
    uint32_t crc = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
    return crc != z->zs.crc ? "incorrect data check" : "incorrect length check";
}

/* zlib's words for igzip's error codes. */
static const char *isal_message(const zreader *z, int r)
{
    switch (r) {
    case ISAL_INVALID_BLOCK: return "invalid block type or lengths";
    case ISAL_INVALID_SYMBOL: return "invalid code";
    case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER: return "incorrect header check";
    case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM: return check_message(z);
    default: return "inflate failed";
    }
}

/* On an error after some output, that output is returned first and the
 * error comes with the next call, so the caller's position points at the
 * end of the good data. igzip returns when the input is used up, the
 * output is full or the member ends: space left with no input to come
 * before the member's end is a truncated file. */
static long gzip_read(zreader *z, unsigned char *buf, size_t cap, dp_err *err)
{
    z->zs.next_out = buf;
    z->zs.avail_out = (uint32_t)(cap > (1u << 30) ? (1u << 30) : cap);
    uint32_t want = z->zs.avail_out;
    while (z->zs.avail_out > 0 && z->state == ZR_READING) {
        if (!z->in_member) {
            if (next_member(z, err) == 0) z->state = ZR_END;
            continue;
        }
        if (z->zs.avail_in == 0 && !z->eof && fill(z, err) < 0) break;
        int r = isal_inflate(&z->zs);
        if (r < 0) {
            char what[256];
            snprintf(what, sizeof what, "corrupt gzip data: %s", isal_message(z, r));
            zr_fail(z, err, what);
        } else if (z->zs.block_state == ISAL_BLOCK_FINISH) {
            z->in_member = 0;   /* CRC and length matched */
        } else if (z->zs.avail_out > 0 && z->zs.avail_in == 0 && z->eof) {
            zr_fail(z, err, "truncated gzip file: unexpected end of file");
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
    close(z->fd);
    free(z->in);
    free(z);
}
