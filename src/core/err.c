/* The one table mapping Strata error codes to S3 error responses (see err.h). */
#include "core/err.h"

#include <string.h>

static const struct s3err table[] = {
#define SE_ROW_(name, code, status, msg) {code, status, msg},
    STRATA_ERRORS(SE_ROW_)
#undef SE_ROW_
};

const struct s3err *s3err_get(int rc)
{
    int e = rc < 0 ? -rc : rc;
    if (e > SE_BASE && e < SE_LAST)
        return &table[e - SE_BASE - 1];
    return &table[SE_INTERNAL - SE_BASE - 1];
}

const char *strata_strerror(int rc)
{
    int e = rc < 0 ? -rc : rc;
    if (e > SE_BASE && e < SE_LAST)
        return table[e - SE_BASE - 1].code;
    return strerror(e);
}
