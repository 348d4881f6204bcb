/* safelinks.h -- the check behind the link-allowlist tests: every href and
 * src in rendered HTML is http(s), mailto, an inline data:image (src only)
 * or starts with one of the internal prefixes the test passed in. */
#ifndef SAFELINKS_H
#define SAFELINKS_H

#include <strings.h>

static int safelinks_value_ok(const char *v, size_t n, int src, const char *const *internal)
{
    static const char *const ok[] = {"http://", "https://", "mailto:"};
    for (size_t i = 0; i < 3; i++)
        if (n > strlen(ok[i]) && !strncasecmp(v, ok[i], strlen(ok[i]))) return 1;
    if (src && n > 11 && !strncmp(v, "data:image/", 11)) return 1;
    for (; internal && *internal; internal++)
        if (n > strlen(*internal) && !strncmp(v, *internal, strlen(*internal))) return 1;
    return 0;
}

/* Fails the test on the first attribute that is not allowed. */
static void safelinks_check(const char *html, const char *const *internal)
{
    static const char *const attrs[] = {" href=\"", " src=\""};
    for (int a = 0; a < 2; a++) {
        for (const char *p = strstr(html, attrs[a]); p; p = strstr(p + 1, attrs[a])) {
            const char *v = p + strlen(attrs[a]), *e = strchr(v, '"');
            if (!e || !safelinks_value_ok(v, (size_t)(e - v), a == 1, internal))
                fail_msg("unsafe %s%.60s in:\n%s", attrs[a], v, html);
        }
    }
    /* Any other attribute that could hold a URL must not appear at all. */
    const char *other[] = {" action=", " formaction=", " srcset=", " xlink:href=", " style=", NULL};
    for (int i = 0; other[i]; i++)
        if (strstr(html, other[i])) fail_msg("unexpected %s in:\n%s", other[i], html);
}

#endif
