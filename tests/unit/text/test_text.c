/* test_text.c -- tokenizer, field split, template learning and signal
 * extraction (src/text). */
#include "testutil.h"

#include <libstemmer.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../../src/text/text.h"
#include "../../../src/text/text_int.h"

/* ---- helpers ---------------------------------------------------------------- */

static strvec toks_opts(const char *s, const text_opts *o)
{
    text_tokenizer *tk = text_tokenizer_new(o);
    strvec v = {0};
    text_tokenize(tk, s, strlen(s), &v);
    text_tokenizer_free(tk);
    return v;
}

static strvec toks(const char *s)
{
    return toks_opts(s, NULL);
}

static void assert_has(const strvec *v, const char *t)
{
    if (!sv_contains(v, t)) {
        for (size_t i = 0; i < v->n; i++) fprintf(stderr, "  tok[%zu] = '%s'\n", i, v->v[i]);
        fail_msg("token '%s' missing", t);
    }
}

static void assert_not(const strvec *v, const char *t)
{
    if (sv_contains(v, t)) fail_msg("token '%s' unexpected", t);
}

static void split_text(const char *title, const char *body, const text_template *tpl, text_fields *tf)
{
    item it;
    item_init(&it);
    it.title = xstrdup(title);
    it.body = xstrdup(body);
    text_split(&it, tpl, tf);
    item_free(&it);
}

static char *fixture(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, FIXTURES "/text/%s", name);
    char *buf;
    size_t len;
    dp_err err;
    assert_int_equal(dp_read_file(path, &buf, &len, &err), DP_OK);
    return buf;
}

/* ---- tokenizer ------------------------------------------------------------------ */

/* camelCase boundaries at the ends of the letter and digit ranges ('a',
 * 'z', 'A', 'Z', '0', '9'): the tokenizer's own classes must match the C
 * locale's there. */
static void test_tok_camel_edges(void **st)
{
    (void)st;
    strvec v = toks("fizzBuzz XMLZebra getAlpha v9Zone mp0Mode qqqaQuux");
    const char *want[] = {"fizz", "buzz", "xml", "zebra", "alpha", "zone", "mode", "qqqa", "quux"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) assert_has(&v, want[i]);
    sv_free(&v);
}

static void test_tok_camel(void **st)
{
    (void)st;
    strvec v = toks("NullPointerException in getFileStatus and HTTPServer");
    assert_has(&v, "null");
    assert_has(&v, "pointer");
    assert_has(&v, "except");
    assert_has(&v, "get");
    assert_has(&v, "file");
    assert_has(&v, "status");
    assert_has(&v, "http");
    assert_has(&v, "server");
    assert_not(&v, "in");
    assert_not(&v, "and");
    sv_free(&v);
}

static void test_tok_snake_kebab(void **st)
{
    (void)st;
    strvec v = toks("max_block_size dfs-client-retry");
    assert_string_equal(v.v[0], "max_block_size");
    assert_has(&v, "max");
    assert_has(&v, "block");
    assert_has(&v, "size");
    assert_has(&v, "dfs-client-retry");
    assert_has(&v, "client");
    assert_has(&v, "retri");
    sv_free(&v);
}

static void test_tok_paths_dotted(void **st)
{
    (void)st;
    strvec v = toks("see src/core/io.c and org.apache.hadoop.fs.FileSystem.");
    assert_has(&v, "src/core/io.c");
    assert_has(&v, "src");
    assert_has(&v, "core");
    assert_has(&v, "io");
    assert_has(&v, "org.apache.hadoop.fs.filesystem");   /* whole, folded, trailing dot trimmed */
    assert_has(&v, "hadoop");
    assert_has(&v, "filesystem");
    assert_has(&v, "system");
    sv_free(&v);
    text_opts o;
    text_opts_default(&o);
    o.code_split = 0;
    v = toks_opts("org.apache.Foo", &o);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.v[0], "org.apache.foo");
    sv_free(&v);
}

static void test_tok_error_codes(void **st)
{
    (void)st;
    strvec v = toks("ORA-00942 E1234 HTTP 404");
    assert_has(&v, "ora-00942");
    assert_has(&v, "ora");
    assert_has(&v, "e1234");
    assert_has(&v, "http");
    assert_has(&v, "404");
    sv_free(&v);
}

static void test_tok_numbers(void **st)
{
    (void)st;
    strvec v = toks("crash at 0x7ffd1234 after 123456789 ms, version v2.7.1 on port 8020 (7 times) "
                    "2014-01-16 commit deadbeef12");
    assert_not(&v, "0x7ffd1234");
    assert_not(&v, "123456789");
    assert_not(&v, "7");
    assert_not(&v, "deadbeef12");
    assert_not(&v, "2014-01-16");
    assert_has(&v, "2.7.1");
    assert_has(&v, "8020");
    sv_free(&v);
}

