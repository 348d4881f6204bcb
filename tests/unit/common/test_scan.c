/* test_scan.c -- dp_scan_any: the first byte of the set (or, with high, any
 * byte >= 0x80) from i, found sixteen bytes a step, is the one a byte loop
 * finds -- at every alignment, around the 16-byte steps, at the very end,
 * with no match at all, and with bytes of every value around it. dp_ascii
 * (8 bytes a step) answers as a byte loop does. */
#include "testutil.h"

#include <stdlib.h>

#include "../../../src/common/scan.h"
#include "../../../src/common/util.h"

/* The sets of the two callers (pick.c, split.c) and one with a byte
 * repeated and NUL in it. */
typedef struct set {
    unsigned char a, b, c, d;
    int high;
} set;
static const set sets[] = {
    {0, '\v', '\f', '\\', 1},
    {'"', '\\', '\n', '\n', 0},
    {0, 'x', 'x', 'x', 0},
};

static void table_of(const set *st, unsigned char tab[256])
{
    for (int x = 0; x < 256; x++)
        tab[x] = x == st->a || x == st->b || x == st->c || x == st->d || (st->high && x >= 0x80);
}

static size_t plain(const unsigned char *s, size_t i, size_t n, const unsigned char tab[256])
{
    while (i < n && !tab[s[i]]) i++;
    return i;
}

/* Random buffers of bytes drawn from a pool: mostly ordinary letters, with
 * matches rare, so that a match lies anywhere within or beyond a step. */
static void test_scan_matches_plain(void **state)
{
    (void)state;
    srand(12345);
    unsigned char *buf = malloc(200);   /* n up to 200: the scan reads s[i..n) only (ASan checks) */
    for (size_t k = 0; k < sizeof sets / sizeof *sets; k++) {
        unsigned char tab[256];
        table_of(&sets[k], tab);
        for (int round = 0; round < 20000; round++) {
            size_t n = (size_t)(rand() % 200);
            unsigned char *s = buf + (200 - n);   /* ends at the allocation's end */
            int rare = 1 + rand() % 64;
            for (size_t j = 0; j < n; j++) {
                int r = rand() % rare;
                s[j] = r ? (unsigned char)('a' + rand() % 26) : (unsigned char)(rand() % 256);
            }
            size_t i = n ? (size_t)(rand() % (n + 1)) : 0;
            size_t want = plain(s, i, n, tab);
            size_t got = dp_scan_any(s, i, n, sets[k].a, sets[k].b, sets[k].c, sets[k].d, sets[k].high, tab);
            if (got != want) fail_msg("set %zu n %zu i %zu: %zu, want %zu", k, n, i, got, want);
        }
        /* every byte value alone at every place of 40 ordinary bytes */
        for (int x = 0; x < 256; x++)
            for (size_t at = 0; at < 40; at++) {
                unsigned char s[40];
                for (size_t j = 0; j < 40; j++) s[j] = 'q';
                s[at] = (unsigned char)x;
                size_t want = plain(s, 0, 40, tab);
                size_t got = dp_scan_any(s, 0, 40, sets[k].a, sets[k].b, sets[k].c, sets[k].d, sets[k].high, tab);
                if (got != want) fail_msg("set %zu byte %d at %zu: %zu, want %zu", k, x, at, got, want);
            }
    }
    free(buf);
}

/* Every byte value alone at every place of texts of 0 to 24 bytes (the
 * 8-byte steps and every tail), each ending at its allocation's end. */
static void test_ascii_every_byte_and_place(void **state)
{
    (void)state;
    char *buf = malloc(24);
    assert_int_equal(dp_ascii("", 0), 1);
    for (size_t n = 1; n <= 24; n++) {
        char *s = buf + (24 - n);
        for (int x = 0; x < 256; x++)
            for (size_t at = 0; at < n; at++) {
                memset(s, 'q', n);
                s[at] = (char)x;
                if (dp_ascii(s, n) != (x < 0x80)) fail_msg("n %zu byte %d at %zu", n, x, at);
            }
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_matches_plain),
        cmocka_unit_test(test_ascii_every_byte_and_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
