/* zread.h -- reading a file that may be gzip-compressed, strictly.
 *
 * zlib's gzread() cannot be trusted with damaged input: it returns the data
 * of a gzip stream cut short (a missing CRC/length trailer, or a cut that
 * falls between two deflate blocks) and then reports a clean end of file,
 * and it drops bytes after the last gzip member without a word. Exports
 * are large and copied around, so a truncated one must fail loudly rather
 * than import part of its records. This reader inflates with igzip
 * directly and fails on:
 *   - a stream that ends before its member's trailer ("truncated"),
 *   - a CRC or length mismatch or corrupt deflate data,
 *   - anything after a member that is not another gzip member.
 * Concatenated members (gzip's own `cat a.gz b.gz`) are read as one stream;
 * empty members are fine. A file that does not start with the gzip magic
 * is passed through as it is.
 *
 * Errors are returned in dp_err (without the file name: callers add it).
 * One reader is used by one thread at a time.
 */
#ifndef DP_ZREAD_H
#define DP_ZREAD_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

typedef struct zreader zreader;

/* Opens path; "-" reads standard input (a dup of fd 0; closing the reader
 * leaves fd 0 open). */
int zr_open(const char *path, zreader **out, dp_err *err);
/* Reads up to cap bytes of uncompressed data into buf. Returns the count
 * (> 0), 0 at the clean end of input, or -1 with err filled. After an
 * error or the end, further calls return the same. */
long zr_read(zreader *z, void *buf, size_t cap, dp_err *err);
/* Bytes consumed from the file so far (compressed bytes for gzip). */
uint64_t zr_offset(const zreader *z);
int zr_is_gzip(const zreader *z);
void zr_close(zreader *z);   /* NULL ok */

#endif