static void test_tok_unicode(void **st)
{
    (void)st;
    strvec a = toks("Straße ＦＵＬＬ Ünïcode");
    strvec b = toks("STRASSE full üNÏCODE");
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) assert_string_equal(a.v[i], b.v[i]);
    assert_has(&a, "full");
    sv_free(&a);
    sv_free(&b);
    /* invalid UTF-8 keeps the ASCII words and never crashes */
    strvec c = toks("bad \xff\xfe bytes");
    assert_has(&c, "bad");
    assert_has(&c, "byte");
    sv_free(&c);
}

static void test_tok_stem_stop(void **st)
{
    (void)st;
    strvec v = toks("The connections were running and failing");
    assert_has(&v, "connect");
    assert_has(&v, "run");
    assert_has(&v, "fail");
    assert_not(&v, "the");
    assert_not(&v, "were");
    assert_not(&v, "and");
    assert_int_equal(v.n, 3);
    sv_free(&v);
    text_opts o = {0, 0, 1};
    v = toks_opts("The running", &o);
    assert_has(&v, "the");
    assert_has(&v, "running");
    sv_free(&v);
}

static int nextra, nprimary;
static void count_cb(void *ctx, const char *t, size_t n, int extra)
{
    (void)ctx;
    (void)t;
    (void)n;
    if (extra) nextra++;
    else nprimary++;
}

static void test_tok_extra_flags(void **st)
{
    (void)st;
    text_tokenizer *tk = text_tokenizer_new(NULL);
    nextra = nprimary = 0;
    const char *s = "NullPointerException thrown";
    text_tokenize_cb(tk, s, strlen(s), count_cb, NULL);
    assert_int_equal(nprimary, 2);   /* whole word, "thrown" */
    assert_int_equal(nextra, 3);     /* null, pointer, except */
    text_tokenizer_free(tk);
}

/* ---- split ------------------------------------------------------------------------ */

static void test_split_fences_inline(void **st)
{
    (void)st;
    text_fields tf;
    split_text(" A title ", "Some text\n```sh\nrm -rf build\n```\nuse `make all` now\n~~~\ntilde code\n~~~\nend", NULL, &tf);
    assert_string_equal(tf.f[FIELD_TITLE], "A title");
    assert_non_null(strstr(tf.f[FIELD_PROSE], "Some text"));
    assert_non_null(strstr(tf.f[FIELD_PROSE], "use"));
    assert_non_null(strstr(tf.f[FIELD_PROSE], "end"));
    assert_null(strstr(tf.f[FIELD_PROSE], "rm -rf"));
    assert_null(strstr(tf.f[FIELD_PROSE], "make all"));
    assert_null(strstr(tf.f[FIELD_PROSE], "tilde"));
    assert_non_null(strstr(tf.f[FIELD_CODE], "rm -rf build"));
    assert_non_null(strstr(tf.f[FIELD_CODE], "make all"));
    assert_non_null(strstr(tf.f[FIELD_CODE], "tilde code"));
    assert_string_equal(tf.f[FIELD_LABELS], "");
    text_fields_free(&tf);
}

static void test_split_jira(void **st)
{
    (void)st;
    char *body = fixture("jira_trace.txt");
    text_fields tf;
    split_text("DataNode NPE", body, NULL, &tf);
    const char *p = tf.f[FIELD_PROSE], *c = tf.f[FIELD_CODE];
    assert_non_null(strstr(p, "Problem"));
    assert_null(strstr(p, "h2."));
    assert_non_null(strstr(p, "the wiki"));       /* [text|url] keeps text */
    assert_null(strstr(p, "wiki.apache.org"));
    assert_null(strstr(p, "hdfs-site.xml"));      /* {{mono}} goes to code */
    assert_non_null(strstr(c, "hdfs-site.xml"));
    assert_non_null(strstr(c, "FileSystem.get(conf)"));
    assert_null(strstr(p, "Configuration conf"));
    /* log line, exception and frames outside any block */
    assert_non_null(strstr(c, "ERROR org.apache.hadoop.hdfs.server.datanode.DataNode"));
    assert_non_null(strstr(c, "java.lang.NullPointerException"));
    assert_non_null(strstr(c, "at org.apache.hadoop.hdfs.server.datanode.DataNode.initBlockPool"));
    assert_non_null(strstr(c, "... 3 more"));
    assert_null(strstr(p, "NullPointerException"));
    assert_null(strstr(p, "initBlockPool"));
    assert_non_null(strstr(c, "Retrying connect"));
    assert_non_null(strstr(p, "Thanks for looking"));
    assert_null(strstr(p, "{code"));
    assert_null(strstr(c, "{code"));
    assert_null(strstr(p, "noformat"));
    text_fields_free(&tf);
    free(body);
}

