/* libFuzzer: s3_range_parse. Input: 8 bytes of object size (little-endian; the top byte also
 * chooses a small size half the time so clamping paths are reached), then the header. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "s3/range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t osize = 0;
    if (size < 8)
        return 0;
    for (int i = 0; i < 8; i++)
        osize |= (uint64_t)data[i] << (8 * i);
    if (data[7] & 0x80)
        osize = data[0] % 64;
    char *h = malloc(size - 8 ? size - 8 : 1);
    memcpy(h, data + 8, size - 8);
    uint64_t first = 0, last = 0;
    int rc = s3_range_parse((sv_t){h, size - 8}, osize, &first, &last);
    if (rc == RANGE_OK && !(first <= last && last < osize))
        abort();
    if (rc != RANGE_OK && rc != RANGE_NONE && rc != -SE_INVALID_RANGE)
        abort();
    free(h);
    return 0;
}
