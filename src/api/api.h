/* api: the S3 (and admin) request handlers, plugged into http/ as its handler.
 * Owns request authentication (auth/), routing (s3/route) and dispatch to the operations. */
#ifndef STRATA_API_H
#define STRATA_API_H
#include <stdint.h>

#include "http/http.h"
#include "store/store.h"

typedef struct api_cfg {
    const char *region;      /* "us-east-1" */
    const char *base_domain; /* virtual-hosted-style base domain, NULL/"" for path style only */
    uint64_t max_put_size;   /* single PUT limit, 5 GiB */
} api_cfg_t;

typedef struct api api_t;

api_t *api_new(store_t *s, const api_cfg_t *cfg);
void api_free(api_t *api);
/* The http handler that serves every request through this api. */
void api_http_handler(api_t *api, http_handler_t *out);

#endif