static void test_split_markdown(void **st)
{
    (void)st;
    char *body = fixture("github_bug.md");
    text_fields tf;
    split_text("NFS cache", body, NULL, &tf);
    const char *p = tf.f[FIELD_PROSE], *c = tf.f[FIELD_CODE];
    assert_null(strstr(p, "Please fill"));        /* HTML comment */
    assert_null(strstr(p, "screenshot"));         /* image dropped */
    assert_null(strstr(p, "user-images"));
    assert_non_null(strstr(p, "the FAQ"));        /* link text kept */
    assert_null(strstr(p, "huggingface.co"));
    assert_non_null(strstr(c, "load_dataset(\"squad\")"));
    assert_non_null(strstr(c, "Traceback (most recent call last)"));
    assert_non_null(strstr(c, "File \"/usr/lib/python3.9/site-packages/datasets/load.py\", line 1234"));
    assert_non_null(strstr(c, "FileNotFoundError: [Errno 2]"));
    assert_non_null(strstr(c, "indented code after a blank line"));
    assert_null(strstr(p, "indented code"));
    assert_non_null(strstr(p, "raises an error"));
    text_fields_free(&tf);
    free(body);
}

static void test_split_labels(void **st)
{
    (void)st;
    item it;
    item_init(&it);
    it.title = xstrdup("t");
    it.body = NULL;
    sv_push(&it.labels, "bug");
    sv_push(&it.components, "hdfs-client");
    it.type = xstrdup("Bug");
    text_fields tf;
    text_split(&it, NULL, &tf);
    assert_string_equal(tf.f[FIELD_LABELS], "bug\nhdfs-client\nBug");
    assert_string_equal(tf.f[FIELD_PROSE], "");
    assert_string_equal(tf.f[FIELD_CODE], "");
    assert_string_equal(text_field_name(FIELD_CODE), "code");
    text_fields_free(&tf);
    item_free(&it);
}

/* text_split_compact: one block -- the struct, then each field's text in
 * field order, back to back -- holding the fields text_split gives, on
 * bodies that exercise every squeeze and trim: runs of blank lines in
 * prose and code, CRLF, white space around the title, a fence, Jira
 * blocks, HTML comments, labels, components and type; no body; no title. */
static void test_split_compact(void **st)
{
    (void)st;
    static const char *const bodies[] = {
        "\n\n  para one\n\n\n\npara two\n\n```\ncode a\n\n\n\ncode b\n```\n\n\n",
        "line\r\n\r\n\r\nnext\r\n{code}x = 1;\n\n\ny = 2{code}\ntail <!-- hidden\nstill -->shown\n",
        "    indented code\n    more code\n\nprose after\n{noformat}\nraw\n{noformat}",
        "", NULL};
    static const char *const titles[] = {"  Spaced title \t", "t", "", "\n", NULL};
    for (int i = 0; i < 5; i++) {
        item it;
        item_init(&it);
        it.title = titles[i] ? xstrdup(titles[i]) : NULL;
        it.body = bodies[i] ? xstrdup(bodies[i]) : NULL;
        if (i % 2 == 0) {
            sv_push(&it.labels, "bug");
            sv_push(&it.labels, "ui");
            sv_push(&it.components, "core");
            it.type = xstrdup("Bug");
        }
        text_fields tf;
        text_split(&it, NULL, &tf);
        text_fields *c = text_split_compact(&it, NULL);
        const char *at = (const char *)(c + 1);
        for (int f = 0; f < FIELD_COUNT; f++) {
            assert_string_equal(c->f[f], tf.f[f]);
            assert_ptr_equal(c->f[f], at);   /* back to back in the one block */
            at += strlen(at) + 1;
        }
        if (i == 0) {
            assert_string_equal(c->f[FIELD_TITLE], "Spaced title");
            assert_string_equal(c->f[FIELD_PROSE], "para one\n\npara two");
            assert_string_equal(c->f[FIELD_CODE], "code a\n\ncode b");
            assert_string_equal(c->f[FIELD_LABELS], "bug\nui\ncore\nBug");
        }
        free(c);   /* one free: the whole of it */
        text_fields_free(&tf);
        item_free(&it);
    }
}

/* The tokenizer's stem cache gives Snowball's stems: 20k distinct words
 * (more than the cache's slots: words collide and replace each other),
 * tokenized twice with one tokenizer, the second time mostly from the
 * cache, each equal to the stem libstemmer gives the word. */
