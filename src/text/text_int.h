/* text_int.h -- helpers shared by the files of the text module only. */
#ifndef DP_TEXT_INT_H
#define DP_TEXT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* Byte classes in the C locale (doppel never calls setlocale()), one
 * table read per byte where the tokenizer and the signal scanners ask for
 * every byte of every field: TEXT_ALNUM = isalnum(), TEXT_IDENT = '_' and
 * '$' (the rest of an identifier), TEXT_DOT = '.' (joins dotted names). */
enum { TEXT_ALNUM = 1, TEXT_IDENT = 2, TEXT_DOT = 4 };
extern const unsigned char text_byte_class[256];

/* isdigit(), isspace(), isupper(), islower(), isalpha(), isalnum() and tolower() of
 * the C locale as range tests, for the loops that ask them of every byte
 * of a text (the C library's go through a table pointer fetched by a call
 * each time). */
static inline int text_c_digit(unsigned char c) { return (unsigned)(c - '0') < 10; }
static inline int text_c_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static inline int text_c_upper(unsigned char c) { return (unsigned)(c - 'A') < 26; }
static inline int text_c_lower(unsigned char c) { return (unsigned)(c - 'a') < 26; }
static inline int text_c_alpha(unsigned char c) { return text_c_upper(c) || text_c_lower(c); }
static inline unsigned char text_c_tolower(unsigned char c) { return text_c_upper(c) ? c + ('a' - 'A') : c; }

static inline int text_c_alnum(unsigned char c) { return text_c_alpha(c) || text_c_digit(c); }

/* The first w[0..m) (m >= 1) in s[0..n), or NULL: memmem's answer, found
 * by memchr on w's first byte. The scanners ask it of every word or line
 * for a needle that is rarely there, where memmem's setup per call cost
 * more than the search. */
static inline const char *text_find(const char *s, size_t n, const char *w, size_t m)
{
    if (n < m) return NULL;
    const char *end = s + (n - m) + 1;   /* one past the last possible start */
    for (const char *p = s; (p = memchr(p, (unsigned char)w[0], (size_t)(end - p))) != NULL; p++)
        if (memcmp(p + 1, w + 1, m - 1) == 0) return p;
    return NULL;
}

/* 1 when w[0..m) occurs in s[0..n) (text_find). */
static inline int text_has(const char *s, size_t n, const char *w, size_t m) { return text_find(s, n, w, m) != NULL; }

/* A fixed word list with each word's length, for the scanners that ask
 * whether a word of a text is in it (a strlen per entry per word showed in
 * profiles); a list ends with {NULL, 0}. */
typedef struct text_name {
    const char *s;
    size_t n;
} text_name;
#define TEXT_NAME(x) {x, sizeof x - 1}

/* 1 when s[0..n) is one of list, ignoring ASCII case. The first letters
 * are compared before the call: most words of a length differ there. */
static inline int text_name_in(const text_name *list, const char *s, size_t n)
{
    for (int i = 0; list[i].s; i++)
        if (list[i].n == n && text_c_tolower((unsigned char)list[i].s[0]) == text_c_tolower((unsigned char)s[0]) &&
            strncasecmp(list[i].s, s, n) == 0)
            return 1;
    return 0;
}

/* 1 when a line looks like log output or a stack-trace line. */
int text_line_is_trace(const char *s, size_t n);
/* Jira block marker at s: kind 1 {code..}, 2 {noformat}, 3 {quote}/{panel}/
 * {color}; *len is the marker's length. Returns 0 if none. */
int text_jira_marker(const char *s, size_t n, int *kind, size_t *len);
/* Hash of a line's normalised form (trimmed, case-folded, digit runs
 * collapsed, checkboxes unified); 0 when the line is too short to judge. */
uint64_t text_line_norm_hash(const char *s, size_t n);

/* The first byte at or after p that lies in [lo, hi] (lo >= 1), or the
 * terminating NUL. Where SSE2 is available it looks at 16 bytes a step
 * (aligned loads, which never cross into another page), else byte by
 * byte; both give the same answer (text_skip_to_plain is the byte loop,
 * for the tests). */
const char *text_skip_to(const char *p, unsigned char lo, unsigned char hi);
const char *text_skip_to_plain(const char *p, unsigned char lo, unsigned char hi);

/* 1 when the folded word w is an English stop word. */
int text_is_stopword(const char *w);

#endif
