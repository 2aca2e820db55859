/* s3/range: the Range request header, as S3 applies it (one range; bytes unit). */
#ifndef STRATA_S3_RANGE_H
#define STRATA_S3_RANGE_H
#include <stdint.h>

#include "core/str.h"

enum { RANGE_NONE = 0, RANGE_OK = 1 };

/* For an object of `size` bytes: RANGE_OK with [*first, *last] inclusive; RANGE_NONE when the
 * header should be ignored (absent or syntactically invalid: S3 then returns the whole
 * object); -SE_INVALID_RANGE when it is well-formed but unsatisfiable (416). */
int s3_range_parse(sv_t header, uint64_t size, uint64_t *first, uint64_t *last);

#endif