static void test_stem_cache(void **st)
{
    (void)st;
    enum { NW = 20000 };
    static const char *const suf[] = {"ing", "ed", "s", "ation", "ness", "ly", "er", "ies"};
    struct sb_stemmer *ref = sb_stemmer_new("english", NULL);
    assert_non_null(ref);
    sbuf text;
    sb_init(&text);
    strvec want = {0};
    for (int i = 0; i < NW; i++) {
        char w[32];
        int n = 0, x = i;
        w[n++] = 'b';
        do { w[n++] = (char)('a' + x % 26); x /= 26; } while (x);
        n += snprintf(w + n, sizeof w - (size_t)n, "%s", suf[i % 8]);
        sb_printf(&text, "%s ", w);
        const sb_symbol *r = sb_stemmer_stem(ref, (const sb_symbol *)w, n);
        sv_push_owned(&want, xstrndup((const char *)r, (size_t)sb_stemmer_length(ref)));
    }
    text_tokenizer *tk = text_tokenizer_new(NULL);
    for (int pass = 0; pass < 2; pass++) {
        strvec got = {0};
        text_tokenize(tk, text.s, text.len, &got);
        assert_int_equal(got.n, want.n);
        for (size_t i = 0; i < got.n; i++) assert_string_equal(got.v[i], want.v[i]);
        sv_free(&got);
    }
    text_tokenizer_free(tk);
    sv_free(&want);
    sb_free(&text);
    sb_stemmer_delete(ref);
}

/* ---- word cache ---------------------------------------------------------------- */

/* The token stream as text: each token, its length and extra flag, and
 * whether it is NUL-terminated where its length says. */
static void stream_cb(void *ctx, const char *t, size_t n, int extra)
{
    sb_printf((sbuf *)ctx, "%.*s/%zu/%d/%d\n", (int)n, t, n, extra, t[n] == '\0');
}

static char *stream_of(text_tokenizer *tk, const char *s)
{
    sbuf b;
    sb_init(&b);
    text_tokenize_cb(tk, s, strlen(s), stream_cb, &b);
    return sb_take(&b);
}

/* The stream a new tokenizer gives: it makes no word cache for so few
 * words. */
static char *stream_fresh(const char *s, const text_opts *o)
{
    text_tokenizer *tk = text_tokenizer_new(o);
    char *r = stream_of(tk, s);
    text_tokenizer_free(tk);
    return r;
}

/* A tokenizer whose word cache is made: it is made after some tens of
 * thousands of words (WORD_LAZY in tokenize.c), so 100k of them. */
static text_tokenizer *warm_tokenizer(const text_opts *o)
{
    text_tokenizer *tk = text_tokenizer_new(o);
    sbuf b;
    sb_init(&b);
    for (int i = 0; i < 100000; i++) sb_adds(&b, "zq ");
    text_tokenize_cb(tk, b.s, b.len, count_cb, NULL);
    sb_free(&b);
    return tk;
}

/* s through tk gives what a new tokenizer gives. */
static void assert_same_stream(text_tokenizer *tk, const char *s, const text_opts *o)
{
    char *want = stream_fresh(s, o), *got = stream_of(tk, s);
    if (strcmp(want, got) != 0) fail_msg("tokens of \"%s\":\nwant\n%sgot\n%s", s, want, got);
    free(want);
    free(got);
}

/* Words the word cache keeps and words it does not (too long for a slot,
 * tokens that do not fit), each tokenized twice by a warmed tokenizer (the
 * second time from the cache), alone and in chunks: a word's whole token
 * has the caller's extra (0 alone, 1 as a part of a chunk), its camelCase
 * parts 1, and a cached word's tokens are the ones a new tokenizer gives,
 * whatever came before it. */
static void test_word_cache_same_tokens(void **st)
{
    (void)st;
    static const char *const words[] = {
        "running", "Running", "RUNNING", "runner", "nullpointerexception", "NullPointerException",
        "NULLPOINTEREXCEPTION", "nullPointerException", "getHTTPResponseCode", "HTTPServer", "XMLHttpRequest",
        "the", "The", "THE", "don", "yourselves", "a", "I", "x", "Xy", "404", "2014", "12345", "7",
        "deadbeef12", "DEADBEEF12", "deadbeef", "0xdeadbeef", "abc123def", "\xc3\x89t\xc3\xa9", "stra\xc3\x9f" "e",
        "\xef\xbc\xa6\xef\xbc\xb5\xef\xbc\xac\xef\xbc\xac", "caf\xc3\xa9" "Bar", "AbstractSingletonProxyFactoryBean",
        "abcdefghijklmnopqrstuvwx", "abcdefghijklmnopqrstuvwxy", "ThisIsAVeryLongCamelCaseNameWithManyParts",
        "connectionTimeoutMillis", "aB", "aBc", "aBcD",
    };
    text_opts o[2];
    text_opts_default(&o[0]);
    o[1] = (text_opts){0, 0, 1};
    for (int k = 0; k < 2; k++) {
        text_tokenizer *tk = warm_tokenizer(&o[k]);
        for (int pass = 0; pass < 2; pass++) {
            for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
                char s[256];
                assert_same_stream(tk, words[i], &o[k]);
                snprintf(s, sizeof s, "org.%s.Foo %s", words[i], words[i]);   /* a part, then alone */
                assert_same_stream(tk, s, &o[k]);
                snprintf(s, sizeof s, "%s %s-%s", words[i], words[i], words[i]);
                assert_same_stream(tk, s, &o[k]);
            }
        }
        text_tokenizer_free(tk);
    }
    /* the flags themselves: whole 0 alone, 1 in a chunk; parts 1 */
    text_tokenizer *tk = warm_tokenizer(NULL);
    for (int pass = 0; pass < 2; pass++) {
        char *got = stream_of(tk, "FooBar a.FooBar");
        assert_string_equal(got, "foobar/6/0/1\nfoo/3/1/1\nbar/3/1/1\n"
                                 "a.foobar/8/0/1\nfoobar/6/1/1\nfoo/3/1/1\nbar/3/1/1\n");
        free(got);
    }
    text_tokenizer_free(tk);
}

