/* test_fast.c -- the text module's fast paths give what their plain forms
 * give: text_skip_to() (SSE2 where available) against the byte loop, and
 * text_line_norm_hash() (inline byte classes) against its former ctype
 * form, on random and adversarial input (bytes >= 0x80, lengths and match
 * positions around the 16-byte steps, a match as the very last byte,
 * matches just past the terminating NUL). */
#include "testutil.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <utf8proc.h>

#include "../../../src/text/text.h"
#include "../../../src/text/text_int.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* ---- text_skip_to ------------------------------------------------------- */

static const unsigned char skip_ranges[][2] = {
    {'0', '9'}, {'A', 'Z'}, {1, 255}, {0x80, 0xff}, {0x7f, 0x81}, {'a', 'a'}, {0xff, 0xff}, {1, 1},
};
#define NRANGES (sizeof skip_ranges / sizeof *skip_ranges)

/* A byte outside [lo, hi] and not NUL (when there is one). */
static unsigned char byte_outside(unsigned char lo, unsigned char hi)
{
    if (lo == 1 && hi == 255) return 0;
    for (;;) {
        unsigned char c = (unsigned char)(rnd() % 255 + 1);
        if (c < lo || c > hi) return c;
    }
}

static unsigned char byte_inside(unsigned char lo, unsigned char hi)
{
    return (unsigned char)(lo + rnd() % (unsigned)(hi - lo + 1));
}

/* Fills s[0..len) so that matches sit at a few chosen places (or none),
 * NUL-terminates it and puts matches right after the NUL. */
static void fill_skip(char *s, size_t len, size_t tail, unsigned char lo, unsigned char hi)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = rnd() % 8 == 0 ? (unsigned char)(rnd() % 255 + 1) : byte_outside(lo, hi);
        s[i] = (char)(c ? c : 'x');
    }
    switch (rnd() % 4) {
    case 0: break;   /* whatever the random bytes hold */
    case 1:          /* none at all */
        for (size_t i = 0; i < len; i++) {
            unsigned char c = byte_outside(lo, hi);
            if (c) s[i] = (char)c;
        }
        break;
    case 2: if (len) s[len - 1] = (char)byte_inside(lo, hi); break;   /* the very last byte */
    default: {
        static const size_t at[] = {14, 15, 16, 17, 31, 32, 33};
        size_t p = at[rnd() % (sizeof at / sizeof *at)];
        if (p < len) s[p] = (char)byte_inside(lo, hi);
        break;
    }
    }
    s[len] = '\0';
    for (size_t i = 1; i <= tail; i++) s[len + i] = (char)byte_inside(lo, hi);
}

static void test_skip_to_matches_plain(void **st)
{
    (void)st;
    static _Alignas(64) char buf[256];
    for (int trial = 0; trial < 40000; trial++) {
        const unsigned char *r = skip_ranges[trial % NRANGES];
        size_t off = rnd() % 32, len = rnd() % 70, tail = rnd() % 20;
        if (trial % 7 == 0) len = 13 + rnd() % 6;   /* around one 16-byte step */
        memset(buf, 'x', sizeof buf);
        fill_skip(buf + off, len, tail, r[0], r[1]);
        const char *want = text_skip_to_plain(buf + off, r[0], r[1]);
        const char *got = text_skip_to(buf + off, r[0], r[1]);
        if (got != want)
            fail_msg("range [%u, %u], offset %zu, length %zu: got +%td want +%td", r[0], r[1], off, len,
                     got - (buf + off), want - (buf + off));
        /* and from every start inside the string */
        size_t from = rnd() % (len + 1);
        assert_ptr_equal(text_skip_to(buf + off + from, r[0], r[1]),
                         text_skip_to_plain(buf + off + from, r[0], r[1]));
    }
}

/* Strings that end where their allocation ends: the wide loads read past
 * the NUL (never past the page), which the sanitizer build must accept. */
static void test_skip_to_heap_ends(void **st)
{
    (void)st;
    for (size_t len = 0; len < 80; len++) {
        for (size_t k = 0; k < NRANGES; k++) {
            const unsigned char *r = skip_ranges[k];
            char *s = malloc(len + 1);
            fill_skip(s, len, 0, r[0], r[1]);
            assert_ptr_equal(text_skip_to(s, r[0], r[1]), text_skip_to_plain(s, r[0], r[1]));
            free(s);
        }
    }
}

static void test_skip_to_plain_itself(void **st)
{
    (void)st;
    const char *s = "ab\x80z9Q";
    assert_ptr_equal(text_skip_to_plain(s, '0', '9'), s + 4);
    assert_ptr_equal(text_skip_to_plain(s, 'A', 'Z'), s + 5);
    assert_ptr_equal(text_skip_to_plain(s, 0x80, 0xff), s + 2);
    assert_ptr_equal(text_skip_to_plain(s, '#', '#'), s + 6);
    assert_ptr_equal(text_skip_to(s, '#', '#'), s + 6);
}

/* ---- text_line_norm_hash ------------------------------------------------ */

