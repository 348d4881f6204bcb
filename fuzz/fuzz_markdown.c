/* fuzz_markdown.c -- rendering item text to HTML (src/web): markdown with
 * `#N` links, and Jira wiki markup through web_jira_to_markdown() and
 * web_jira_render() with key links. The input is rendered all three ways,
 * with the link bases the API uses (a GitHub tracker URL, a local /item/
 * path, a Jira browse URL).
 *
 * Checks (fuzz.h, fuzz_check_html): no script/style/frame-like element, no
 * on* or style attribute, no javascript:/vbscript:/file:/non-image data:
 * URL, in any output, and the link allowlist (issue 11 C): every href and
 * src is http(s), mailto or relative to this origin (data:image only as an
 * <img src>). */
#include "fuzz.h"

#include "../src/web/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    char *html = web_markdown_render(text, size & 1 ? "https://github.com/o/r/issues/" : "/item/1/");
    fuzz_check_html(html, "web_markdown_render");
    free(html);

    char *md = web_jira_to_markdown(text);
    fuzz_check(md != NULL, "web_jira_to_markdown returned NULL");
    free(md);

    html = web_jira_render(text, "HIVE", "/item/2/", "https://issues.apache.org/jira/browse/");
    fuzz_check_html(html, "web_jira_render");
    free(html);
    free(text);
    return 0;
}