/* Words that share a slot of the word cache each keep their own tokens:
 * 74k distinct words (4.5 times the cache's slots: many share one) of
 * every length up to past a slot's, in pairs that differ in one byte at
 * any position, tokenized in one order and then another by one tokenizer,
 * give what a new tokenizer gives each word. */
static void test_word_cache_collisions(void **st)
{
    (void)st;
    enum { NW = 40000 };
    strvec words = {0};
    for (int i = 0; i < NW; i++) {
        char w[40];
        size_t n = 1 + (size_t)i % 30;
        for (size_t j = 0, x = (size_t)i; j < n; j++, x /= 26)   /* i in base 26, then letters */
            w[j] = (char)('a' + (j < 4 ? x : (size_t)i + j) % 26);
        if (i % 3 == 0) w[n / 2] = (char)(w[n / 2] - 'a' + 'A');   /* camelCase */
        w[n] = '\0';
        sv_push(&words, w);
        w[(size_t)i % n] = w[(size_t)i % n] == 'q' ? 'r' : 'q';   /* one byte apart */
        sv_push(&words, w);
    }
    text_tokenizer *tk = warm_tokenizer(NULL);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < words.n; k++) {
            size_t i = pass == 0 ? k : (k * 7919) % words.n;   /* 7919 is prime: a permutation */
            char *want = stream_fresh(words.v[i], NULL), *got = stream_of(tk, words.v[i]);
            if (strcmp(want, got) != 0) fail_msg("tokens of \"%s\":\nwant\n%sgot\n%s", words.v[i], want, got);
            free(want);
            free(got);
        }
    }
    text_tokenizer_free(tk);
    sv_free(&words);
}

/* ---- template ------------------------------------------------------------------------ */

/* Learned on several threads, the template is the single thread's: the
 * counts of every thread's bodies are summed (a line in 3% of the bodies
 * is template; a thread that saw only its share of them would not say
 * so). */
static void test_template_threads(void **st)
{
    (void)st;
    enum { N = 3000 };
    char **bodies = xcalloc(N, sizeof *bodies);
    for (int i = 0; i < N; i++)
        bodies[i] = xasprintf("line unique to body %d%s%s", i, i % 33 == 0 ? "\nwe often write this line" : "",
                              i % 70 == 0 ? "\nwe seldom write that line" : "");
    text_template *one = text_template_learn_threads((const char *const *)bodies, N, 1);
    assert_true(text_template_is_boilerplate(one, "we often write this line", 24));
    assert_false(text_template_is_boilerplate(one, "we seldom write that line", 25));
    for (int th = 2; th <= 4; th++) {
        text_template *t = text_template_learn_threads((const char *const *)bodies, N, th);
        size_t n1, n2;
        const uint64_t *h1 = text_template_hashes(one, &n1), *h2 = text_template_hashes(t, &n2);
        assert_int_equal(n1, n2);
        assert_memory_equal(h1, h2, n1 * sizeof *h1);
        text_template_free(t);
    }
    text_template_free(one);
    for (int i = 0; i < N; i++) free(bodies[i]);
    free(bodies);
}

static void test_template(void **st)
{
    (void)st;
    enum { N = 40 };
    char *bodies[N];
    for (int i = 0; i < N; i++) {
        bodies[i] = xasprintf("### Describe the bug\n%s\nunique sentence number %c%c about widget%d\n"
                              "**Environment**\n- OS: Ubuntu %d.04\n%s",
                              i % 2 ? "- [x] I have searched existing issues" : "- [ ] I have searched existing issues",
                              'a' + i % 26, 'a' + i / 26, i, 18 + i % 5,
                              i < 4 ? "rare shared line in four docs\n" : "");
    }
    text_template *t = text_template_learn((const char *const *)bodies, N);
    assert_true(text_template_is_boilerplate(t, "### Describe the bug", 20));
    const char *cb = "  - [X] I HAVE searched existing issues  ";
    assert_true(text_template_is_boilerplate(t, cb, strlen(cb)));
    assert_true(text_template_is_boilerplate(t, "- OS: Ubuntu 22.04", 18));   /* digits collapse */
    assert_false(text_template_is_boilerplate(t, "rare shared line in four docs", 29));
    assert_false(text_template_is_boilerplate(t, "unique sentence", 15));
    assert_int_equal(text_template_size(t), 4);
    text_fields tf;
    split_text("x", bodies[1], t, &tf);
    assert_null(strstr(tf.f[FIELD_PROSE], "Describe"));
    assert_null(strstr(tf.f[FIELD_PROSE], "searched"));
    assert_non_null(strstr(tf.f[FIELD_PROSE], "unique sentence"));
    text_fields_free(&tf);
    text_template_free(t);
    /* few documents: nothing reaches the floor of 5 */
    t = text_template_learn((const char *const *)bodies, 4);
    assert_int_equal(text_template_size(t), 0);
    text_template_free(t);
    for (int i = 0; i < N; i++) free(bodies[i]);
}