/* The former form, with the C library's classes (C locale). */
static uint64_t ref_norm_hash(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) { s++; n--; }
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n == 0 || n > 4096) return 0;
    unsigned char *folded = NULL;
    int ascii = 1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80) { ascii = 0; break; }
    if (!ascii) {
        utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &folded,
                                          UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                              UTF8PROC_CASEFOLD);
        if (r >= 0) { s = (const char *)folded; n = (size_t)r; }
        else { free(folded); folded = NULL; }
    }
    unsigned char buf[4096];
    size_t m = 0, alnum = 0;
    for (size_t i = 0; i < n && m < sizeof buf - 4; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isdigit(c)) {
            while (i + 1 < n && isdigit((unsigned char)s[i + 1])) i++;
            buf[m++] = '0';
            alnum++;
        } else if (isspace(c)) {
            while (i + 1 < n && isspace((unsigned char)s[i + 1])) i++;
            buf[m++] = ' ';
        } else if (c == '[' && i + 2 < n && (s[i + 1] == 'x' || s[i + 1] == 'X') && s[i + 2] == ']') {
            buf[m++] = '[';
            buf[m++] = ' ';
            buf[m++] = ']';
            i += 2;
        } else {
            if (isalpha(c) || c >= 0x80) alnum++;
            buf[m++] = (unsigned char)tolower(c);
        }
    }
    free(folded);
    if (alnum < 3) return 0;
    uint64_t h = dp_hash(buf, m);
    return h ? h : 1;
}

/* Pieces lines are made of: every class boundary of the C locale (the
 * bytes around '0'-'9', 'A'-'Z', 'a'-'z', '\t'-'\r'), checkboxes, UTF-8
 * (valid and broken). */
static const char *const pieces[] = {
    " ", "\t", "\n", "\v", "\f", "\r", "\x08", "\x0e", "\x1f", "0", "9", "/", ":", "42", "007",
    "A", "Z", "@", "[", "a", "z", "`", "{", "\x7f", "Hello", "WORLD", "[x]", "[X]", "[ ]", "[x",
    "- [x] I have searched", "\xc3\xa9", "\xef\xbc\xa6", "\xc3", "\x80", "\xff", "\xe2\x80\x8b",
    "Step 12 of 300", "### Describe the bug", "**Environment**",
};

static void test_norm_hash_matches_ctype(void **st)
{
    (void)st;
    static char line[5000];
    for (int trial = 0; trial < 30000; trial++) {
        size_t n = 0, parts = rnd() % 16;
        if (trial % 500 == 0) parts = 600;   /* around the 4096-byte limit */
        for (size_t k = 0; k < parts && n < sizeof line - 32; k++) {
            const char *p = pieces[rnd() % (sizeof pieces / sizeof *pieces)];
            size_t l = strlen(p);
            memcpy(line + n, p, l);
            n += l;
        }
        if (trial % 3 == 0)   /* single random bytes, any value but NUL */
            for (size_t k = rnd() % 8; k > 0 && n < sizeof line - 1; k--) line[n++] = (char)(rnd() % 255 + 1);
        uint64_t want = ref_norm_hash(line, n), got = text_line_norm_hash(line, n);
        if (got != want) fail_msg("line of %zu bytes: got %016llx want %016llx", n,
                                  (unsigned long long)got, (unsigned long long)want);
    }
    /* every single byte between two words */
    for (int c = 1; c < 256; c++) {
        char l[16];
        int n = snprintf(l, sizeof l, "ab%ccd", c);
        assert_true(text_line_norm_hash(l, (size_t)n) == ref_norm_hash(l, (size_t)n));
    }
}

/* text_has answers as memmem does: needles of 1 to 5 bytes at the start,
 * the end, straddling the end (never found), a first byte repeated before
 * the match, on random bytes from a small alphabet (many near misses). */
static void test_has_matches_memmem(void **st)
{
    (void)st;
    static const char *const needles[] = {"://", ".go:", ":", "ab", "aab", "a:/b/"};
    char s[64];
    for (int round = 0; round < 20000; round++) {
        size_t n = rnd() % 40;
        for (size_t i = 0; i < n; i++) s[i] = "ab:/.go"[rnd() % 7];
        s[n] = ':';   /* past the end: must not count */
        for (size_t k = 0; k < sizeof needles / sizeof needles[0]; k++) {
            const char *w = needles[k];
            size_t m = strlen(w);
            assert_int_equal(text_has(s, n, w, m), memmem(s, n, w, m) != NULL);
        }
    }
    assert_true(text_has("x://", 4, "://", 3));
    assert_false(text_has("x:/", 3, "://", 3));
    assert_true(text_has("a.go:1", 6, ".go:", 4));
    assert_false(text_has("", 0, ":", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skip_to_matches_plain),
        cmocka_unit_test(test_skip_to_heap_ends),
        cmocka_unit_test(test_skip_to_plain_itself),
        cmocka_unit_test(test_norm_hash_matches_ctype),
        cmocka_unit_test(test_has_matches_memmem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
