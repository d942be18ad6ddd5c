#ifndef CZSTD_SHIM_H
#define CZSTD_SHIM_H
/// ZSTD_c_nbWorkers and the frame-header helpers are in the "advanced" part of
/// the API in zstd < 1.5; asking for the static-linking-only section keeps the
/// declarations visible on every version Debian ships.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>
#endif
