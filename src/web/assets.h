/* assets.h -- the page's static files, embedded at build time by
 * tools/embed.c from src/web/static/. Terminated by an entry with name NULL. */
#ifndef DP_WEB_ASSETS_H
#define DP_WEB_ASSETS_H

#include <stddef.h>

typedef struct web_asset {
    const char *name;              /* base file name, e.g. "app.js" */
    const unsigned char *data;     /* NUL-terminated for convenience */
    size_t len;
    const char *mime;
} web_asset;

extern const web_asset web_assets[];

#endif
