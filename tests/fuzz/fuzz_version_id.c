/* libFuzzer: the version-id decoder (ls_vid_decode), which reads ?versionId=, VersionId in
 * DeleteObjects bodies, x-amz-copy-source's ?versionId and version-id-marker. Checks that it
 * never reads past the input, accepts only ids the encoder can make, and that an accepted id
 * round-trips through the encoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "store/local/local_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1); /* exact size: ASan catches any over-read */
    memcpy(s, data, size);
    uint64_t vseq = 0;
    int rc = ls_vid_decode(s, size, &vseq);
    if (rc == 0) {
        uint8_t rnd[8];
        for (int i = 0; i < 8; i++) { /* the random half, from the hex we accepted */
            unsigned hi = (unsigned)s[16 + 2 * i], lo = (unsigned)s[17 + 2 * i];
            hi = hi <= '9' ? hi - '0' : hi - 'a' + 10;
            lo = lo <= '9' ? lo - '0' : lo - 'a' + 10;
            rnd[i] = (uint8_t)(hi << 4 | lo);
        }
        char back[LS_VID_LEN + 1];
        ls_vid_encode(vseq, rnd, back);
        if (size != LS_VID_LEN || vseq == 0 || memcmp(back, s, LS_VID_LEN) != 0)
            abort();
    } else if (rc != -SE_INVALID_VERSION_ID) {
        abort();
    }
    free(s);
    return 0;
}
