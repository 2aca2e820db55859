/* One error convention for all of Strata.
 *
 * Functions return int: 0 on success, negative on failure. A failure is either -errno
 * (an OS error, reported to clients as InternalError) or -SE_xxx, a project code from the
 * reserved range >= SE_BASE. s3err_get() maps any such return to the S3 error code, HTTP
 * status and default message that clients see; the table below is the single place that
 * mapping lives. "Need more input" is not an error: parsers that resume return SE_AGAIN (> 0).
 */
#ifndef STRATA_CORE_ERR_H
#define STRATA_CORE_ERR_H

#define SE_AGAIN 1 /* a resumable parser needs more input; not an error */

/* X(name, S3 code, HTTP status, default message) */
#define STRATA_ERRORS(X)                                                                           \
    X(ACCESS_DENIED, "AccessDenied", 403, "Access Denied")                                         \
    X(ACCOUNT_PROBLEM, "AccountProblem", 403, "There is a problem with your account.")             \
    X(AUTH_HEADER_MALFORMED, "AuthorizationHeaderMalformed", 400,                                  \
      "The authorization header is malformed.")                                                    \
    X(AUTH_QUERY_MALFORMED, "AuthorizationQueryParametersError", 400,                              \
      "Error parsing the X-Amz-Credential parameter.")                                             \
    X(BAD_DIGEST, "BadDigest", 400, "The Content-MD5 you specified did not match what we received.") \
    X(BUCKET_EXISTS, "BucketAlreadyExists", 409,                                                   \
      "The requested bucket name is not available. The bucket namespace is shared by all users "  \
      "of the system. Please select a different name and try again.")                             \
    X(BUCKET_OWNED, "BucketAlreadyOwnedByYou", 409,                                                \
      "Your previous request to create the named bucket succeeded and you already own it.")       \
    X(BUCKET_NOT_EMPTY, "BucketNotEmpty", 409, "The bucket you tried to delete is not empty")      \
    X(ENTITY_TOO_LARGE, "EntityTooLarge", 400,                                                     \
      "Your proposed upload exceeds the maximum allowed size")                                    \
    X(ENTITY_TOO_SMALL, "EntityTooSmall", 400,                                                     \
      "Your proposed upload is smaller than the minimum allowed object size.")                    \
    X(MALFORMED_POST_REQUEST, "MalformedPOSTRequest", 400,                                         \
      "The body of your POST request is not well-formed multipart/form-data.")                     \
    X(POST_FILE_COUNT, "IncorrectNumberOfFilesInPostRequest", 400,                                 \
      "POST requires exactly one file upload per request.")                                        \
    X(INVALID_POLICY_DOCUMENT, "InvalidPolicyDocument", 400,                                       \
      "Invalid Policy: Invalid JSON.")                                                             \
    X(MAX_POST_PRE_DATA, "MaxPostPreDataLengthExceeded", 400,                                      \
      "Your POST request fields preceeding the upload file was too large.")                        \
    X(EXPIRED_TOKEN, "ExpiredToken", 400, "The provided token has expired.")                       \
    X(ILLEGAL_LOCATION, "IllegalLocationConstraintException", 400,                                 \
      "The unspecified location constraint is incompatible for the region specific endpoint "     \
      "this request was sent to.")                                                                 \
    X(INCOMPLETE_BODY, "IncompleteBody", 400,                                                      \
      "You did not provide the number of bytes specified by the Content-Length HTTP header.")     \
    X(INTERNAL, "InternalError", 500, "We encountered an internal error. Please try again.")       \
    X(INVALID_ACCESS_KEY, "InvalidAccessKeyId", 403,                                               \
      "The AWS Access Key Id you provided does not exist in our records.")                        \
    X(INVALID_ARGUMENT, "InvalidArgument", 400, "Invalid Argument")                                \
    X(INVALID_BUCKET_NAME, "InvalidBucketName", 400, "The specified bucket is not valid.")         \
    X(INVALID_BUCKET_STATE, "InvalidBucketState", 409,                                             \
      "The request is not valid with the current state of the bucket.")                           \
    X(INVALID_DIGEST, "InvalidDigest", 400, "The Content-MD5 you specified is not valid.")         \
    X(INVALID_LOCATION, "InvalidLocationConstraint", 400,                                          \
      "The specified location-constraint is not valid")                                           \
    X(INVALID_OBJECT_STATE, "InvalidObjectState", 403,                                             \
      "The operation is not valid for the object's storage class")                                \
    X(INVALID_PART, "InvalidPart", 400,                                                            \
      "One or more of the specified parts could not be found. The part may not have been "        \
      "uploaded, or the specified entity tag may not match the part's entity tag.")               \
    X(INVALID_PART_ORDER, "InvalidPartOrder", 400,                                                 \
      "The list of parts was not in ascending order. Parts must be ordered by part number.")      \
    X(INVALID_PART_NUMBER, "InvalidPartNumber", 416, "The requested partnumber is not satisfiable") \
    X(INVALID_RANGE, "InvalidRange", 416, "The requested range is not satisfiable")                \
    X(INVALID_REQUEST, "InvalidRequest", 400, "Invalid Request")                                   \
    X(INVALID_STORAGE_CLASS, "InvalidStorageClass", 400,                                           \
      "The storage class you specified is not valid")                                             \
    X(INVALID_TAG, "InvalidTag", 400, "The tag provided was not a valid tag.")                     \
    X(INVALID_URI, "InvalidURI", 400, "Couldn't parse the specified URI.")                         \
    X(KEY_TOO_LONG, "KeyTooLongError", 400, "Your key is too long")                                \
    X(MALFORMED_XML, "MalformedXML", 400,                                                          \
      "The XML you provided was not well-formed or did not validate against our published "       \
      "schema")                                                                                    \
    X(MALFORMED_POLICY, "MalformedPolicy", 400, "Policy has invalid resource")                     \
    X(MAX_MESSAGE_LENGTH, "MaxMessageLengthExceeded", 400, "Your request was too big.")            \
    X(METADATA_TOO_LARGE, "MetadataTooLarge", 400,                                                 \
      "Your metadata headers exceed the maximum allowed metadata size.")                          \
    X(METHOD_NOT_ALLOWED, "MethodNotAllowed", 405,                                                 \
      "The specified method is not allowed against this resource.")                               \
    X(MISSING_CONTENT_LENGTH, "MissingContentLength", 411,                                         \
      "You must provide the Content-Length HTTP header.")                                         \
    X(MISSING_BODY, "MissingRequestBodyError", 400, "Request Body is empty")                       \
    X(MISSING_SECURITY_HEADER, "MissingSecurityHeader", 400,                                       \
      "Your request was missing a required header")                                               \
    X(NO_SUCH_BUCKET, "NoSuchBucket", 404, "The specified bucket does not exist")                  \
    X(NO_SUCH_KEY, "NoSuchKey", 404, "The specified key does not exist.")                          \
    X(NO_SUCH_UPLOAD, "NoSuchUpload", 404,                                                         \
      "The specified multipart upload does not exist. The upload ID might be invalid, or the "    \
      "multipart upload might have been aborted or completed.")                                   \
    X(NO_SUCH_VERSION, "NoSuchVersion", 404,                                                       \
      "The specified version does not exist.")                                                    \
    X(NOT_IMPLEMENTED, "NotImplemented", 501,                                                      \
      "A header you provided implies functionality that is not implemented")                      \
    X(NOT_MODIFIED, "NotModified", 304, "Not Modified")                                            \
    X(OPERATION_ABORTED, "OperationAborted", 409,                                                  \
      "A conflicting conditional operation is currently in progress against this resource.")      \
    X(PRECONDITION_FAILED, "PreconditionFailed", 412,                                              \
      "At least one of the pre-conditions you specified did not hold")                            \
    X(REQUEST_HEADER_TOO_LARGE, "RequestHeaderSectionTooLarge", 400,                               \
      "Your request header section exceeds the maximum allowed size.")                            \
    X(REQUEST_TIMEOUT, "RequestTimeout", 400,                                                      \
      "Your socket connection to the server was not read from or written to within the timeout "  \
      "period.")                                                                                   \
    X(REQUEST_TIME_SKEWED, "RequestTimeTooSkewed", 403,                                            \
      "The difference between the request time and the server's time is too large.")              \
    X(SERVICE_UNAVAILABLE, "ServiceUnavailable", 503, "Please reduce your request rate.")          \
    X(SIGNATURE_MISMATCH, "SignatureDoesNotMatch", 403,                                            \
      "The request signature we calculated does not match the signature you provided. Check "     \
      "your key and signing method.")                                                             \
    X(SLOW_DOWN, "SlowDown", 503, "Please reduce your request rate.")                              \
    X(TOO_MANY_BUCKETS, "TooManyBuckets", 400,                                                     \
      "You have attempted to create more buckets than allowed")                                   \
    X(UNEXPECTED_CONTENT, "UnexpectedContent", 400,                                                \
      "This request does not support content")                                                    \
    X(CONTENT_SHA256_MISMATCH, "XAmzContentSHA256Mismatch", 400,                                   \
      "The provided 'x-amz-content-sha256' header does not match what was computed.")             \
    X(INVALID_TOKEN, "InvalidToken", 400,                                                          \
      "The provided token is malformed or otherwise invalid.")                                    \
    X(INVALID_CHECKSUM, "InvalidRequest", 400, "Value for x-amz-checksum header is invalid.")      \
    X(BAD_CHECKSUM, "BadDigest", 400,                                                              \
      "The checksum you specified did not match the calculated checksum.")                        \
    X(BAD_REQUEST, "BadRequest", 400, "Bad Request")                                               \
    X(NO_SUCH_TAG_SET, "NoSuchTagSet", 404, "The TagSet does not exist")                           \
    X(MALFORMED_TRAILER, "MalformedTrailerError", 400,                                             \
      "The request contained trailing data that was not well-formed or did not conform to our "   \
      "published schema.")                                                                         \
    X(INVALID_VERSION_ID, "InvalidArgument", 400, "Invalid version id specified")                 \
    X(ILLEGAL_VERSIONING, "IllegalVersioningConfigurationException", 400,                          \
      "The Versioning element must be specified")                                                 \
    X(CORRUPT, "InternalError", 500, "We encountered an internal error. Please try again.")        \
    X(MALFORMED_POLICY_DOCUMENT, "MalformedPolicyDocument", 400,                                   \
      "The policy document is malformed.")                                                         \
    X(POLICY_LIMIT_EXCEEDED, "LimitExceeded", 409, "Cannot exceed quota for PolicySize.")         \
    X(ACL_NOT_SUPPORTED, "AccessControlListNotSupported", 400, "The bucket does not allow ACLs")   \
    X(NO_SUCH_BUCKET_POLICY, "NoSuchBucketPolicy", 404, "The bucket policy does not exist")        \
    X(NO_SUCH_PAB, "NoSuchPublicAccessBlockConfiguration", 404,                                    \
      "The public access block configuration was not found")                                      \
    X(NO_SUCH_OWNERSHIP, "OwnershipControlsNotFoundError", 404,                                    \
      "The bucket ownership controls were not found")                                             \
    X(UNRESOLVABLE_GRANT, "UnresolvableGrantByEmailAddress", 400,                                  \
      "The email address you provided does not match any account on record.")                     \
    X(INVALID_BUCKET_ACL_OWNERSHIP, "InvalidBucketAclWithObjectOwnership", 400,                    \
      "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")           \
    X(MALFORMED_ACL, "MalformedACLError", 400,                                                     \
      "The XML you provided was not well-formed or did not validate against our published "       \
      "schema")                                                                                    \
    X(CORS_FORBIDDEN, "AccessForbidden", 403, "CORSResponse: CORS is not enabled for this bucket.")

enum strata_err {
    SE_BASE = 1000,
#define SE_ENUM_(name, code, status, msg) SE_##name,
    STRATA_ERRORS(SE_ENUM_)
#undef SE_ENUM_
        SE_LAST
};

struct s3err {
    const char *code;    /* S3 error code, e.g. "NoSuchKey" */
    int status;          /* HTTP status */
    const char *message; /* default message */
};

/* Maps a negative return (-errno or -SE_xxx) to its S3 error. Never NULL: unknown codes and
 * OS errors map to InternalError. */
const struct s3err *s3err_get(int rc);

/* Short human name for a return code, for logs ("NoSuchKey", "ENOENT: No such file ..."). */
const char *strata_strerror(int rc);

#endif