/* ---- signals -------------------------------------------------------------------------- */

static void test_signals(void **st)
{
    (void)st;
    char *a = fixture("jira_trace.txt"), *b = fixture("github_bug.md");
    text_fields tf;
    text_signals s;
    split_text("NPE in DataNode on 2.7.1", a, NULL, &tf);
    text_signals_extract(&tf, &s);
    assert_true(sv_contains(&s.exceptions, "NullPointerException"));
    assert_true(sv_contains(&s.frames, "org.apache.hadoop.hdfs.server.datanode.DataNode.initBlockPool"));
    assert_true(sv_contains(&s.frames, "org.apache.hadoop.hdfs.server.datanode.BPOfferService.verifyAndSetNamespaceInfo"));
    assert_true(sv_contains(&s.paths, "hdfs-site.xml"));
    assert_true(sv_contains(&s.paths, "/etc/hadoop/conf/core-site.xml"));
    assert_true(sv_contains(&s.paths, "DataNode.java"));
    assert_true(sv_contains(&s.versions, "2.7.1"));
    assert_true(sv_contains(&s.errors,
        "ERROR org.apache.hadoop.hdfs.server.datanode.DataNode: Exception in receiveBlock for block blk_-N on PATH HEX"));
    assert_true(sv_contains(&s.errors, "java.lang.NullPointerException: block pool is null"));
    text_signals_free(&s);
    text_fields_free(&tf);

    split_text("x", b, NULL, &tf);
    text_signals_extract(&tf, &s);
    assert_true(sv_contains(&s.exceptions, "FileNotFoundError"));
    assert_true(sv_contains(&s.frames, "load.py:load_dataset"));
    assert_true(sv_contains(&s.frames, "builder.py:download_and_prepare"));
    assert_true(sv_contains(&s.errors, "FileNotFoundError: [Errno N] No such file or directory: PATH"));
    assert_false(sv_contains(&s.paths, "https://huggingface.co/docs/faq"));
    text_signals_free(&s);
    text_fields_free(&tf);

    split_text("Crash", "Segfault:\n#0  0x00007f in ngx_http_parse (r=0x1) at src/http/parse.c:12\n"
               "goroutine 1 [running]:\nmain.(*Server).Serve(0xc000010000)\n\t/app/server.go:42 +0x1d\n"
               "open failed: ENOENT", NULL, &tf);
    text_signals_extract(&tf, &s);
    assert_true(sv_contains(&s.frames, "ngx_http_parse"));
    assert_true(sv_contains(&s.frames, "main.(*Server).Serve"));
    assert_true(sv_contains(&s.exceptions, "ENOENT"));
    assert_true(sv_contains(&s.paths, "src/http/parse.c"));
    text_signals_free(&s);
    text_fields_free(&tf);

    /* known file names (two without a dot), any case, trailing punctuation
     * and a ":12" suffix dropped; URLs, mail-like words and bare names
     * that do not start like one are not paths */
    split_text("Build", "see Makefile, DOCKERFILE and pom.xml; also requirements.txt. makefiles\n"
               "not www.example.com/a.py nor user@host.py nor 1.5.txt nor e.g. but Foo.java:12! and src/main.rs:10:5:",
               NULL, &tf);
    text_signals_extract(&tf, &s);
    assert_true(sv_contains(&s.paths, "Makefile"));
    assert_true(sv_contains(&s.paths, "DOCKERFILE"));
    assert_true(sv_contains(&s.paths, "pom.xml"));
    assert_true(sv_contains(&s.paths, "requirements.txt"));
    assert_true(sv_contains(&s.paths, "Foo.java"));
    assert_true(sv_contains(&s.paths, "src/main.rs"));
    assert_int_equal(s.paths.n, 6);
    text_signals_free(&s);
    text_fields_free(&tf);

    /* valgrind: frames behind the "==pid==" prefix, "at"/"by" 0xADDR: */
    split_text("Crash", "```\n==48213== Invalid read of size 8\n"
               "==48213==    at 0x4E5A1C3: th_pool_release (pool.c:142)\n"
               "==48213==    by 0x4E5B0F8: Foo::bar() (request.cc:311)\n"
               "==48213==    by 0x4E5B0F9: ??? (in /lib/x.so)\n"
               "==48213==  Address 0x5a3c0e8 is 24 bytes inside a block\n```\n", NULL, &tf);
    text_signals_extract(&tf, &s);
    assert_true(sv_contains(&s.frames, "th_pool_release"));
    assert_true(sv_contains(&s.frames, "Foo::bar"));
    assert_int_equal(s.frames.n, 2);
    text_signals_free(&s);
    text_fields_free(&tf);
    free(a);
    free(b);
}

