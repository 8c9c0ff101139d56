#ifndef DRCTL_CZSTD_SHIM_H
#define DRCTL_CZSTD_SHIM_H
// libzstd for Swift: streaming, multi-threaded compression (Debian 12's libarchive
// zstd filter is single-threaded, so drctl compresses the tar stream itself).
// Headers and `static inline` wrappers only.
#include <zstd.h>

/// Sets a compression parameter; returns 0 on success, else a ZSTD error code.
static inline size_t drctl_zstd_set(ZSTD_CCtx *cctx, ZSTD_cParameter parameter, int value) {
    return ZSTD_CCtx_setParameter(cctx, parameter, value);
}

/// Reads back a compression parameter (to confirm multi-threading was accepted).
static inline int drctl_zstd_get(ZSTD_CCtx *cctx, ZSTD_cParameter parameter) {
    int value = -1;
    if (ZSTD_isError(ZSTD_CCtx_getParameter(cctx, parameter, &value))) return -1;
    return value;
}

#endif