/* Error lines: the first level word wins, only whole words count, and
 * "Exception", "Error:", "error:", "error (CODE):", "Caused by:" make a line
 * an error line. */
static void test_signals_error_lines(void **st)
{
    (void)st;
    text_fields tf;
    text_signals s;
    split_text("x", "```\nINFO then FATAL 12 and ERROR 7 here\n"
               "XERROR: not a level but an Error: message 42\n"
               "SEVEREly wrong but no level\n"
               "Caused by: java.io.EOFException at 0x1f\n"
               "plain line without anything\n"
               "the connection error: reset by /srv/peer\n"
               "th-get: th_request_perform: protocol error (TH_EPROTO): malformed chunk size\n"
               "no error (really) here\n"
               "terror (X): not the word\n```\n", NULL, &tf);
    text_signals_extract(&tf, &s);
    assert_true(sv_contains(&s.errors, "FATAL N and ERROR N here"));
    assert_true(sv_contains(&s.errors, "XERROR: not a level but an Error: message N"));
    assert_true(sv_contains(&s.errors, "Caused by: java.io.EOFException at HEX"));
    assert_true(sv_contains(&s.errors, "the connection error: reset by PATH"));
    /* the C library way: "error (CODE): message" */
    assert_true(sv_contains(&s.errors, "th-get: th_request_perform: protocol error (TH_EPROTO): malformed chunk size"));
    assert_int_equal(s.errors.n, 5);
    text_signals_free(&s);
    text_fields_free(&tf);
}

/* Every byte error_scan() starts a case on, and every class of the
 * identifier table ('$', '_', '.', digits, both cases) where it decides. */
static void test_signals_lead_bytes(void **st)
{
    (void)st;
    text_fields tf;
    text_signals s;
    split_text("x", "```\n"
               "SEVERE: disk 3 is gone\n"
               "FATAL: out of 12 tries\n"
               "ERROR: code 7 seen\n"
               "the Exception was thrown twice\n"
               "an Error: at 2 places\n"
               "an error: at 3 places\n"
               "Caused by: nothing at all\n"
               "at com.acme.Outer$Inner_2.run(Outer.java:9)\n"
               "x9.Y_Z$QuuxException was thrown\n"
               "then a.b.SentenceEndException.\n"
               "```\n", NULL, &tf);
    text_signals_extract(&tf, &s);
    assert_true(sv_contains(&s.errors, "SEVERE: disk N is gone"));
    assert_true(sv_contains(&s.errors, "FATAL: out of N tries"));
    assert_true(sv_contains(&s.errors, "ERROR: code N seen"));
    assert_true(sv_contains(&s.errors, "the Exception was thrown twice"));
    assert_true(sv_contains(&s.errors, "an Error: at N places"));
    assert_true(sv_contains(&s.errors, "an error: at N places"));
    assert_true(sv_contains(&s.errors, "Caused by: nothing at all"));
    assert_true(sv_contains(&s.frames, "com.acme.Outer$Inner_2.run"));
    assert_true(sv_contains(&s.exceptions, "QuuxException"));
    /* a dotted name read whole: its last part is empty, so no exception */
    assert_false(sv_contains(&s.exceptions, "SentenceEndException"));
    text_signals_free(&s);
    text_fields_free(&tf);
}

/* The signals of one text as the prose field alone, no split between. */
static void signals_of(const char *prose, text_signals *s)
{
    text_fields tf = {{xstrdup(""), xstrdup(prose), xstrdup(""), xstrdup("")}};
    text_signals_extract(&tf, s);
    text_fields_free(&tf);
}

static void assert_list(const strvec *v, const char *const *want, size_t n)
{
    assert_int_equal(v->n, n);
    for (size_t i = 0; i < n; i++) assert_string_equal(v->v[i], want[i]);
}
#define ASSERT_LIST(v, ...)                                                            \
    do {                                                                               \
        static const char *const want_[] = {__VA_ARGS__};                              \
        assert_list((v), want_, sizeof want_ / sizeof *want_);                        \
    } while (0)

/* What the scanners skip to rather than read byte by byte: a path word
 * by its '.' or "file" (the known names without a dot end in "file"), an
 * exception by its E, S or K, a version by its digit, an error line by the
 * first bytes of its words. Each case below sits on an edge of that: a
 * word that ends the text, a '.' that only ends a sentence, a ":12:3"
 * suffix, an errno name as the last part of a dotted name. */
static void test_signals_edges(void **st)
{
    (void)st;
    text_signals s;

    signals_of("build with dockerfile:12:3", &s);   /* dot-less, suffix, end of text */
    ASSERT_LIST(&s.paths, "dockerfile");
    text_signals_free(&s);

    signals_of("see the profile, a file and FILE. makefiles or file.txt, then Makefile", &s);
    ASSERT_LIST(&s.paths, "file.txt", "Makefile");
    text_signals_free(&s);

    /* a sentence's '.' is no path; the first '.' of "a.b.py." takes the word */
    signals_of("It ends. So does e.g. this, and a.b.py. too: src/a.c:12:3", &s);
    ASSERT_LIST(&s.paths, "a.b.py", "src/a.c");
    text_signals_free(&s);

    /* "EIO." ends a dotted name with '.': no part; "a.EIO" and "Foo$SIGSEGV" end in one */
    signals_of("got EIO. then xEIO, EIO_X, ENOENTS, a.EIO and Foo$SIGSEGV then KeyboardInterrupt, "
               "Error, fooError, XError, Outer$InnerException; IOException. at end ENOENT", &s);
    ASSERT_LIST(&s.exceptions, "EIO", "SIGSEGV", "KeyboardInterrupt", "XError", "InnerException", "ENOENT");
    text_signals_free(&s);
    signals_of("thrown: a.b.QuuxException", &s);   /* the text's NUL ends the name */
    ASSERT_LIST(&s.exceptions, "QuuxException");
    text_signals_free(&s);

    signals_of("version 1.2 and Release 3.4, not 5.6, v7 nor v8.1 at end 9.10.11", &s);
    ASSERT_LIST(&s.versions, "1.2", "3.4", "8.1", "9.10.11");
    text_signals_free(&s);

    /* the error word in the text's last bytes, its last line without '\n' */
    signals_of("nothing here at all\nthe disk said error: EIO", &s);
    ASSERT_LIST(&s.errors, "the disk said error: EIO");
    ASSERT_LIST(&s.exceptions, "EIO");
    text_signals_free(&s);
}

/* Each kind of signal found at every offset from 0 to 40 (the scanners
 * step sixteen bytes at a time, then byte by byte near the end), with and
 * without text after it. */
static void test_signals_offsets(void **st)
{
    (void)st;
    char buf[128];
    for (int k = 0; k <= 40; k++) {
        for (int tail = 0; tail < 2; tail++) {
            snprintf(buf, sizeof buf, "%.*s Makefile a.py FooError ENOENT v1.2%s\nFATAL: disk gone%s", k,
                     "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", tail ? " ok" : "", tail ? "\nok" : "");
            text_signals s;
            signals_of(buf, &s);
            ASSERT_LIST(&s.paths, "Makefile", "a.py");
            ASSERT_LIST(&s.exceptions, "FooError", "ENOENT");
            ASSERT_LIST(&s.versions, "1.2");
            ASSERT_LIST(&s.errors, "FATAL: disk gone");
            text_signals_free(&s);
        }
    }
}

static void test_stopwords(void **st)
{
    (void)st;
    const char *yes[] = {"a", "about", "yourselves", "themselves", "don", "ve", "the", "with"};
    const char *no[] = {"", "ab", "abouts", "yourselve", "thermos", "zebra", "x", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) assert_true(text_is_stopword(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) assert_false(text_is_stopword(no[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tok_camel),
        cmocka_unit_test(test_tok_camel_edges),
        cmocka_unit_test(test_signals_lead_bytes),
        cmocka_unit_test(test_tok_snake_kebab),
        cmocka_unit_test(test_tok_paths_dotted),
        cmocka_unit_test(test_tok_error_codes),
        cmocka_unit_test(test_tok_numbers),
        cmocka_unit_test(test_tok_unicode),
        cmocka_unit_test(test_tok_stem_stop),
        cmocka_unit_test(test_tok_extra_flags),
        cmocka_unit_test(test_split_fences_inline),
        cmocka_unit_test(test_split_jira),
        cmocka_unit_test(test_split_markdown),
        cmocka_unit_test(test_split_labels),
        cmocka_unit_test(test_split_compact),
        cmocka_unit_test(test_template),
        cmocka_unit_test(test_template_threads),
        cmocka_unit_test(test_signals),
        cmocka_unit_test(test_signals_error_lines),
        cmocka_unit_test(test_signals_edges),
        cmocka_unit_test(test_signals_offsets),
        cmocka_unit_test(test_stopwords),
        cmocka_unit_test(test_stem_cache),
        cmocka_unit_test(test_word_cache_same_tokens),
        cmocka_unit_test(test_word_cache_collisions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
